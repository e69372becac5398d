import type { SseContext, SseMessage } from '$lib/stream/server';
import { follow, type ResetEvent } from '../bus/follow';
import { runtime } from '../runtime';
import { FILES_TOPIC, type FileInfo } from './store';

/** Who may hear of a file's change: its owner, everyone when public, members of these rooms. */
export interface Audience {
	ownerId: number;
	isPublic: boolean;
	roomIds: number[];
}

/** What the files stream sends a client (each event only to users who may see that file). */
export type FileEvents = {
	created: FileInfo;
	shared: { file: FileInfo; room: { id: number; name: string } };
	updated: FileInfo;
	removed: { id: string };
} & ResetEvent;

/**
 * What goes on the bus: the client's data, plus the audience where the file alone can't tell it.
 * An update carries the audience before it too: whoever could see the file then but not now gets
 * `removed` instead (and nothing more about it).
 */
export type FileBusEvents = {
	created: FileInfo;
	shared: FileEvents['shared'];
	updated: { file: FileInfo; audience: Audience; before: Audience };
	removed: { id: string; audience: Audience };
} & ResetEvent;

/** Publishes one file event on FILES_TOPIC. */
export function publish<K extends keyof FileBusEvents>(type: K, data: FileBusEvents[K]): Promise<string> {
	return runtime().bus.publish(FILES_TOPIC, { type, data });
}

async function inAnyRoom(userId: number, roomIds: number[]): Promise<boolean> {
	if (roomIds.length === 0) return false;
	const row = await runtime()
		.store.db.selectFrom('room_members')
		.select('room_id')
		.where('user_id', '=', userId)
		.where('room_id', 'in', roomIds)
		.executeTakeFirst();
	return row !== undefined;
}

async function mayHear(userId: number, audience: Audience): Promise<boolean> {
	return audience.ownerId === userId || audience.isPublic || inAnyRoom(userId, audience.roomIds);
}

/** The message as this user may get it, or null when it is about a file they may not see. */
async function forUser(userId: number, message: SseMessage<FileBusEvents>): Promise<SseMessage<FileEvents> | null> {
	const { event, data } = message as { event?: keyof FileBusEvents; data: never };
	const pass = (out: unknown) => ({ ...message, data: out }) as SseMessage<FileEvents>;
	if (event === 'created') {
		const info = data as FileInfo;
		return info.owner.id === userId || info.isPublic ? message as SseMessage<FileEvents> : null;
	}
	if (event === 'shared') return (await inAnyRoom(userId, [(data as FileEvents['shared']).room.id])) ? pass(data) : null;
	if (event === 'updated') {
		const { file, audience, before } = data as FileBusEvents['updated'];
		if (await mayHear(userId, audience)) return pass(file);
		if (await mayHear(userId, before)) return { id: message.id, event: 'removed', data: { id: file.id } };
		return null;
	}
	if (event === 'removed') {
		const { audience, id } = data as FileBusEvents['removed'];
		return (await mayHear(userId, audience)) ? pass({ id }) : null;
	}
	return message as SseMessage<FileEvents>;
}

/**
 * One user's live view of the files topic (replay by Last-Event-ID, then live), keeping only
 * events about files that user may see; a change that took a file away from them (made private)
 * reaches them as `removed`, with its id only.
 * @example sse<FileEvents>(request, (ctx) => files.stream(locals.user, ctx));
 */
export async function stream(user: { id: number }, ctx: SseContext): Promise<AsyncIterable<SseMessage<FileEvents>>> {
	const source = await follow<FileBusEvents>(FILES_TOPIC, ctx);
	return (async function* () {
		for await (const message of source) {
			const out = await forUser(user.id, message);
			if (out) yield out;
		}
	})();
}

import { unlink } from 'node:fs/promises';
import { HttpError } from '../errors';
import { runtime } from '../runtime';
import { get, notFound, checkId, storedPath, type FileView, type Viewer } from './access';
import { publish, type Audience } from './events';

/** Hears that a file was shared into a room (the chat feature posts a line there). */
export type SharedListener = (event: { file: FileView; room: { id: number; name: string }; by: Viewer }) => void | Promise<void>;

const sharedListeners = new Set<SharedListener>();

/**
 * Registers a listener for shares; returns the function that removes it. A failing listener is
 * logged and does not undo the share.
 * @example onShared(({ file, room }) => chat.system(room.id, `${file.owner.name} shared ${file.name}`));
 */
export function onShared(listener: SharedListener): () => void {
	sharedListeners.add(listener);
	return () => sharedListeners.delete(listener);
}

/** The file row when the user owns it; 404 otherwise (a viewer who is not the owner learns nothing new). */
async function owned(user: Viewer, id: string) {
	const row = await runtime().store.db.selectFrom('files').selectAll().where('id', '=', checkId(id)).where('owner_id', '=', user.id).executeTakeFirst();
	if (!row) throw notFound();
	return row;
}

async function audienceOf(fileId: string, ownerId: number, isPublic: boolean): Promise<Audience> {
	const rooms = await runtime().store.db.selectFrom('file_shares').select('room_id').where('file_id', '=', fileId).execute();
	return { ownerId, isPublic, roomIds: rooms.map((r) => r.room_id) };
}

/** Checks a room id from a request body; 400 otherwise. */
export function roomIdOf(value: unknown): number {
	if (!Number.isSafeInteger(value) || (value as number) < 1) throw new HttpError(400, 'Send "roomId" as a room id (a whole number).');
	return value as number;
}

/**
 * Shares the user's file into a room they are a member of (idempotent); its members may then see
 * and download it. A room the owner is not in (or that is closed or missing) is 404 "No such room.".
 */
export async function share(user: Viewer, id: string, input: { roomId: number }): Promise<FileView> {
	const file = await owned(user, id);
	const { db } = runtime().store;
	const room = await db
		.selectFrom('rooms as r')
		.innerJoin('room_members as m', 'm.room_id', 'r.id')
		.select(['r.id', 'r.name'])
		.where('r.id', '=', input.roomId)
		.where('m.user_id', '=', user.id)
		.where('r.closed_at', 'is', null)
		.executeTakeFirst();
	if (!room) throw new HttpError(404, 'No such room.');
	const inserted = await db
		.insertInto('file_shares')
		.values({ file_id: file.id, room_id: room.id, shared_by: user.id, shared_at: Date.now() })
		.onConflict((oc) => oc.columns(['file_id', 'room_id']).doNothing())
		.executeTakeFirst();
	const view = await get(user, file.id);
	if (Number(inserted.numInsertedOrUpdatedRows ?? 0) > 0) {
		const { sharedInto, ...info } = view;
		void sharedInto;
		await publish('shared', { file: info, room });
		for (const listener of sharedListeners) {
			await Promise.resolve(listener({ file: view, room, by: user })).catch((error) => runtime().log.error({ err: error }, 'onShared listener failed'));
		}
	}
	return view;
}

/**
 * Makes the user's file visible to every signed-in user, or not; users who can no longer see it
 * hear `removed`, the others `updated`.
 */
export async function setPublic(user: Viewer, id: string, isPublic: boolean): Promise<FileView> {
	const file = await owned(user, id);
	await runtime().store.db.updateTable('files').set({ is_public: isPublic ? 1 : 0 }).where('id', '=', file.id).execute();
	const view = await get(user, file.id);
	const wasPublic = file.is_public === 1;
	if (wasPublic !== isPublic) {
		const { sharedInto, ...info } = view;
		void sharedInto;
		const audience = await audienceOf(file.id, user.id, isPublic);
		await publish('updated', { file: info, audience, before: { ...audience, isPublic: wasPublic } });
	}
	return view;
}

/** Deletes the user's file: its shares, its record and the stored bytes. */
export async function remove(user: Viewer, id: string): Promise<void> {
	const file = await owned(user, id);
	const audience = await audienceOf(file.id, user.id, file.is_public === 1);
	await runtime()
		.store.db.transaction()
		.execute(async (trx) => {
			await trx.deleteFrom('file_shares').where('file_id', '=', file.id).execute();
			await trx.deleteFrom('files').where('id', '=', file.id).execute();
		});
	const path = storedPath(file.stored);
	if (path) await unlink(path).catch((error) => (error.code === 'ENOENT' ? undefined : Promise.reject(error)));
	await publish('removed', { id: file.id, audience });
}

import { sql } from 'kysely';
import type { ChatMessage, ChatUser, MessageKind } from '$lib/shared/chat';
import { runtime } from '../runtime';
import * as access from './access';
import { roomChannel, sockets } from './channels';
import { ChatError } from './errors';
import { notifyMentions } from './mentions';
import { chatState, inRoomOrder } from './state';
import * as validate from './validate';

/** What a new message or system line is made of. */
export interface NewMessage {
	roomId: number;
	author: ChatUser | null;
	kind: MessageKind;
	/** The text, or for `file` lines the file's name. */
	body: string;
	clientId?: string | null;
	fileId?: string | null;
	/** Runs in the room's line just before storing (not for a duplicate): throw (or reject) to refuse. */
	admit?: () => void | Promise<void>;
}

function selectMessages() {
	return runtime()
		.store.db.selectFrom('chat_messages as c')
		.leftJoin('users as u', 'u.id', 'c.user_id')
		.select(['c.room_id', 'c.seq', 'c.user_id', 'c.client_id', 'c.kind', 'c.body', 'c.file_id', 'c.created_at', 'u.name as author_name']);
}

type Row = Awaited<ReturnType<ReturnType<typeof selectMessages>['executeTakeFirstOrThrow']>>;

const SENTENCES: Record<Exclude<MessageKind, 'text'>, (who: string, body: string) => string> = {
	join: (who) => `${who} joined`,
	leave: (who) => `${who} left`,
	file: (who, body) => `${who} shared ${body}`,
	closed: (who) => `${who} closed the room`
};

function view(row: Row): ChatMessage {
	const author = row.user_id !== null && row.author_name !== null ? { id: row.user_id, name: row.author_name } : null;
	return {
		roomId: row.room_id,
		id: Number(row.seq),
		kind: row.kind,
		author,
		text: row.kind === 'text' ? row.body : SENTENCES[row.kind](author?.name ?? 'Someone', row.body),
		file: row.kind === 'file' && row.file_id ? { id: row.file_id, name: row.body } : null,
		clientId: row.client_id,
		created: Number(row.created_at)
	};
}

/**
 * Stores a message under the room's next id and emits it to the room, in the room's one line; a
 * clientId the author used before returns that message (`duplicate`) and emits nothing.
 * @example await post({ roomId: 1, author: null, kind: 'text', body: 'hi' });
 */
export function post(input: NewMessage): Promise<{ message: ChatMessage; duplicate: boolean }> {
	const { db } = runtime().store;
	const clientId = input.clientId ?? null;
	return inRoomOrder(input.roomId, async () => {
		if (clientId !== null && input.author) {
			const stored = await selectMessages().where('c.user_id', '=', input.author.id).where('c.client_id', '=', clientId).executeTakeFirst();
			if (stored && stored.room_id !== input.roomId) throw new ChatError('This clientId was already used for a message in another room.');
			if (stored) return { message: view(stored), duplicate: true };
		}
		await input.admit?.();
		const created = Date.now();
		let seq: number;
		try {
			seq = await db.transaction().execute(async (trx) => {
				const counter = await trx
					.insertInto('chat_room_seqs')
					.values({ room_id: input.roomId, last_seq: 1 })
					.onConflict((oc) => oc.column('room_id').doUpdateSet({ last_seq: sql`chat_room_seqs.last_seq + 1` }))
					.returning('last_seq')
					.executeTakeFirstOrThrow();
				const next = Number(counter.last_seq);
				await trx
					.insertInto('chat_messages')
					.values({
						room_id: input.roomId,
						seq: next,
						user_id: input.author?.id ?? null,
						client_id: clientId,
						kind: input.kind,
						body: input.body,
						file_id: input.fileId ?? null,
						created_at: created
					})
					.execute();
				return next;
			});
		} catch (error) {
			if (clientId !== null && /unique/i.test(String(error))) throw new ChatError('This clientId was already used for another message.');
			throw error;
		}
		const message = view({
			room_id: input.roomId,
			seq,
			user_id: input.author?.id ?? null,
			client_id: clientId,
			kind: input.kind,
			body: input.body,
			file_id: input.fileId ?? null,
			created_at: created,
			author_name: input.author?.name ?? null
		});
		sockets()?.to(roomChannel(input.roomId)).emit('message:new', message);
		return { message, duplicate: false };
	});
}

/** Posts a system line (joined, left, shared a file, closed) by `author` into a room. */
export async function system(roomId: number, author: ChatUser, kind: Exclude<MessageKind, 'text'>, body = '', fileId: string | null = null): Promise<ChatMessage> {
	return (await post({ roomId, author, kind, body, fileId })).message;
}

/**
 * Sends a user's message into a room they are in: validated, rate limited (a retry of a stored
 * clientId is not counted), stored once, then @mentioned members are notified.
 */
export async function send(user: ChatUser, input: unknown): Promise<{ message: ChatMessage; duplicate: boolean }> {
	const raw = validate.fields(input, ['roomId', 'clientId', 'text'], '{ roomId, clientId, text }');
	const roomId = validate.roomId(raw.roomId);
	const clientId = validate.clientId(raw.clientId);
	const text = validate.text(raw.text);
	const room = await access.member(user.id, roomId);
	const admit = async () => {
		const wait = await chatState().sends.take(String(user.id));
		if (wait > 0) throw new ChatError(`You are sending too fast: wait ${Math.ceil(wait / 1000)} s and try again.`, wait);
	};
	const result = await post({ roomId, author: user, kind: 'text', body: text, clientId, admit });
	if (!result.duplicate) {
		void notifyMentions(room, result.message).catch((error) => runtime().log.error({ err: error }, 'chat mention notifications failed'));
	}
	return result;
}

/**
 * A page of a room's messages, oldest first: the newest, those before an id, or those after one;
 * `more` is true when the page stopped short of the start (or, going forward, of the end).
 */
export async function list(user: ChatUser, input: unknown): Promise<{ messages: ChatMessage[]; more: boolean }> {
	const raw = validate.fields(input, ['roomId', 'before', 'after', 'limit'], '{ roomId, before?, after?, limit? }');
	const roomId = validate.roomId(raw.roomId);
	const before = raw.before === undefined ? undefined : validate.messageId(raw.before, 'before');
	const after = raw.after === undefined ? undefined : validate.messageId(raw.after, 'after');
	const limit = validate.limit(raw.limit);
	if (before !== undefined && after !== undefined) throw new ChatError('Give before or after, not both.');
	await access.member(user.id, roomId);
	let query = selectMessages().where('c.room_id', '=', roomId);
	if (after !== undefined) {
		const rows = await query.where('c.seq', '>', after).orderBy('c.seq', 'asc').limit(limit + 1).execute();
		return { messages: rows.slice(0, limit).map(view), more: rows.length > limit };
	}
	if (before !== undefined) query = query.where('c.seq', '<', before);
	const rows = await query.orderBy('c.seq', 'desc').limit(limit + 1).execute();
	return { messages: rows.slice(0, limit).reverse().map(view), more: rows.length > limit };
}

/** The newest message id of a room (0 when it has none). */
export async function lastId(roomId: number): Promise<number> {
	const row = await runtime().store.db.selectFrom('chat_room_seqs').select('last_seq').where('room_id', '=', roomId).executeTakeFirst();
	return row ? Number(row.last_seq) : 0;
}

import type { ChatMessage, ChatUser, MessageKind } from '$lib/shared/chat';
import { syncOf } from '../db/compiled';
import { runtime } from '../runtime';
import * as access from './access';
import { roomBroadcast, roomChannel } from './channels';
import { ChatError } from './errors';
import { notifyMentions } from './mentions';
import { findByClientIds, insertAll, openRoomMembers, selectMessages, storeNow, view, type Row } from './message-rows';
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
	/** Stored only if the author is a member of the room and it is open, as the store says in the room's line. */
	fromMember?: boolean;
	/** Runs in the room's line just before storing (not for a duplicate): throw (or reject) to refuse. */
	admit?: () => void | Promise<void>;
}

/** A post's outcome: the stored message, and whether it was stored before (a retry). */
export type Posted = { message: ChatMessage; duplicate: boolean };

interface PendingPost {
	input: NewMessage;
	resolve: (posted: Posted) => void;
	reject: (error: unknown) => void;
}

// Posts waiting for their room's next write, per room. On globalThis: see runtime.ts.
const PENDING = Symbol.for('runnel.chat.pending-posts');
const pending = ((globalThis as Record<symbol, unknown>)[PENDING] ??= new Map<number, PendingPost[]>()) as Map<number, PendingPost[]>;

/**
 * Stores a message under the room's next id and emits it to the room, in the room's one line; a
 * clientId the author used before returns that message (`duplicate`) and emits nothing. Posts to
 * one room that arrive in the same turn of the event loop (a busy room: many sockets read at once)
 * are stored in one transaction and emitted in order: one write instead of one each.
 * @example await post({ roomId: 1, author: null, kind: 'text', body: 'hi' });
 */
export function post(input: NewMessage): Promise<Posted> {
	return new Promise((resolve, reject) => {
		let queue = pending.get(input.roomId);
		if (!queue) {
			pending.set(input.roomId, (queue = []));
			// After this turn's other reads (setImmediate runs once the poll phase is done).
			setImmediate(() => {
				pending.delete(input.roomId);
				inRoomOrder(input.roomId, () => storeAll(input.roomId, queue!)).catch(() => {});
			});
		}
		queue.push({ input, resolve, reject });
	});
}

/** What names a post's clientId among its author's (`<author id>:<clientId>`), or null without one. */
function clientKey({ author, clientId }: { author: ChatUser | null; clientId?: string | null }): string | null {
	return author && clientId != null ? `${author.id}:${clientId}` : null;
}

/** The stored message of each (author, clientId) of the batch that was used before, by clientKey. */
async function storedBefore(batch: PendingPost[]): Promise<Map<string, Row>> {
	const pairs = batch.filter(({ input }) => clientKey(input) !== null).map(({ input }) => ({ userId: input.author!.id, clientId: input.clientId! }));
	const found = new Map<string, Row>();
	if (pairs.length) for (const row of await findByClientIds(pairs)) found.set(`${row.user_id}:${row.client_id}`, row); // clientKey of the row's post
	return found;
}

/** Why a post `fromMember` is refused: what access.member says, now that the store said no. */
async function notMember(userId: number, roomId: number): Promise<unknown> {
	return access.member(userId, roomId).then(
		() => new ChatError('You are not in this room: join it first.'),
		(error: unknown) => error
	);
}

/**
 * One room's batch, in order: retries answered with what is stored, each new post admitted (or
 * refused) in turn, the admitted stored together under consecutive ids, then emitted in order.
 * Posts `fromMember` are checked against the store here, in the room's line, with one query for
 * the batch: whichever channels a sender's socket is in, a member who left or a closed room posts nothing.
 */
async function storeAll(roomId: number, batch: PendingPost[]): Promise<void> {
	try {
		const stored = await storedBefore(batch);
		const authors = new Set<number>();
		for (const { input } of batch) if (input.fromMember && input.author) authors.add(input.author.id);
		const members = authors.size ? await openRoomMembers(roomId, [...authors]) : authors;
		const fresh: PendingPost[] = [];
		/** Later posts of the batch that repeat an earlier one's clientId: answered with its message. */
		const repeats = new Map<string, PendingPost[]>();
		for (const item of batch) {
			const { input } = item;
			const key = clientKey(input);
			const before = key ? stored.get(key) : undefined;
			if (before) {
				if (before.room_id !== roomId) item.reject(new ChatError('This clientId was already used for a message in another room.'));
				else item.resolve({ message: view(before), duplicate: true });
				continue;
			}
			if (key && repeats.has(key)) {
				repeats.get(key)!.push(item);
				continue;
			}
			if (input.fromMember && !members.has(input.author?.id ?? 0)) {
				item.reject(await notMember(input.author?.id ?? 0, roomId));
				continue;
			}
			try {
				await input.admit?.();
			} catch (error) {
				item.reject(error);
				continue;
			}
			if (key) repeats.set(key, []);
			fresh.push(item);
		}
		if (!fresh.length) return;
		let messages: ChatMessage[];
		try {
			messages = await insertAll(roomId, fresh.map((item) => item.input));
		} catch (error) {
			// A clientId stored meanwhile by another instance (or any other refusal): each on its own.
			if (fresh.length === 1) return await settleRefused(fresh[0], error, repeats);
			for (const item of fresh) {
				await insertAll(roomId, [item.input]).then(
					([message]) => emitted(item, message, repeats),
					(refusal: unknown) => settleRefused(item, refusal, repeats)
				);
			}
			return;
		}
		fresh.forEach((item, i) => emitted(item, messages[i], repeats));
	} catch (error) {
		for (const item of batch) item.reject(error); // a settled promise ignores this
	}
}

/** Emits a stored message to its room and answers its post (and any repeat of it in the batch). */
function emitted(item: PendingPost, message: ChatMessage, repeats: Map<string, PendingPost[]>): void {
	if (emits.length) emitStored();
	roomBroadcast(message.roomId)?.emit('message:new', message);
	item.resolve({ message, duplicate: false });
	for (const repeat of repeatsOf(item, repeats) ?? []) repeat.resolve({ message, duplicate: true });
}

/**
 * Answers a post the store refused: a clientId that another instance stored meanwhile in this room
 * (the same send retried through it after a failover) gets that message as a duplicate; anything
 * else gets the refusal.
 */
async function settleRefused(item: PendingPost, refusal: unknown, repeats: Map<string, PendingPost[]>): Promise<void> {
	const key = clientKey(item.input);
	const row =
		key && (refusal as Error)?.name === 'ChatError' ? (await storedBefore([item]).catch(() => new Map<string, Row>())).get(key) : undefined;
	for (const each of [item, ...(repeatsOf(item, repeats) ?? [])]) {
		if (row && row.room_id === item.input.roomId) each.resolve({ message: view(row), duplicate: true });
		else each.reject(refusal);
	}
}

function repeatsOf(item: PendingPost, repeats: Map<string, PendingPost[]>): PendingPost[] | undefined {
	const key = clientKey(item.input);
	return key ? repeats.get(key) : undefined;
}

/** Posts a system line (joined, left, shared a file, closed) by `author` into a room. */
export async function system(roomId: number, author: ChatUser, kind: Exclude<MessageKind, 'text'>, body = '', fileId: string | null = null): Promise<ChatMessage> {
	return (await post({ roomId, author, kind, body, fileId })).message;
}

/**
 * Sends a user's message into a room they are in: validated, rate limited (a retry of a stored
 * clientId is not counted), stored once, then @mentioned members are notified. `channels` are
 * those of the sending socket: in the room's channel (joins, leaves and closes move sockets in and
 * out of it), nothing is asked of the store up front; either way the post is stored only if the
 * store, in the room's line, still has the sender as a member of the open room.
 */
export async function send(user: ChatUser, input: unknown, channels?: ReadonlySet<string>): Promise<Posted> {
	const { roomId, clientId, text } = readSend(input);
	if (!channels?.has(roomChannel(roomId))) await access.member(user.id, roomId);
	const admit = async () => refuseOver(await chatState().sends.take(String(user.id)));
	const result = await post({ roomId, author: user, kind: 'text', body: text, clientId, fromMember: true, admit });
	if (!result.duplicate) mentioned(result.message);
	return result;
}

/**
 * send(), synchronously, for the usual case on the embedded store: SQLite free to write, rate
 * limits counted in this process, nothing of the room's in line, a socket in the room's channel, a
 * new clientId from a member of the open room. Then the message is stored before this returns,
 * with no promise in between (a busy room's latency is set by that), and emitted at the end of the
 * turn, then `sent` is called. Anything else gives undefined before anything is counted or stored:
 * send() answers it. A bad payload or a sender over the rate throws its ChatError.
 * @example if (!sendNow(user, input, socket.rooms, (posted) => ack(posted))) ack(await send(user, input, socket.rooms));
 */
export function sendNow(user: ChatUser, input: unknown, channels: ReadonlySet<string>, sent?: (posted: Posted) => void): Posted | undefined {
	const { roomId, clientId, text } = readSend(input);
	const rt = runtime();
	const { sends, tails } = chatState(rt);
	const takeNow = sends.takeNow?.bind(sends);
	const sync = syncOf(rt.store.db);
	if (!takeNow || !sync || pending.has(roomId) || tails.has(roomId) || !channels.has(roomChannel(roomId))) return undefined;
	const message = storeNow(sync, roomId, { author: user, kind: 'text', body: text, clientId }, () => refuseOver(takeNow(String(user.id))));
	if (!message) return undefined;
	const posted = { message, duplicate: false };
	emitSoon(message, sent && (() => sent(posted)));
	mentioned(message);
	return posted;
}

/**
 * Messages sendNow stored this turn, emitted at its end (setImmediate: after the turn's other
 * reads) in id order, each followed by its sender's ack: a busy room's broadcasts go out back to
 * back, and each socket's writes of a turn leave together. On globalThis: see runtime.ts.
 */
const EMITS = Symbol.for('runnel.chat.emits');
const emits = ((globalThis as Record<symbol, unknown>)[EMITS] ??= []) as { message: ChatMessage; then?: () => void }[];

function emitSoon(message: ChatMessage, then?: () => void): void {
	if (emits.push({ message, then }) === 1) setImmediate(emitStored);
}

/** Emits what sendNow stored (the general way calls it first too, so a room's messages never go out of id order). */
function emitStored(): void {
	for (const { message, then } of emits.splice(0)) {
		try {
			roomBroadcast(message.roomId)?.emit('message:new', message);
			then?.();
		} catch (error) {
			// The rest still go out; this one is stored, and its sender's retry is answered as a duplicate.
			runtime().log.error({ err: error, roomId: message.roomId, id: message.id }, 'chat: could not emit a stored message');
		}
	}
}

/** A message:send payload, validated. */
function readSend(input: unknown): { roomId: number; clientId: string; text: string } {
	const raw = validate.fields(input, ['roomId', 'clientId', 'text'], '{ roomId, clientId, text }');
	return { roomId: validate.roomId(raw.roomId), clientId: validate.clientId(raw.clientId), text: validate.text(raw.text) };
}

/** Throws the sender's rate error when the limiter says wait. */
function refuseOver(wait: number): void {
	if (wait > 0) throw new ChatError(`You are sending too fast: wait ${Math.ceil(wait / 1000)} s and try again.`, wait);
}

/** Notifies whoever a new message @mentions (in the background; a failure is logged). */
function mentioned(message: ChatMessage): void {
	if (message.text.includes('@')) void notifyMentions(message).catch((error) => runtime().log.error({ err: error }, 'chat mention notifications failed'));
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

import type { Socket } from 'socket.io';
import type { ChatUser } from '$lib/shared/chat';
import type { ClientToServerEvents, ServerToClientEvents, SocketData } from '$lib/shared/socket-events';
import * as analytics from '../analytics';
import { runtime } from '../runtime';
import { roomIdsOf } from './access';
import { roomChannel } from './channels';
import * as messages from './messages';
import * as presence from './presence';
import * as rooms from './rooms';
import { chatState } from './state';
import * as validate from './validate';

/** A server-side socket of the app. */
export type AppSocket = Socket<ClientToServerEvents, ServerToClientEvents, Record<string, never>, SocketData>;

type AckedEvent = Exclude<keyof ClientToServerEvents, 'typing:start' | 'ping'>;

/** Typing signals from one user in one room go out at most this often. */
const TYPING_GAP_MS = 1000;

/** The ack for an error: a ChatError's sentence, or (logged) a generic one. By name: it may come from the other bundle. */
function failure(error: unknown): { ok: false; error: string; retryAfter?: number } {
	if ((error as Error)?.name === 'ChatError') {
		const { message, retryAfter } = error as Error & { retryAfter?: number };
		return retryAfter === undefined ? { ok: false, error: message } : { ok: false, error: message, retryAfter };
	}
	runtime().log.error({ err: error }, 'chat event failed');
	return { ok: false, error: 'Something went wrong on the server; try again.' };
}

/**
 * Sockets whose rooms are still being looked up, with the lookup: their events wait for it. A
 * socket leaves the map once in its rooms (a failed one stays: it is being disconnected), so a
 * connected socket keeps no promise or closure of chat's.
 */
const entering = new WeakMap<AppSocket, Promise<void>>();

/** Puts the socket in the channels of the user's rooms (and out of any it left while away), then counts it online. */
async function enterRooms(socket: AppSocket): Promise<void> {
	const { user } = socket.data;
	const wanted = new Set((await roomIdsOf(user.id)).map(roomChannel));
	// A recovered socket comes back with the rooms it had: drop those the user left meanwhile.
	for (const room of socket.rooms) if (room.startsWith('room:') && !wanted.has(room)) socket.leave(room);
	socket.join([...wanted]);
	presence.connected(user, [...wanted].map((room) => Number(room.slice(5))));
	entering.delete(socket);
}

function typing(socket: AppSocket, input: unknown): void {
	let roomId: number;
	try {
		roomId = validate.roomId(validate.fields(input, ['roomId'], '{ roomId }').roomId);
	} catch {
		return; // volatile and unacknowledged: a bad signal is simply dropped
	}
	const channel = roomChannel(roomId);
	if (!socket.rooms.has(channel)) return;
	const { user } = socket.data;
	const state = chatState();
	const key = `${user.id}:${roomId}`;
	const now = Date.now();
	if (now - (state.typing.get(key) ?? 0) < TYPING_GAP_MS) return;
	state.typing.set(key, now);
	if (state.typing.size > 10_000) for (const [k, at] of state.typing) if (now - at > TYPING_GAP_MS) state.typing.delete(k);
	socket.to(channel).volatile.emit('typing:started', { roomId, user });
}

/** What answers each acknowledged chat event; defined once, looked up per event (no closures per socket). */
const HANDLERS: Record<AckedEvent, (user: ChatUser, input: unknown, socket: AppSocket) => Promise<object>> = {
	'rooms:list': (user) => rooms.list(user),
	'room:create': rooms.create,
	'room:join': rooms.join,
	'room:leave': rooms.leave,
	'room:close': rooms.close,
	'invite:send': rooms.invite,
	'members:list': rooms.members,
	'read:mark': rooms.markRead,
	'messages:list': messages.list,
	'message:send': (user, input, socket) => messages.send(user, input, socket.rooms)
};

async function answer(socket: AppSocket, event: AckedEvent, args: unknown[]): Promise<void> {
	const ack = typeof args.at(-1) === 'function' ? (args.pop() as (reply: object) => void) : undefined;
	const { user } = socket.data;
	let reply: object;
	try {
		const pending = entering.get(socket);
		if (pending) await pending;
		const result = await HANDLERS[event](user, args[0], socket);
		reply = { ok: true, ...result };
		if (event === 'message:send') counted(socket, result as messages.Posted);
	} catch (error) {
		reply = failure(error);
	}
	ack?.(reply);
}

/** A new message in the analytics (a retry's duplicate is not new). */
function counted(socket: AppSocket, { message, duplicate }: messages.Posted): void {
	if (!duplicate) void analytics.track({ metric: 'messages', value: message.text.length, userId: socket.data.user.id, userAgent: socket.request.headers['user-agent'] });
}

/**
 * message:send the synchronous way (messages.sendNow), acked once it is emitted at the end of this
 * turn; false when that way does not apply and answer() takes it.
 */
function sendNow(socket: AppSocket, args: unknown[]): boolean {
	const ack = args[1] as (reply: object) => void;
	if (args.length !== 2 || typeof ack !== 'function' || entering.has(socket)) return false;
	try {
		const result = messages.sendNow(socket.data.user, args[0], socket.rooms, (posted) => ack({ ok: true, ...posted }));
		if (!result) return false;
		counted(socket, result);
	} catch (error) {
		ack(failure(error));
	}
	return true;
}

/** Every event of a chat socket (`this`): one function for all of them, no closure per socket. */
function onEvent(this: AppSocket, event: string, ...args: unknown[]): void {
	if (event === 'message:send' && sendNow(this, args)) return;
	if (event === 'typing:start') {
		const pending = entering.get(this);
		if (pending) void pending.then(() => typing(this, args[0]), () => {});
		else typing(this, args[0]);
	} else if (Object.hasOwn(HANDLERS, event)) void answer(this, event as AckedEvent, args);
}

/** A chat socket (`this`) closed: counted offline once it had been counted online. */
function onDisconnect(this: AppSocket): void {
	const pending = entering.get(this);
	if (pending) void pending.then(() => presence.disconnected(this.data.user), () => {});
	else presence.disconnected(this.data.user);
}

/**
 * Connects an authenticated socket to chat: joins the channels of the user's rooms, counts them
 * online, and answers every chat event with `{ ok: true, … }` or `{ ok: false, error }`; other
 * events are ignored. The listener is registered at once (events that arrive while the rooms are
 * looked up wait for it).
 * @example io.on('connection', (socket) => chat.connect(socket));
 */
export function connect(socket: AppSocket): void {
	const pending = enterRooms(socket);
	entering.set(socket, pending);
	pending.catch((error) => {
		runtime().log.error({ err: error }, 'chat: could not enter rooms');
		socket.disconnect(true);
	});
	socket.onAny(onEvent);
	socket.on('disconnect', onDisconnect);
}

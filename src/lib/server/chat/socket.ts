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

/** Puts the socket in the channels of the user's rooms (and out of any it left while away), then counts it online. */
async function enterRooms(socket: AppSocket, user: ChatUser): Promise<void> {
	const wanted = new Set((await roomIdsOf(user.id)).map(roomChannel));
	// A recovered socket comes back with the rooms it had: drop those the user left meanwhile.
	for (const room of socket.rooms) if (room.startsWith('room:') && !wanted.has(room)) socket.leave(room);
	socket.join([...wanted]);
	presence.connected(user, [...wanted].map((room) => Number(room.slice(5))));
}

function typing(socket: AppSocket, user: ChatUser, input: unknown): void {
	let roomId: number;
	try {
		roomId = validate.roomId(validate.fields(input, ['roomId'], '{ roomId }').roomId);
	} catch {
		return; // volatile and unacknowledged: a bad signal is simply dropped
	}
	const channel = roomChannel(roomId);
	if (!socket.rooms.has(channel)) return;
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

async function answer(socket: AppSocket, ready: Promise<void>, event: AckedEvent, user: ChatUser, args: unknown[]): Promise<void> {
	const ack = typeof args.at(-1) === 'function' ? (args.pop() as (reply: object) => void) : undefined;
	let reply: object;
	try {
		await ready;
		const result = await HANDLERS[event](user, args[0], socket);
		reply = { ok: true, ...result };
		if (event === 'message:send' && !(result as { duplicate?: boolean }).duplicate) {
			const { message } = result as Awaited<ReturnType<typeof messages.send>>;
			void analytics.track({ metric: 'messages', value: message.text.length, userId: user.id, userAgent: socket.request.headers['user-agent'] });
		}
	} catch (error) {
		reply = failure(error);
	}
	ack?.(reply);
}

/**
 * Connects an authenticated socket to chat: joins the channels of the user's rooms, counts them
 * online, and answers every chat event with `{ ok: true, … }` or `{ ok: false, error }`; other
 * events are ignored. The listener is registered at once (events that arrive while the rooms are
 * looked up wait for it).
 * @example io.on('connection', (socket) => chat.connect(socket));
 */
export function connect(socket: AppSocket): void {
	const user = { id: socket.data.user.id, name: socket.data.user.name };
	const ready = enterRooms(socket, user);
	ready.catch((error) => {
		runtime().log.error({ err: error }, 'chat: could not enter rooms');
		socket.disconnect(true);
	});
	socket.onAny((event: string, ...args: unknown[]) => {
		if (event === 'typing:start') return void ready.then(() => typing(socket, user, args[0]), () => {});
		if (Object.hasOwn(HANDLERS, event)) void answer(socket, ready, event as AckedEvent, user, args);
	});
	socket.on('disconnect', () => void ready.then(() => presence.disconnected(user), () => {}));
}

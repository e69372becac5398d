import { io, type ManagerOptions, type Socket, type SocketOptions } from 'socket.io-client';
import type { ClientToServerEvents, ServerToClientEvents } from '../../src/lib/shared/socket-events';
import type { ChatMessage } from '../../src/lib/shared/chat';
import { catchUp, contiguousEnd, mergeMessages, type HistoryPage } from '../../src/lib/stream/client/chat-log';
import type { ArgsOf, ReplyOf } from '../../src/lib/stream/client/socket-call';

/** A typed Socket.IO client of the app. */
export type ChatSocket = Socket<ServerToClientEvents, ClientToServerEvents>;
type C = ClientToServerEvents;

/** A websocket client with a session cookie (it connects at once). */
export function chatSocket(url: string, cookie: string | null, options: Partial<ManagerOptions & SocketOptions> = {}): ChatSocket {
	return io(url, { transports: ['websocket'], extraHeaders: cookie ? { cookie } : {}, reconnectionDelay: 100, reconnectionDelayMax: 300, ...options });
}

/** Resolves once connected; rejects with the connect_error. */
export function connected(socket: ChatSocket): Promise<void> {
	if (socket.connected) return Promise.resolve();
	return new Promise((resolve, reject) => {
		socket.once('connect', () => resolve());
		socket.once('connect_error', reject);
	});
}

/** Emits an acknowledged event and resolves with the reply (rejects after 5 s without one). */
export function ask<K extends keyof C & string>(socket: ChatSocket, event: K, ...args: ArgsOf<C[K]>): Promise<ReplyOf<C[K]>> {
	return (socket as unknown as Socket).timeout(5000).emitWithAck(event, ...args);
}

/** ask(), and fails the test unless the reply is ok. */
export async function must<K extends keyof C & string>(socket: ChatSocket, event: K, ...args: ArgsOf<C[K]>): Promise<Extract<ReplyOf<C[K]>, { ok: true }>> {
	const reply = (await ask(socket, event, ...args)) as { ok: boolean; error?: string };
	if (!reply.ok) throw new Error(`${event} refused: ${reply.error}`);
	return reply as Extract<ReplyOf<C[K]>, { ok: true }>;
}

/**
 * One room's history as a page keeps it (with the client kit's own merge and catch-up): live
 * `message:new` merged by id; a hole, or any (re)connect of the socket it follows, caught up with
 * `fetchAfter` (what came after the contiguous end, from the start while the list lacks id 1).
 * @example const log = new RoomLog(roomId, (after) => callWithRetry(raw, 'messages:list', [{ roomId, after }])); log.use(socket);
 */
export class RoomLog {
	list: ChatMessage[] = [];
	/** Why a catch-up gave up, if one did: a test fails with it instead of waiting out its timeout. */
	failure: Error | null = null;
	/** The socket followed now (a page's current connection). */
	socket: ChatSocket | null = null;
	#catching: Promise<void> | null = null;
	#again = false;

	constructor(
		readonly roomId: number,
		readonly fetchAfter: (after: number) => Promise<HistoryPage>
	) {}

	/** Follows the room through this socket from now on; `onConnect` hears each of its connects first. */
	use(socket: ChatSocket, onConnect?: () => void): void {
		this.socket = socket;
		socket.on('message:new', (message) => socket === this.socket && this.receive(message));
		// Every connect, recovered too: Socket.IO drops what a room got while the server ran its
		// middlewares for a recovered socket.
		socket.on('connect', () => {
			onConnect?.();
			if (socket === this.socket) this.#follow();
		});
		if (socket.connected) this.#follow();
	}

	receive(message: ChatMessage): void {
		if (message.roomId !== this.roomId) return;
		this.list = mergeMessages(this.list, [message]);
		if (contiguousEnd(this.list) < message.id || this.list[0].id !== 1) this.#follow();
	}

	#follow(): void {
		this.catchUp().catch((error: Error) => (this.failure ??= error));
	}

	/** Fetches what came after the contiguous end (from the start while the list does not begin at 1). */
	catchUp(): Promise<void> {
		if (this.#catching) {
			this.#again = true;
			return this.#catching;
		}
		this.#catching = (async () => {
			do {
				this.#again = false;
				const from = this.list[0]?.id === 1 ? this.list : [];
				const result = await catchUp(from, this.fetchAfter);
				if (result.error) throw new Error(`catch-up failed: ${result.error}`);
				this.list = mergeMessages(this.list, result.list);
			} while (this.#again);
		})().finally(() => (this.#catching = null));
		return this.#catching;
	}
}

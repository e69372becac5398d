import { io, type ManagerOptions, type Socket, type SocketOptions } from 'socket.io-client';
import type { ClientToServerEvents, ServerToClientEvents } from '../../src/lib/shared/socket-events';
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

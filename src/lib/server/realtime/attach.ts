import type { Server as HttpServer } from 'node:http';
import { createAdapter } from '@socket.io/redis-streams-adapter';
import { Server } from 'socket.io';
import type { ClientToServerEvents, ServerToClientEvents, SocketData } from '$lib/shared/socket-events';
import * as accounts from '../accounts';
import * as chat from '../chat';
import { redisConnection } from '../redis-connection';
import type { Runtime } from '../runtime';
import { allowedOrigin, readCookie } from './handshake';

export type RealtimeServer = Server<ClientToServerEvents, ServerToClientEvents, Record<string, never>, SocketData>;

/** Largest Socket.IO packet: room for a 100 KB message to be refused on its ack (the text limit is 4,000 characters); past it the connection is closed. */
export const MAX_PACKET_BYTES = 128 * 1024;

/**
 * Attaches Socket.IO (and everything realtime) to an HTTP server; used by dev, preview and production.
 * @example attachRealtime(httpServer, await initRuntime());
 */
export function attachRealtime(httpServer: HttpServer, rt: Runtime): RealtimeServer {
	const io: RealtimeServer = new Server(httpServer, {
		path: '/socket.io',
		serveClient: false,
		maxHttpBufferSize: MAX_PACKET_BYTES,
		// A socket back within 2 minutes gets its rooms and the packets it missed; the session is
		// checked again on the way back (middlewares are not skipped): a signed-out session stays out.
		connectionStateRecovery: { maxDisconnectionDuration: 2 * 60 * 1000, skipMiddlewares: false },
		// Leave other upgrades (Vite's HMR socket in dev) alone.
		destroyUpgrade: false,
		allowRequest: (req, callback) => {
			const ok = allowedOrigin(req.headers.origin, req.headers.host, rt.config.origin);
			if (!ok) rt.log.warn({ origin: req.headers.origin }, 'socket refused: foreign origin');
			callback(ok ? null : 'origin not allowed', ok);
		}
	});

	if (rt.config.redisUrl) useRedis(io, rt, rt.config.redisUrl);

	io.use(async (socket, next) => {
		const user = await accounts.authenticate(readCookie(socket.request.headers.cookie, accounts.SESSION_COOKIE));
		if (!user) return next(new Error('unauthorized: sign in first'));
		socket.data.user = { id: user.id, name: user.name };
		socket.data.sessionId = user.sessionId;
		next();
	});

	io.on('connection', (socket) => {
		socket.join(chat.userChannel(socket.data.user.id));
		// With an ack it is not kept for connection state recovery; a client that never acks costs one entry until the timeout.
		socket.timeout(WELCOME_ACK_MS).emit('welcome', { user: socket.data.user, serverTime: Date.now() }, ignore);
		socket.on('ping', answerPing);
		chat.connect(socket);
	});

	rt.io = io;
	return io;
}

/** How long a welcome waits for its ack (nothing depends on it arriving). */
const WELCOME_ACK_MS = 10_000;
const ignore = () => {};

/** Answers a client's ping with the server's clock (one function for every socket). */
function answerPing(ack: unknown): void {
	if (typeof ack === 'function') ack({ ok: true, serverTime: Date.now() });
}

/**
 * Puts Socket.IO on the Redis Streams adapter: broadcasts, room operations (joins and leaves,
 * sign-out closing a session's sockets) and connection state recovery reach every instance; chat
 * presence is shared too. Its stream, channels and session keys live under REDIS_PREFIX; closing the server closes its
 * connections.
 */
function useRedis(io: RealtimeServer, rt: Runtime, url: string): void {
	const prefix = `${rt.config.redisPrefix}socket.io`;
	let closed = false;
	// Commands wait out a short outage instead of failing: a broadcast sent meanwhile goes out after it.
	const redis = redisConnection(url, `runnel-sio-${process.pid}`, { log: rt.log, options: { maxRetriesPerRequest: null }, quiet: () => closed });
	io.adapter(createAdapter(redis, { streamName: prefix, channelPrefix: prefix, sessionKeyPrefix: `${prefix}:session:`, onlyPlaintext: true }));
	chat.sharePresence(rt);
	const close = io.close.bind(io);
	io.close = async (callback) => {
		closed = true;
		// Before the sockets close: this instance's users are then announced offline by another one, unless they come to it.
		await chat.unsharePresence(rt);
		await close();
		redis.disconnect();
		callback?.();
	};
}

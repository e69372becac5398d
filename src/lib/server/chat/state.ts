import { createRateLimiter, type RateLimiter } from '../rate-limit';
import { runtime, type Runtime } from '../runtime';
import type { RedisPresence } from './presence-redis';

/** What chat keeps in memory per running instance. */
export interface ChatState {
	/** Per room, the last queued store-and-emit: a room's messages get ids and go out one after another. */
	tails: Map<number, Promise<unknown>>;
	/** Per user, their open sockets in this process. */
	sockets: Map<number, number>;
	/** Per user whose last socket closed: the timer that will announce them offline. */
	leaving: Map<number, ReturnType<typeof setTimeout>>;
	/** New messages per user in the configured window (across instances when there is Redis). */
	sends: RateLimiter;
	/** Per `user:room`, when their last typing signal went out. */
	typing: Map<string, number>;
	/** With REDIS_URL: who is online on every instance (presence.share()). */
	presence?: RedisPresence;
}

// On globalThis, one per runtime: the SvelteKit bundle (file shares) and server.ts (sockets) each
// hold a copy of this module, and both must queue a room's messages in the same line.
const KEY = Symbol.for('runnel.chat');
const states = ((globalThis as Record<symbol, unknown>)[KEY] ??= new WeakMap<Runtime, ChatState>()) as WeakMap<Runtime, ChatState>;

/** This instance's chat state (made on first use). */
export function chatState(rt: Runtime = runtime()): ChatState {
	let state = states.get(rt);
	if (!state) {
		const { chatRateMessages: limit, chatRateWindowMs: windowMs, redisPrefix: prefix } = rt.config;
		const sends = createRateLimiter({ name: 'chat-send', limit, windowMs, redis: rt.redis, prefix, log: rt.log });
		state = { tails: new Map(), sockets: new Map(), leaving: new Map(), sends, typing: new Map() };
		states.set(rt, state);
	}
	return state;
}

/**
 * Runs `task` after every earlier task of the same room has finished (failed ones too): ids are
 * handed out and messages emitted in one order.
 * @example await inRoomOrder(7, () => storeAndEmit(message));
 */
export function inRoomOrder<T>(roomId: number, task: () => Promise<T>): Promise<T> {
	const { tails } = chatState();
	const run = (tails.get(roomId) ?? Promise.resolve()).then(task);
	const tail = run.catch(() => undefined);
	tails.set(roomId, tail);
	void tail.then(() => tails.get(roomId) === tail && tails.delete(roomId));
	return run;
}

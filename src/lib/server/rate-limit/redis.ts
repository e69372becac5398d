import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Logger } from '../log';
import { LocalRateLimiter } from './local';
import type { Attempt, RateLimiter } from './types';

// KEYS[1] a sorted set of hits (score: Redis time in ms); ARGV mode (peek, hit, take), limit,
// window ms, a unique member (the hit's name, for attempt()'s release). Prunes, then answers and records in one atomic step, on Redis's clock.
const SCRIPT = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local limit, window = tonumber(ARGV[2]), tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
local count = redis.call('ZCARD', KEYS[1])
if ARGV[1] ~= 'hit' and count >= limit then
	local oldest = redis.call('ZRANGE', KEYS[1], count - limit, count - limit, 'WITHSCORES')
	return math.max(1, tonumber(oldest[2]) + window - now)
end
if ARGV[1] == 'peek' then return 0 end
redis.call('ZADD', KEYS[1], now, ARGV[4])
redis.call('PEXPIRE', KEYS[1], window)
return 0
`;

/** After a failed command, how long the limiter counts in this instance before trying Redis again (ms). */
const RETRY_MS = 5000;

/** Connection states of a link that was lost (a first connect is waited for, briefly). */
const AWAY = new Set(['reconnecting', 'close', 'end']);

/** Settings of a shared limiter. */
export interface RedisRateLimiterOptions {
	redis: Redis;
	/** Keys are `<prefix>rate:<name>:<key>`. */
	prefix: string;
	name: string;
	limit: number;
	windowMs: number;
	log?: Logger;
}

/**
 * Counts hits per key in Redis, so every instance sees the same counts (each key a sorted set that
 * expires with its window). While Redis can't be reached it counts in this process instead and
 * logs that once: limits then hold per instance, and nothing fails for want of Redis.
 * @example const sends = new RedisRateLimiter({ redis, prefix: 'runnel:', name: 'chat-send', limit: 10, windowMs: 5000 });
 */
export class RedisRateLimiter implements RateLimiter {
	readonly limit: number;
	readonly windowMs: number;
	#options: RedisRateLimiterOptions;
	#fallback: LocalRateLimiter;
	#down = false;
	#retryAt = 0;
	#member = 0;
	#tag = randomBytes(4).toString('hex');

	constructor(options: RedisRateLimiterOptions) {
		this.#options = options;
		this.limit = options.limit;
		this.windowMs = options.windowMs;
		this.#fallback = new LocalRateLimiter(options.limit, options.windowMs);
		if (!options.redis.rateLimit) options.redis.defineCommand('rateLimit', { numberOfKeys: 1, lua: SCRIPT });
	}

	retryAfter(key: string): Promise<number> {
		return this.#run(key, 'peek', () => this.#fallback.retryAfter(key));
	}

	async hit(key: string): Promise<void> {
		await this.#run(key, 'hit', () => this.#fallback.hit(key).then(() => 0));
	}

	take(key: string): Promise<number> {
		return this.#run(key, 'take', () => this.#fallback.take(key));
	}

	async attempt(key: string): Promise<Attempt> {
		const { redis, limit, windowMs } = this.#options;
		const member = `${this.#tag}:${++this.#member}`;
		let local: Attempt | undefined;
		const wait = await this.#shared(
			() => redis.rateLimit(this.#key(key), 'take', limit, windowMs, member),
			async () => (local = await this.#fallback.attempt(key)).wait
		);
		if (local) return local;
		let counted = wait === 0;
		return {
			wait,
			release: async () => {
				if (!counted) return;
				counted = false;
				await this.#shared(() => redis.zrem(this.#key(key), member), () => Promise.resolve(0));
			}
		};
	}

	async reset(key: string): Promise<void> {
		await this.#fallback.reset(key);
		await this.#shared(() => this.#options.redis.del(this.#key(key)), () => Promise.resolve(0));
	}

	#key(key: string): string {
		return `${this.#options.prefix}rate:${this.#options.name}:${key}`;
	}

	#run(key: string, mode: 'peek' | 'hit' | 'take', fallback: () => Promise<number>): Promise<number> {
		const { redis, limit, windowMs } = this.#options;
		const member = `${this.#tag}:${++this.#member}`;
		return this.#shared(() => redis.rateLimit(this.#key(key), mode, limit, windowMs, member), fallback);
	}

	// Not even tried while the connection is down or for a while after a command failed: a sign-in
	// or a chat message never waits on a Redis that is away.
	async #shared(command: () => Promise<number>, fallback: () => Promise<number>): Promise<number> {
		if (AWAY.has(this.#options.redis.status) || Date.now() < this.#retryAt) {
			this.#lost(new Error(`redis connection is ${this.#options.redis.status}`));
			return fallback();
		}
		try {
			const result = Number(await command());
			if (this.#down) this.#options.log?.info(`rate limit ${this.#options.name} is shared through Redis again`);
			this.#down = false;
			return result;
		} catch (err) {
			this.#retryAt = Date.now() + RETRY_MS;
			this.#lost(err);
			return fallback();
		}
	}

	#lost(err: unknown): void {
		if (!this.#down) this.#options.log?.warn({ err }, `rate limit ${this.#options.name} can't reach Redis: counting in this instance until it is back`);
		this.#down = true;
	}
}

declare module 'ioredis' {
	interface RedisCommander {
		rateLimit(key: string, mode: string, limit: number, windowMs: number, member: string): Promise<number>;
	}
}

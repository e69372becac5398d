import type { Redis } from 'ioredis';
import type { Logger } from '../log';
import { LocalRateLimiter } from './local';
import { RedisRateLimiter } from './redis';
import type { RateLimiter } from './types';

export type { RateLimiter } from './types';
export { LocalRateLimiter } from './local';
export { RedisRateLimiter } from './redis';

/**
 * Picks the limiter: shared by every instance through Redis when there is one, else in this process.
 * @example const perIp = createRateLimiter({ name: 'signin-ip', limit: 30, windowMs: 900_000, redis: rt.redis, prefix: rt.config.redisPrefix });
 */
export function createRateLimiter(options: { name: string; limit: number; windowMs: number; redis?: Redis; prefix: string; log?: Logger }): RateLimiter {
	const { redis, ...rest } = options;
	return redis ? new RedisRateLimiter({ ...rest, redis }) : new LocalRateLimiter(options.limit, options.windowMs);
}

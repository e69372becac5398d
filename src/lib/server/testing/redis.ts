// Test utility: with TEST_REDIS_URL set, each test file gets a key prefix of its own, whose keys
// are deleted afterwards; otherwise null (the Redis suites are skipped and say so).
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';

/** A Redis URL and a fresh key prefix for one test file. */
export interface TestRedis {
	url: string;
	prefix: string;
	/** Deletes every key under the prefix. */
	drop(): Promise<void>;
}

/** The URL the Redis suites use, or undefined when they are to be skipped. */
export const testRedisUrl = process.env.TEST_REDIS_URL?.trim() || undefined;

/**
 * A unique prefix on TEST_REDIS_URL, or null when it is not set.
 * @example const redis = testRedis('bus'); … new RedisBus({ url: redis.url, prefix: redis.prefix, … }); … await redis.drop();
 */
export function testRedis(name: string, url = testRedisUrl): TestRedis | null {
	if (!url) return null;
	const prefix = `runnel-test:${name.replace(/\W/g, '_')}:${randomBytes(4).toString('hex')}:`;
	return {
		url,
		prefix,
		drop: () => dropKeys(url, prefix)
	};
}

/** Deletes every key that starts with `prefix` (a test run's own, or all `runnel-test:e2e:` ones). */
export async function dropKeys(url: string, prefix: string): Promise<void> {
	const client = new Redis(url, { maxRetriesPerRequest: 2 });
	try {
		let cursor = '0';
		do {
			const [next, keys] = await client.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500);
			cursor = next;
			if (keys.length) await client.unlink(...keys);
		} while (cursor !== '0');
	} finally {
		client.disconnect();
	}
}

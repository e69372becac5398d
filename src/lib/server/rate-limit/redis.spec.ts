// The shared limiter on a real Redis: two limiters on two connections stand for two instances.
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { testRedis } from '../testing/redis';
import { RedisRateLimiter } from './redis';

const redis = testRedis('ratelimit');
const suite = redis ? describe : describe.skip;
const title = redis ? 'RedisRateLimiter' : 'RedisRateLimiter (skipped: set TEST_REDIS_URL, e.g. redis://127.0.0.1:6379)';

const connections: Redis[] = [];
afterAll(async () => {
	for (const connection of connections) connection.disconnect();
	await redis?.drop();
});

function connect(url = redis!.url): Redis {
	const connection = new Redis(url, { maxRetriesPerRequest: 1, commandTimeout: 1000, lazyConnect: url !== redis!.url });
	connection.on('error', () => {});
	connections.push(connection);
	return connection;
}

const limiter = (name: string, limit: number, windowMs: number, connection = connect()) =>
	new RedisRateLimiter({ redis: connection, prefix: redis!.prefix, name, limit, windowMs });

suite(title, () => {
	it('counts the hits of every instance together, and says how long to wait', async () => {
		const one = limiter('signin', 3, 60_000);
		const two = limiter('signin', 3, 60_000);
		await one.hit('ana');
		await two.hit('ana');
		expect(await one.retryAfter('ana')).toBe(0);
		await one.hit('ana');
		const wait = await two.retryAfter('ana');
		expect(wait).toBeGreaterThan(55_000);
		expect(wait).toBeLessThanOrEqual(60_000);
		expect(await two.retryAfter('bob')).toBe(0);
		await two.reset('ana');
		expect(await one.retryAfter('ana')).toBe(0);
	});

	it('admits exactly the limit when instances take at once', async () => {
		const one = limiter('chat', 5, 60_000);
		const two = limiter('chat', 5, 60_000);
		const waits = await Promise.all(Array.from({ length: 20 }, (_, i) => (i % 2 ? one : two).take('7')));
		expect(waits.filter((wait) => wait === 0)).toHaveLength(5);
		expect(waits.filter((wait) => wait > 0)).toHaveLength(15);
	});

	it('counts attempts of both instances up front, and a release takes back just its own', async () => {
		const one = limiter('attempt', 2, 60_000);
		const two = limiter('attempt', 2, 60_000);
		const [first, second] = await Promise.all([one.attempt('ana'), two.attempt('ana')]);
		expect([first.wait, second.wait]).toEqual([0, 0]);
		const refused = await one.attempt('ana');
		expect(refused.wait).toBeGreaterThan(55_000);
		await refused.release(); // refused: nothing to take back
		expect(await two.retryAfter('ana')).toBeGreaterThan(0);
		await first.release();
		await first.release(); // once
		expect(await connect().zcard(`${redis!.prefix}rate:attempt:ana`)).toBe(1);
		expect((await two.attempt('ana')).wait).toBe(0);
		expect((await one.attempt('ana')).wait).toBeGreaterThan(0);
	});

	it('lets hits expire with the window, and keys with them', async () => {
		const short = limiter('short', 1, 300);
		expect(await short.take('k')).toBe(0);
		const wait = await short.take('k');
		expect(wait).toBeGreaterThan(0);
		const ttl = await connect().pttl(`${redis!.prefix}rate:short:k`);
		expect(ttl).toBeGreaterThan(0);
		expect(ttl).toBeLessThanOrEqual(300);
		await new Promise((resolve) => setTimeout(resolve, wait + 20));
		expect(await short.take('k')).toBe(0);
	});

	it('counts in the instance while Redis is unreachable, and warns once', async () => {
		const warnings: string[] = [];
		const log = { warn: (_: unknown, message: string) => warnings.push(message), info: () => {} } as never;
		const down = new RedisRateLimiter({ redis: connect('redis://127.0.0.1:1'), prefix: redis!.prefix, name: 'down', limit: 2, windowMs: 60_000, log });
		expect(await down.take('k')).toBe(0);
		expect(await down.take('k')).toBe(0);
		expect(await down.take('k')).toBeGreaterThan(0);
		await down.hit('other');
		expect(await down.retryAfter('other')).toBe(0);
		expect(warnings).toEqual(["rate limit down can't reach Redis: counting in this instance until it is back"]);
	});
});

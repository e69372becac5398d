// Upload write locks: in-process, and on a real Redis where two lock sets on two connections stand
// for two instances (Redis is all they share).
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { testRedis } from '../testing/redis';
import { LocalUploadLocks } from './lock';
import { RedisUploadLocks } from './lock-redis';

const redis = testRedis('uploadlock');
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

describe('LocalUploadLocks', () => {
	it('refuses a second writer until the first releases', async () => {
		const locks = new LocalUploadLocks();
		const release = await locks.tryLock('a');
		expect(release).not.toBeNull();
		expect(await locks.tryLock('a')).toBeNull();
		expect(await locks.tryLock('b')).not.toBeNull();
		await release!();
		await release!();
		expect(await locks.tryLock('a')).not.toBeNull();
	});
});

(redis ? describe : describe.skip)(redis ? 'RedisUploadLocks' : 'RedisUploadLocks (skipped: set TEST_REDIS_URL, e.g. redis://127.0.0.1:6379)', () => {
	const locks = (connection = connect(), ttlMs?: number) => new RedisUploadLocks({ redis: connection, prefix: redis!.prefix, ttlMs });

	it('refuses a writer on another instance until the holder releases', async () => {
		const one = locks();
		const two = locks();
		const release = await one.tryLock('u1');
		expect(release).not.toBeNull();
		expect(await two.tryLock('u1')).toBeNull();
		expect(await one.tryLock('u1')).toBeNull();
		await release!();
		const next = await two.tryLock('u1');
		expect(next).not.toBeNull();
		await release!(); // a stale release does not free the new holder's lock
		expect(await one.tryLock('u1')).toBeNull();
		await next!();
	});

	it('keeps a lock while its holder writes, and hands it over at once when the holder dies', async () => {
		const dying = connect();
		const holder = locks(dying, 300);
		const other = locks(connect(), 60_000);
		expect(await holder.tryLock('u2')).not.toBeNull();
		await new Promise((resolve) => setTimeout(resolve, 700)); // renewed every 100 ms
		expect(await other.tryLock('u2')).toBeNull();
		dying.disconnect(); // as when its instance is killed: no renewal, no release, its connection gone
		await new Promise((resolve) => setTimeout(resolve, 50));
		const release = await other.tryLock('u2');
		expect(release).not.toBeNull();
		expect(await locks().tryLock('u2')).toBeNull(); // the new holder is alive
		await release!();
	});

	it('refuses the chunk with 503 when Redis is unreachable', async () => {
		const away = locks(connect('redis://127.0.0.1:1'));
		await expect(away.tryLock('u3')).rejects.toMatchObject({ status: 503, retryAfter: 2 });
	});
});

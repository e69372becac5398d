// The shared presence on a real Redis: two "instances" on one prefix (skipped without TEST_REDIS_URL).
import { afterAll, describe, expect, it, vi } from 'vitest';
import { dropKeys, testRedis } from '../testing/redis';
import { HEARTBEAT_MS, RedisPresence } from './presence-redis';

const redis = testRedis('presence');
const suite = redis ? describe : describe.skip;
const title = redis ? 'RedisPresence' : 'RedisPresence (skipped: set TEST_REDIS_URL, e.g. redis://127.0.0.1:6379)';
const log = { warn: () => {}, info: () => {}, debug: () => {}, child: () => log } as never;

afterAll(async () => {
	await redis?.drop();
});

/** An instance's presence with its own local counts and what it was told of others' users. */
function instance() {
	const local = new Map<number, number>();
	const gone: number[] = [];
	const restored: number[] = [];
	const presence = new RedisPresence({
		url: redis!.url,
		prefix: redis!.prefix,
		graceMs: 300,
		log,
		local: () => local,
		onGone: (ids) => gone.push(...ids),
		onRestored: (ids) => restored.push(...ids)
	});
	return { local, gone, restored, presence };
}

suite(title, () => {
	it('sees users of the other instance, counts a short move as no news, reports those a stopped instance leaves, and writes itself back after Redis lost its data', async () => {
		const one = instance();
		const two = instance();
		try {
			one.local.set(1, 1);
			expect(await one.presence.arrive(1, 1)).toBe(false);
			one.local.set(2, 1);
			expect(await one.presence.arrive(2, 1)).toBe(false);
			await vi.waitFor(async () => expect(await two.presence.online([1, 2, 3])).toEqual(new Set([1, 2])));
			// User 1 is on both; user 2 leaves one and is still counted for the grace.
			two.local.set(1, 1);
			expect(await two.presence.arrive(1, 1)).toBe(true);
			one.local.delete(2);
			await one.presence.depart(2);
			expect(await two.presence.online([2])).toEqual(new Set([2]));
			expect(await two.presence.online([2], false)).toEqual(new Set());
			// One stops: two takes its place over at its next heartbeat, and only user 1 is still online.
			one.local.set(4, 1);
			await one.presence.arrive(4, 1);
			await one.presence.close();
			await vi.waitFor(() => expect(two.gone).toEqual([4]), { timeout: HEARTBEAT_MS * 2, interval: 50 });
			expect(await two.presence.online([1, 2, 4], false)).toEqual(new Set([1]));
			// Redis loses everything (a restart without persistence): the next heartbeat writes the counts back.
			await dropKeys(redis!.url, redis!.prefix);
			expect(await two.presence.online([1], false)).toEqual(new Set());
			await vi.waitFor(async () => expect(await two.presence.online([1], false)).toEqual(new Set([1])), { timeout: HEARTBEAT_MS * 2, interval: 50 });
			expect(two.restored).toEqual([1]);
		} finally {
			await one.presence.close();
			await two.presence.close();
		}
	});
});

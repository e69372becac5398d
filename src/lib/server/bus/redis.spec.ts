// What only the Redis bus does: several processes on one prefix, trimming on publish, and riding
// out lost connections (simulated with CLIENT KILL of this bus's own connections, by client name).
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { testRedis } from '../testing/redis';
import { RedisBus, type RedisBusOptions } from './redis';
import { PUBLISH } from './redis-scripts';
import { ReplayError, type BusEvent } from './types';

const redis = testRedis('redisbus');
const suite = redis ? describe : describe.skip;
const title = redis ? 'RedisBus' : 'RedisBus (skipped: set TEST_REDIS_URL, e.g. redis://127.0.0.1:6379)';

let buses: RedisBus[] = [];
let admin: Redis | undefined;

afterEach(async () => {
	for (const bus of buses) await bus.close();
	buses = [];
});
afterAll(async () => {
	admin?.disconnect();
	await redis?.drop();
});

function start(options: Partial<RedisBusOptions> = {}): RedisBus {
	const bus = new RedisBus({ url: redis!.url, prefix: redis!.prefix, retentionCount: 1000, retentionAgeMs: 3600_000, blockMs: 1000, ...options });
	buses.push(bus);
	return bus;
}

async function take(events: AsyncIterable<BusEvent>, n: number): Promise<BusEvent[]> {
	const got: BusEvent[] = [];
	for await (const event of events) if (got.push(event) >= n) break;
	return got;
}

const ids = (events: BusEvent[]) => events.map((e) => e.id);
const warnings: string[] = [];
const log = { warn: (_: unknown, message: string) => warnings.push(message), info: () => {}, child: () => log } as never;

suite(title, () => {
	it('delivers a publish of one process live to the other, and replays there after an id', async () => {
		const one = start();
		const two = start();
		// From the head, not "only new": across processes, "new" is whatever the other publishes after it.
		const live = take(two.subscribe('room:1', { after: await two.head('room:1') }), 2);
		const first = await one.publish('room:1', { type: 'msg', data: { text: 'hi' } });
		const second = await two.publish('room:1', { type: 'msg', data: { text: 'there' } });
		const got = await live;
		expect(ids(got)).toEqual([first, second]);
		expect(got[0]).toMatchObject({ topic: 'room:1', type: 'msg', data: { text: 'hi' } });
		expect(ids(await take(two.subscribe('room:1', { after: first }), 1))).toEqual([second]);
		expect(ids(await take(one.subscribe('room:1', { after: '0' }), 2))).toEqual([first, second]);
		expect(await one.head('room:1')).toBe(second);
	});

	it('keeps a stream near retentionCount on publish alone', async () => {
		const bus = start({ retentionCount: 10 });
		for (let i = 0; i < 300; i++) await bus.publish('a', { type: 't', data: i });
		const length = await (admin ??= new Redis(redis!.url)).xlen(`${redis!.prefix}bus:a`);
		expect(length).toBeGreaterThanOrEqual(10);
		expect(length).toBeLessThanOrEqual(11);
	});

	it('rides out its connections being killed: no crash, subscribers catch up with no loss and no duplicate', async () => {
		const name = `runnel-test-${randomBytes(4).toString('hex')}`;
		const bus = start({ name, log });
		const other = start();
		const events: BusEvent[] = [];
		const reading = (async () => {
			// From the start of the (new) topic: a live-only subscription takes its head asynchronously,
			// and the first publish could land before it.
			for await (const event of bus.subscribe('outage', { after: '0' })) if (events.push(event) >= 60) break;
		})();
		const published: string[] = [];
		const publish = async (n: number) => {
			for (let i = 0; i < n; i++) published.push(await other.publish('outage', { type: 't', data: published.length }));
		};
		await publish(20);
		await vi.waitFor(() => expect(events.length).toBe(20));
		admin ??= new Redis(redis!.url);
		let killed = 0;
		for (const id of await clientIds(admin, name)) killed += Number(await admin.call('CLIENT', 'KILL', 'ID', id));
		expect(killed).toBe(2);
		await publish(20); // while the reader reconnects
		const own = await bus.publish('outage', { type: 't', data: -1 }); // queued through the reconnect
		published.push(own);
		await publish(19);
		await reading;
		expect(ids(events)).toEqual(published);
		expect(warnings.some((w) => /lost: reconnecting|reader failed/.test(w))).toBe(true);
	});

	it('answers too-old for a position its stream lost with the data of Redis, even once new events follow', async () => {
		const bus = start();
		const kept = await bus.publish('lost', { type: 't', data: 1 });
		await bus.publish('lost', { type: 't', data: 2 });
		// What a Redis restarted without persistence looks like: the stream is gone, then starts again.
		await (admin ??= new Redis(redis!.url)).del(`${redis!.prefix}bus:lost`);
		// A new stream numbers from the clock: in the same millisecond it would hand out `kept`'s id again
		// (a restart takes longer than that).
		await new Promise((resolve) => setTimeout(resolve, 5));
		await bus.publish('lost', { type: 't', data: 3 });
		await expect(take(bus.subscribe('lost', { after: kept }), 1)).rejects.toMatchObject({ name: 'ReplayError', reason: 'too-old' });
		expect((await take(bus.subscribe('lost', { after: '0' }), 1))[0].data).toBe(3);
	});

	it('trims by age on any instance, whoever published', async () => {
		let now = Date.now();
		const publisher = start({ retentionAgeMs: 3600_000 });
		const other = start({ retentionAgeMs: 3600_000, now: () => now });
		for (let i = 0; i < 5; i++) await publisher.publish('aged', { type: 't', data: i });
		now += 2 * 3600_000;
		await other.trim();
		expect(await (admin ??= new Redis(redis!.url)).xlen(`${redis!.prefix}bus:aged`)).toBe(0);
		await expect(take(other.subscribe('aged', { after: '0' }), 1)).rejects.toBeInstanceOf(ReplayError);
	});

	it('tells its subscribers to reset when retention dropped events its reader had not read yet', async () => {
		const reader = start({ retentionCount: 10 });
		const events = reader.subscribe('behind', { after: await reader.head('behind') });
		const iterator = events[Symbol.asyncIterator]();
		const first = await start({ retentionCount: 10 }).publish('behind', { type: 't', data: 0 });
		expect((await iterator.next()).value).toMatchObject({ id: first });
		// 30 publishes in one transaction: the reader is served only after retention dropped 20 of them.
		const key = `${redis!.prefix}bus:behind`;
		const burst = (admin ??= new Redis(redis!.url)).multi();
		for (let i = 1; i <= 30; i++) burst.eval(PUBLISH, 1, key, 't', String(i), 10, 0);
		await burst.exec();
		await expect(iterator.next()).rejects.toMatchObject({ name: 'ReplayError', reason: 'too-old' });
		expect(reader.listenerCount('behind')).toBe(0);
		// A fresh subscriber follows on from the head.
		const again = take(reader.subscribe('behind', { after: await reader.head('behind') }), 1);
		const next = await reader.publish('behind', { type: 't', data: 31 });
		expect(ids(await again)).toEqual([next]);
	});

	it('does not reset a reader that kept up with a burst larger than retention', async () => {
		const reader = start({ retentionCount: 10 });
		const got = take(reader.subscribe('kept', { after: await reader.head('kept') }), 30);
		const publisher = start({ retentionCount: 10 });
		const published: string[] = [];
		for (let i = 0; i < 30; i++) published.push(await publisher.publish('kept', { type: 't', data: i }));
		expect(ids(await got)).toEqual(published);
	});

	it('rejects a publish when Redis stays unreachable, instead of hanging', async () => {
		const bus = new RedisBus({ url: 'redis://127.0.0.1:1', prefix: redis!.prefix, retentionCount: 10, retentionAgeMs: 1000, log });
		try {
			await expect(bus.publish('a', { type: 't', data: null })).rejects.toThrow();
		} finally {
			await bus.close();
		}
	});
});

/** The ids of the connections named `<name>:…` (this test's bus only). */
async function clientIds(admin: Redis, name: string): Promise<string[]> {
	const list = String(await admin.call('CLIENT', 'LIST'));
	return list
		.split('\n')
		.filter((line) => line.includes(` name=${name}:`))
		.map((line) => /^id=(\d+)/.exec(line)![1]);
}

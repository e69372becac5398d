// The bus contract, run against every backend: LocalBus (SQLite, or PostgreSQL with
// TEST_DATABASE_URL) and RedisBus (with TEST_REDIS_URL; skipped and named so otherwise).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { open, type Store } from '../db';
import { testDatabase, type TestDatabase } from '../testing/database';
import { testRedis } from '../testing/redis';
import { LocalBus } from './local';
import { RedisBus } from './redis';
import { OverflowError, ReplayError, type Bus, type BusEvent } from './types';

interface Options {
	retentionCount?: number;
	retentionAgeMs?: number;
	maxBuffer?: number;
	now?: () => number;
}

/** Starts buses of one backend; every bus it made is closed by `cleanup`. */
interface Backend {
	start(options?: Options): Promise<Bus>;
	cleanup(): Promise<void>;
	drop(): Promise<void>;
}

function localBackend(): Backend {
	let dir: string | undefined;
	let database: TestDatabase | undefined;
	let stores: Store[] = [];
	let buses: Bus[] = [];
	return {
		async start(options = {}) {
			dir ??= mkdtempSync(join(tmpdir(), 'runnel-bus-'));
			database ??= await testDatabase('bus');
			const store = await open({ dataDir: dir, ...(database.env.DATABASE_URL ? { databaseUrl: database.env.DATABASE_URL } : {}) });
			const bus = new LocalBus({ db: store.db, retentionCount: 1000, retentionAgeMs: 3600_000, ...options });
			stores.push(store);
			buses.push(bus);
			return bus;
		},
		async cleanup() {
			for (const bus of buses) await bus.close();
			for (const store of stores) await store.close();
			[buses, stores] = [[], []];
			await database?.drop();
			database = undefined;
			if (dir) rmSync(dir, { recursive: true, force: true });
			dir = undefined;
		},
		async drop() {}
	};
}

function redisBackend(): Backend | null {
	const redis = testRedis('bus');
	if (!redis) return null;
	let buses: Bus[] = [];
	let run = 0;
	let prefix = '';
	return {
		async start(options = {}) {
			prefix ||= `${redis.prefix}${++run}:`;
			const bus = new RedisBus({ url: redis.url, prefix, retentionCount: 1000, retentionAgeMs: 3600_000, blockMs: 1000, ...options });
			buses.push(bus);
			return bus;
		},
		async cleanup() {
			for (const bus of buses) await bus.close();
			buses = [];
			prefix = '';
		},
		drop: () => redis.drop()
	};
}

const redis = redisBackend();
const backends: [string, Backend | null][] = [
	['LocalBus', localBackend()],
	[redis ? 'RedisBus' : 'RedisBus (skipped: set TEST_REDIS_URL, e.g. redis://127.0.0.1:6379)', redis]
];

/** Publishes `n` events of type `t` to `topic` concurrently and returns their ids. */
function publishMany(bus: Bus, topic: string, n: number): Promise<string[]> {
	return Promise.all(Array.from({ length: n }, (_, i) => bus.publish(topic, { type: 't', data: { i } })));
}

async function take(events: AsyncIterable<BusEvent>, n: number): Promise<BusEvent[]> {
	const got: BusEvent[] = [];
	if (n === 0) return got;
	for await (const event of events) if (got.push(event) >= n) break;
	return got;
}

const ids = (events: BusEvent[]) => events.map((e) => e.id);
const indexes = (events: BusEvent[]) => events.map((e) => (e.data as { i: number }).i);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function replayError(events: AsyncIterable<BusEvent>): Promise<ReplayError['reason']> {
	const error = await events[Symbol.asyncIterator]().next().then(
		() => expect.unreachable('expected a ReplayError'),
		(e: unknown) => e
	);
	expect(error).toBeInstanceOf(ReplayError);
	return (error as ReplayError).reason;
}

describe.each(backends)('%s', (name, backend) => {
	if (!backend) return it.skip('needs TEST_REDIS_URL', () => {});
	const start = backend.start;

	afterEach(() => backend.cleanup());
	afterAll(() => backend.drop());

	describe('publish', () => {
		it('hands out distinct ids, increasing in publish order, under 500 concurrent publishes', async () => {
			const bus = await start();
			const got = await publishMany(bus, 'room:1', 500);
			expect(new Set(got).size).toBe(500);
			expect(got.every((id) => bus.isId(id))).toBe(true);
			const replayed = await take(bus.subscribe('room:1', { after: '0' }), 500);
			expect(ids(replayed)).toEqual(got);
			expect(indexes(replayed)).toEqual(got.map((_, i) => i));
		});

		it('keeps topics apart', async () => {
			const bus = await start();
			const a = await publishMany(bus, 'a', 3);
			const b = await bus.publish('b', { type: 't', data: null });
			expect(await bus.head('b')).toBe(b);
			expect(await bus.head('a')).toBe(a[2]);
			expect(ids(await take(bus.subscribe('b', { after: '0' }), 1))).toEqual([b]);
		});
	});

	describe('head', () => {
		it('is "0" for a new topic and the newest id after publishes; subscribing after it misses nothing', async () => {
			const bus = await start();
			expect(await bus.head('h')).toBe('0');
			const first = await publishMany(bus, 'h', 3);
			const head = await bus.head('h');
			expect(head).toBe(first[2]);
			const events = bus.subscribe('h', { after: head });
			const next = await publishMany(bus, 'h', 2);
			expect(ids(await take(events, 2))).toEqual(next);
		});
	});

	describe('subscribe', () => {
		it('replays what came after an id, then goes live', async () => {
			const bus = await start();
			const got = await publishMany(bus, 'user:1', 5);
			const events = bus.subscribe('user:1', { after: got[1] });
			const replayed = await take(events, 3);
			expect(ids(replayed)).toEqual(got.slice(2));
			expect(replayed[0]).toMatchObject({ id: got[2], topic: 'user:1', type: 't', data: { i: 2 } });
			expect(Math.abs(replayed[0].time - Date.now())).toBeLessThan(60_000);
		});

		it('delivers only new events when after is absent', async () => {
			const bus = await start();
			await publishMany(bus, 'user:1', 2);
			const events = bus.subscribe('user:1');
			const live = take(events, 2);
			await bus.publish('user:2', { type: 'other', data: 1 });
			const next = await publishMany(bus, 'user:1', 2);
			expect(ids(await live)).toEqual(next);
			expect(bus.listenerCount()).toBe(0);
		});

		it('hands over from replay to live with no gap and no duplicate while publishing', async () => {
			const bus = await start({ retentionCount: 10_000 });
			const stored = await publishMany(bus, 'room:9', 1200);
			const events = bus.subscribe('room:9', { after: '0' });
			const overlap = await publishMany(bus, 'room:9', 100); // stored and buffered both: the overlap to skip
			const reading = take(events, 1500);
			const published: string[] = [];
			for (let i = 0; i < 200; i++) {
				published.push(await bus.publish('room:9', { type: 't', data: i }));
				if (i % 50 === 0) await new Promise((r) => setImmediate(r));
			}
			expect(ids(await reading)).toEqual([...stored, ...overlap, ...published]);
		});

		it('refuses ids that are not ids, or ahead of the topic, as unknown', async () => {
			const bus = await start();
			const got = await publishMany(bus, 'a', 3);
			for (const raw of ['abc', '-1', '01', '1.5', '', ' 1', '12345678901234567', '1-2-3', 'x.1']) {
				expect(bus.isId(raw)).toBe(false);
				expect(await replayError(bus.subscribe('a', { after: raw }))).toBe('unknown');
			}
			expect(bus.isId('0') && bus.isId(got[0])).toBe(true);
			const ahead = name === 'LocalBus' ? String(Number(got[2]) + 1) : `${Number(got[2].split('-')[0]) + 1}-0`;
			expect(await replayError(bus.subscribe('a', { after: ahead }))).toBe('unknown');
			expect(await replayError(bus.subscribe('nobody', { after: got[0] }))).toBe('unknown');
			expect(ids(await take(bus.subscribe('a', { after: got[0] }), 2))).toEqual(got.slice(1));
			expect(bus.listenerCount()).toBe(0);
		});

		it('throws OverflowError when an unread subscriber passes maxBuffer, and lets go of it', async () => {
			const bus = await start({ maxBuffer: 5 });
			const slow = bus.subscribe('a')[Symbol.asyncIterator]();
			const fine = bus.subscribe('a');
			const got = await publishMany(bus, 'a', 5);
			expect(ids(await take(fine, 5))).toEqual(got);
			await bus.publish('a', { type: 't', data: null });
			await vi.waitFor(() => expect(bus.listenerCount('a')).toBe(0));
			await expect(slow.next()).rejects.toBeInstanceOf(OverflowError);
			expect(await slow.next()).toEqual({ done: true, value: undefined });
		});

		it('removes the listener on abort, on break and for an already aborted signal', async () => {
			const bus = await start();
			const controller = new AbortController();
			const events = bus.subscribe('a', { signal: controller.signal });
			expect(bus.listenerCount('a')).toBe(1);
			const pending = events[Symbol.asyncIterator]().next();
			controller.abort();
			expect(await pending).toEqual({ done: true, value: undefined });
			expect(bus.listenerCount()).toBe(0);

			const reading = take(bus.subscribe('a'), 1);
			expect(bus.listenerCount('a')).toBe(1);
			await bus.publish('a', { type: 't', data: null });
			await reading;
			expect(bus.listenerCount()).toBe(0);

			expect(await take(bus.subscribe('a', { signal: AbortSignal.abort() }), 5)).toEqual([]);
			expect(bus.listenerCount()).toBe(0);
		});

		it('ends every subscriber on close() and refuses to publish after', async () => {
			const bus = await start();
			const events = bus.subscribe('a');
			const pending = events[Symbol.asyncIterator]().next();
			await bus.close();
			expect(await pending).toEqual({ done: true, value: undefined });
			expect(bus.listenerCount()).toBe(0);
			await expect(bus.publish('a', { type: 't', data: null })).rejects.toThrow(/closed/);
		});
	});

	describe('retention', () => {
		it('reports too-old once trimmed by count, and still serves from just before the oldest kept', async () => {
			const bus = await start({ retentionCount: 10 });
			const got = await publishMany(bus, 'a', 25);
			await bus.trim();
			expect(await replayError(bus.subscribe('a', { after: got[13] }))).toBe('too-old');
			expect(await replayError(bus.subscribe('a', { after: '0' }))).toBe('too-old');
			expect(ids(await take(bus.subscribe('a', { after: got[14] }), 10))).toEqual(got.slice(15));
		});

		it('trims by age and tells too-old from nothing-missed after everything aged out', async () => {
			let clock = Date.now;
			const bus = await start({ retentionAgeMs: 1_000, now: () => clock() });
			const old = await publishMany(bus, 'a', 3);
			await sleep(5);
			const middle = Date.now();
			await sleep(5);
			const recent = await publishMany(bus, 'a', 2);
			clock = () => middle + 1_000;
			await bus.trim();
			expect(await replayError(bus.subscribe('a', { after: old[1] }))).toBe('too-old');
			expect(ids(await take(bus.subscribe('a', { after: old[2] }), 2))).toEqual(recent);

			clock = () => Date.now() + 10_000;
			await bus.trim();
			expect(await replayError(bus.subscribe('a', { after: recent[0] }))).toBe('too-old');
			clock = Date.now;
			const upToDate = take(bus.subscribe('a', { after: recent[1] }), 1);
			const next = await bus.publish('a', { type: 't', data: null });
			expect(ids(await upToDate)).toEqual([next]);
		});
	});

	describe('persistence', () => {
		it('continues ids and replays after the bus is closed and started again', async () => {
			const first = await start();
			const got = await publishMany(first, 'a', 3);
			await first.close();
			const bus = await start();
			const after = await bus.publish('a', { type: 't', data: 'after restart' });
			const replayed = await take(bus.subscribe('a', { after: got[0] }), 3);
			expect(ids(replayed)).toEqual([got[1], got[2], after]);
			expect(replayed[2].data).toBe('after restart');
		});

		it('shares events between two buses on the same storage', async () => {
			const first = await start();
			const got = await publishMany(first, 'a', 3);
			const second = await start();
			const next = await second.publish('a', { type: 't', data: null });
			expect(ids(await take(second.subscribe('a', { after: '0' }), 4))).toEqual([...got, next]);
		});
	});
});

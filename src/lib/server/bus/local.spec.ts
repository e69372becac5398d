import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { open, type Store } from '../db';
import { LocalBus, type LocalBusOptions } from './local';
import { OverflowError, ReplayError, type BusEvent } from './types';

let dir: string;
let stores: Store[];
let buses: LocalBus[];

beforeEach(() => {
	dir = mkdtempSync(join(tmpdir(), 'runnel-bus-'));
	stores = [];
	buses = [];
});

afterEach(async () => {
	for (const bus of buses) await bus.close();
	for (const store of stores) await store.close();
	rmSync(dir, { recursive: true, force: true });
});

async function start(options: Partial<LocalBusOptions> = {}) {
	const store = await open(dir);
	const bus = new LocalBus({ db: store.db, retentionCount: 1000, retentionAgeMs: 3600_000, ...options });
	stores.push(store);
	buses.push(bus);
	return { store, bus };
}

/** Publishes `n` events of type `t` to `topic` concurrently and returns their ids. */
function publishMany(bus: LocalBus, topic: string, n: number): Promise<string[]> {
	return Promise.all(Array.from({ length: n }, (_, i) => bus.publish(topic, { type: 't', data: { i } })));
}

async function take(events: AsyncIterable<BusEvent>, n: number): Promise<BusEvent[]> {
	const got: BusEvent[] = [];
	if (n === 0) return got;
	for await (const event of events) if (got.push(event) >= n) break;
	return got;
}

const seqs = (events: BusEvent[]) => events.map((e) => Number(e.id));
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

async function replayError(events: AsyncIterable<BusEvent>): Promise<ReplayError['reason']> {
	const error = await events[Symbol.asyncIterator]().next().then(
		() => expect.unreachable('expected a ReplayError'),
		(e: unknown) => e
	);
	expect(error).toBeInstanceOf(ReplayError);
	return (error as ReplayError).reason;
}

describe('LocalBus publish', () => {
	it('hands out ids 1..n with no duplicate under 500 concurrent publishes', async () => {
		const { bus, store } = await start();
		expect(await publishMany(bus, 'room:1', 500)).toEqual(range(1, 500).map(String));
		const rows = await store.db.selectFrom('bus_events').select('seq').orderBy('seq').execute();
		expect(rows.map((r) => Number(r.seq))).toEqual(range(1, 500));
	});

	it('counts ids per topic independently', async () => {
		const { bus } = await start();
		await publishMany(bus, 'a', 3);
		expect(await bus.publish('b', { type: 't', data: null })).toBe('1');
		expect(await bus.publish('a', { type: 't', data: null })).toBe('4');
	});
});

describe('LocalBus head', () => {
	it('is "0" for a new topic and the newest id after publishes; subscribing after it misses nothing', async () => {
		const { bus } = await start();
		expect(await bus.head('h')).toBe('0');
		await publishMany(bus, 'h', 3);
		const head = await bus.head('h');
		expect(head).toBe('3');
		const events = bus.subscribe('h', { after: head });
		await publishMany(bus, 'h', 2);
		expect((await take(events, 2)).map((e) => e.id)).toEqual(['4', '5']);
	});
});

describe('LocalBus subscribe', () => {
	it('replays what came after an id, then goes live', async () => {
		const { bus } = await start();
		await publishMany(bus, 'user:1', 5);
		const events = bus.subscribe('user:1', { after: '2' });
		const replayed = await take(events, 3);
		expect(seqs(replayed)).toEqual([3, 4, 5]);
		expect(replayed[0]).toMatchObject({ id: '3', topic: 'user:1', type: 't', data: { i: 2 } });
		expect(typeof replayed[0].time).toBe('number');
	});

	it('delivers only new events when after is absent, each already committed', async () => {
		const { bus, store } = await start();
		await publishMany(bus, 'user:1', 2);
		const events = bus.subscribe('user:1');
		const live = take(events, 2);
		await bus.publish('user:2', { type: 'other', data: 1 });
		await publishMany(bus, 'user:1', 2);
		const got = await live;
		expect(seqs(got)).toEqual([3, 4]);
		const stored = await store.db.selectFrom('bus_events').where('topic', '=', 'user:1').selectAll().execute();
		expect(stored).toHaveLength(4);
		expect(bus.listenerCount()).toBe(0);
	});

	it('hands over from replay to live with no gap and no duplicate while publishing', async () => {
		const { bus } = await start({ retentionCount: 10_000 });
		await publishMany(bus, 'room:9', 1200);
		const events = bus.subscribe('room:9', { after: '0' });
		await publishMany(bus, 'room:9', 100); // stored and buffered both: the overlap to skip
		const reading = take(events, 1500);
		const publishing = (async () => {
			for (let i = 0; i < 200; i++) {
				await bus.publish('room:9', { type: 't', data: i });
				if (i % 50 === 0) await new Promise((r) => setImmediate(r));
			}
		})();
		const [got] = await Promise.all([reading, publishing]);
		expect(seqs(got)).toEqual(range(1, 1500));
	});

	it('refuses ids that are not ids, or ahead of the topic, as unknown', async () => {
		const { bus } = await start();
		await publishMany(bus, 'a', 3);
		for (const raw of ['abc', '-1', '01', '1.5', '', ' 1', '12345678901234567']) {
			expect(bus.isId(raw)).toBe(false);
			expect(await replayError(bus.subscribe('a', { after: raw }))).toBe('unknown');
		}
		expect(bus.isId('0') && bus.isId('9999999999999999')).toBe(true);
		expect(await replayError(bus.subscribe('a', { after: '4' }))).toBe('unknown');
		expect(await replayError(bus.subscribe('nobody', { after: '1' }))).toBe('unknown');
		expect(seqs(await take(bus.subscribe('a', { after: '1' }), 2))).toEqual([2, 3]);
		expect(bus.listenerCount()).toBe(0);
	});

	it('throws OverflowError when an unread subscriber passes maxBuffer, and lets go of it', async () => {
		const { bus } = await start({ maxBuffer: 5 });
		const slow = bus.subscribe('a');
		const fine = bus.subscribe('a');
		await publishMany(bus, 'a', 5);
		expect(seqs(await take(fine, 5))).toEqual(range(1, 5));
		await bus.publish('a', { type: 't', data: null });
		expect(bus.listenerCount('a')).toBe(0);
		await expect(slow.next()).rejects.toBeInstanceOf(OverflowError);
		expect(await slow.next()).toEqual({ done: true, value: undefined });
	});

	it('removes the listener on abort, on break and for an already aborted signal', async () => {
		const { bus } = await start();
		const controller = new AbortController();
		const events = bus.subscribe('a', { signal: controller.signal });
		expect(bus.listenerCount('a')).toBe(1);
		const pending = events.next();
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
		const { bus } = await start();
		const events = bus.subscribe('a');
		const pending = events.next();
		await bus.close();
		expect(await pending).toEqual({ done: true, value: undefined });
		expect(bus.listenerCount()).toBe(0);
		await expect(bus.publish('a', { type: 't', data: null })).rejects.toThrow(/closed/);
	});
});

describe('LocalBus retention', () => {
	it('reports too-old once trimmed by count, and still serves from min_seq - 1', async () => {
		const { bus } = await start({ retentionCount: 10 });
		await publishMany(bus, 'a', 25);
		await bus.trim();
		expect(await replayError(bus.subscribe('a', { after: '14' }))).toBe('too-old');
		expect(seqs(await take(bus.subscribe('a', { after: '15' }), 10))).toEqual(range(16, 25));
	});

	it('trims a topic by itself every 100 publishes', async () => {
		const { bus, store } = await start({ retentionCount: 10 });
		await publishMany(bus, 'a', 100);
		const topic = await store.db.selectFrom('bus_topics').selectAll().executeTakeFirstOrThrow();
		expect(Number(topic.min_seq)).toBe(91);
		expect(await replayError(bus.subscribe('a', { after: '80' }))).toBe('too-old');
	});

	it('trims by age and tells too-old from nothing-missed after everything aged out', async () => {
		let now = 1_000;
		const { bus } = await start({ retentionAgeMs: 1_000, now: () => now });
		await publishMany(bus, 'a', 3);
		now = 2_500;
		await publishMany(bus, 'a', 2);
		await bus.trim();
		expect(await replayError(bus.subscribe('a', { after: '2' }))).toBe('too-old');
		expect(seqs(await take(bus.subscribe('a', { after: '3' }), 2))).toEqual([4, 5]);

		now = 10_000;
		await bus.trim();
		expect(await replayError(bus.subscribe('a', { after: '4' }))).toBe('too-old');
		const upToDate = take(bus.subscribe('a', { after: '5' }), 1);
		await bus.publish('a', { type: 't', data: null });
		expect(seqs(await upToDate)).toEqual([6]);
	});
});

describe('LocalBus persistence', () => {
	it('continues ids and replays after the store is closed and reopened', async () => {
		const first = await start();
		await publishMany(first.bus, 'a', 3);
		await first.bus.close();
		await first.store.close();
		buses = [];
		stores = [];
		const { bus } = await start();
		expect(await bus.publish('a', { type: 't', data: 'after restart' })).toBe('4');
		const replayed = await take(bus.subscribe('a', { after: '1' }), 3);
		expect(seqs(replayed)).toEqual([2, 3, 4]);
		expect(replayed[2].data).toBe('after restart');
	});

	it('keeps committed events without a clean shutdown (a second open sees them)', async () => {
		const first = await start();
		await publishMany(first.bus, 'a', 3);
		const second = await start();
		expect(await second.bus.publish('a', { type: 't', data: null })).toBe('4');
	});
});

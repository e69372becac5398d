import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AnalyticsBucket, AnalyticsLine, AnalyticsRecord, Channel, Metric } from '$lib/shared/analytics';
import { METRIC_NAMES } from '$lib/shared/analytics';
import { loadConfig } from '../config';
import { HttpError } from '../errors';
import { testDatabase, type TestDatabase } from '../testing/database';
import { closeRuntime, initRuntime, runtime } from '../runtime';
import { countWindow, eventsAfter } from './events';
import { dailyCounts, eventsOfDay, prng } from './generate';
import * as analytics from './index';
import { decodeCursor, encodeCursor, readStreamRequest, type StreamRequest } from './window';

const DAY = 86_400_000;
const dir = mkdtempSync(join(tmpdir(), 'runnel-analytics-'));
let database: TestDatabase;
const SEEDED = 30_000;
let now = 0;

beforeAll(async () => {
	database = await testDatabase('analytics');
	const rt = await initRuntime(
		loadConfig({ DATA_DIR: dir, ...database.env, LOG_LEVEL: 'silent', ANALYTICS_SEED_EVENTS: String(SEEDED), ANALYTICS_SEED_DAYS: '10' })
	);
	await Promise.all(rt.background);
	now = Date.now();
});
afterAll(async () => {
	await closeRuntime();
	await database.drop();
	rmSync(dir, { recursive: true, force: true });
});

/** A stream's lines one by one, its batches taken apart. */
async function* lineByLine(request: StreamRequest, signal: AbortSignal): AsyncGenerator<AnalyticsLine> {
	for await (const item of analytics.stream(request, signal)) {
		if ('records' in item) yield* item.records;
		else yield item;
	}
}

/** Every line of a finished stream. */
async function collect(params: Record<string, string>, signal = new AbortController().signal): Promise<AnalyticsLine[]> {
	const lines: AnalyticsLine[] = [];
	for await (const line of lineByLine(readStreamRequest(new URLSearchParams(params), now), signal)) lines.push(line);
	return lines;
}

const records = (lines: AnalyticsLine[]) => lines.filter((l): l is AnalyticsRecord => l.kind === 'record');
const buckets = (lines: AnalyticsLine[]) => lines.filter((l): l is AnalyticsBucket => l.kind === 'bucket');
const window = (days: number) => ({ from: String(now - days * DAY), to: String(now) });

describe('the demo history', () => {
	it('is the same for the same seed, and sums to the total asked for', () => {
		expect(dailyCounts(1_000_000, 90, 0, 7).reduce((a, b) => a + b, 0)).toBe(1_000_000);
		expect(eventsOfDay(DAY * 100, 500, 7, 3)).toEqual(eventsOfDay(DAY * 100, 500, 7, 3));
		expect(eventsOfDay(DAY * 100, 500, 7, 3)).not.toEqual(eventsOfDay(DAY * 100, 500, 8, 3));
		const day = eventsOfDay(DAY * 100 + 5 * 3_600_000, 2000, 7, 3);
		expect(day.every((e, i) => e.time >= DAY * 100 + 5 * 3_600_000 && e.time < DAY * 101 + 5 * 3_600_000 && (i === 0 || day[i - 1].time <= e.time))).toBe(true);
	});

	it('was stored in full in the background, with its day counts', async () => {
		const { db } = runtime().store;
		const { n } = await db.selectFrom('analytics_events').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
		expect(Number(n)).toBe(SEEDED);
		const counted = await db.selectFrom('analytics_counts').select((eb) => eb.fn.sum<number>('count').as('n')).executeTakeFirstOrThrow();
		expect(Number(counted.n)).toBe(SEEDED);
		expect(runtime().analyticsSeeding ?? null).toBeNull();
	});
});

describe('filters', () => {
	const bad = (params: Record<string, string>) => {
		try {
			readStreamRequest(new URLSearchParams(params), now);
		} catch (error) {
			expect(error).toBeInstanceOf(HttpError);
			expect((error as HttpError).status).toBe(400);
			return (error as HttpError).message;
		}
		throw new Error(`accepted ${JSON.stringify(params)}`);
	};

	it('answers each invalid filter with a readable reason', () => {
		expect(bad({ from: String(now), to: String(now - 1000) })).toMatch(/"from" .* is after "to"/);
		expect(bad({ metric: 'page_views,bogus' })).toMatch(/Unknown metric "bogus": use one of page_views/);
		expect(bad({ region: 'mars' })).toMatch(/Unknown region "mars"/);
		expect(bad({ from: String(now - 100 * DAY) })).toMatch(/window of 100 days is too large for raw records \(at most 92\)/);
		expect(bad({ from: String(now - 8 * DAY), bucket: '1m' })).toMatch(/too large for 1m buckets/);
		expect(bad({ bucket: '5m' })).toMatch(/"bucket" must be one of 1m, 1h, 1d/);
		expect(bad({ after: 'nonsense' })).toMatch(/"after" is not a cursor/);
		expect(bad({ after: 'b.123.page_views' })).toMatch(/bucket cursor resumes a rollup stream/);
		expect(bad({ from: 'yesterday' })).toMatch(/"from" must be a time/);
		expect(bad({ follow: '1', to: String(now) })).toMatch(/leave out "to"/);
		expect(bad({ follow: 'maybe' })).toMatch(/"follow" must be 1 or 0/);
	});

	it('reads lists, ISO dates and defaults', () => {
		const request = readStreamRequest(new URLSearchParams('metric=signins&metric=messages,signins&from=2026-11-01T00:00:00Z&to=2026-11-02'), now);
		expect(request).toMatchObject({ metrics: ['signins', 'messages'], from: Date.parse('2026-11-01T00:00:00Z'), to: Date.parse('2026-11-02'), bucket: null, follow: false });
		expect(readStreamRequest(new URLSearchParams(), now)).toMatchObject({ from: now - DAY, to: now, metrics: METRIC_NAMES, region: null });
		expect(readStreamRequest(new URLSearchParams('follow=1'), now)).toMatchObject({ from: now - DAY, to: null, follow: true });
	});

	it('round-trips cursors', () => {
		for (const cursor of [
			{ kind: 'record', time: 1, id: 2 },
			{ kind: 'bucket', time: 60_000, metric: 'latency' },
			{ kind: 'bucket', time: 60_000, metric: 'page_views', bound: { time: 61_000, id: 9 } }
		] as const) {
			expect(decodeCursor(encodeCursor(cursor))).toEqual(cursor);
		}
		expect(decodeCursor('b.1.unknown_metric')).toBeNull();
	});
});

describe('streams', () => {
	it('sends a meta line with the exact total, then every matching record once, in order', async () => {
		const lines = await collect({ ...window(11), metric: 'page_views,latency', region: 'eu-west,ap-south' });
		const [meta] = lines;
		const got = records(lines);
		const { db } = runtime().store;
		const expected = await db
			.selectFrom('analytics_events')
			.select('id')
			.where('time', '>=', now - 11 * DAY)
			.where('time', '<', now)
			.where('metric', 'in', ['page_views', 'latency'])
			.where('region', 'in', ['eu-west', 'ap-south'])
			.orderBy('time')
			.orderBy('id')
			.execute();
		expect(meta).toMatchObject({ kind: 'meta', mode: 'raw', total: expected.length, follow: false, resumed: false });
		expect(got.map((r) => r.id)).toEqual(expected.map((r) => r.id));
		expect(got.every((r) => ['page_views', 'latency'].includes(r.metric) && ['eu-west', 'ap-south'].includes(r.region))).toBe(true);
	});

	it('reads the same pages through the array-rows path as through Kysely', async () => {
		const { db, rows, dialect } = runtime().store;
		// SQLite has the array-rows path; PostgreSQL goes through Kysely alone.
		if (dialect === 'postgres') return expect(rows).toBeUndefined();
		expect(rows).toBeTypeOf('function');
		const window = { from: now - 3 * DAY, to: now, metrics: ['latency', 'jobs'] as Metric[], region: null, channel: ['web'] as Channel[] };
		const fast = await eventsAfter(db, window, null, 500, rows);
		expect(fast).toHaveLength(500);
		expect(fast).toEqual(await eventsAfter(db, window, null, 500));
		const next = fast[fast.length - 1];
		expect(await eventsAfter(db, window, next, 500, rows)).toEqual(await eventsAfter(db, window, next, 500));
	});

	it('counts any window exactly from the day counts and its edges', async () => {
		const random = prng(99);
		const { db } = runtime().store;
		for (let i = 0; i < 25; i++) {
			const from = now - Math.floor(random() * 11 * DAY);
			const to = from + Math.floor(random() * (now - from));
			const metrics = METRIC_NAMES.filter(() => random() < 0.6);
			if (!metrics.length) metrics.push('page_views');
			const channel = random() < 0.5 ? (['web', 'api'] as ('web' | 'api')[]) : null;
			const direct = await db
				.selectFrom('analytics_events')
				.select((eb) => eb.fn.countAll<number>().as('n'))
				.where('time', '>=', from)
				.where('time', '<', to)
				.where('metric', 'in', metrics)
				.$if(channel !== null, (q) => q.where('channel', 'in', channel!))
				.executeTakeFirstOrThrow();
			expect(await countWindow(db, { from, to, metrics, region: null, channel })).toBe(Number(direct.n));
		}
	});

	it.each(['1m', '1h', '1d'] as const)('rolls up per %s bucket exactly as a direct SQL aggregate does', async (bucket) => {
		const days = bucket === '1m' ? 2 : 11;
		const lines = await collect({ ...window(days), bucket, metric: 'latency,downloads,signins', channel: 'web,mobile' });
		expect(lines[0]).toMatchObject({ kind: 'meta', mode: 'rollup', bucket, total: null });
		const size = { '1m': 60_000, '1h': 3_600_000, '1d': DAY }[bucket];
		const { rows } = await sql<{ b: number; metric: string; n: number; s: number; lo: number; hi: number }>`
			select time - (time % ${size}) as b, metric, count(*) as n, sum(value) as s, min(value) as lo, max(value) as hi
			from analytics_events
			where time >= ${now - days * DAY} and time < ${now} and metric in ('latency', 'downloads', 'signins') and channel in ('web', 'mobile')
			group by b, metric order by b, metric`.execute(runtime().store.db);
		const got = buckets(lines).map((l) => [l.time, l.metric, l.count, l.sum, l.min, l.max]);
		expect(got).toEqual(rows.map((r) => [Number(r.b), r.metric, Number(r.n), Number(Number(r.s).toPrecision(15)), Number(r.lo), Number(r.hi)]));
		expect(got.length).toBeGreaterThan(10);
	});

	it('resumes after a cut at a random point: the whole set, no duplicate (raw and rollups)', async () => {
		const random = prng(7);
		for (const params of [{ ...window(11) }, { ...window(11), bucket: '1h' }, { ...window(3), bucket: '1m', metric: 'messages' }]) {
			const whole = (await collect(params)).filter((l) => l.kind !== 'meta');
			for (let i = 0; i < 5; i++) {
				const cut = Math.floor(random() * whole.length);
				const head = whole.slice(0, cut + 1);
				const rest = await collect({ ...params, after: (head[head.length - 1] as AnalyticsRecord).cursor });
				expect(rest[0]).toMatchObject({ kind: 'meta', resumed: true });
				expect([...head, ...rest.slice(1)]).toEqual(whole);
			}
		}
	});
});

describe('live', () => {
	it('follows: history, then what the app records, filtered, no gap and no duplicate at the hand-over', async () => {
		const stop = new AbortController();
		const request = readStreamRequest(new URLSearchParams({ from: String(now - 2 * DAY), metric: 'signins,messages', follow: '1' }), Date.now());
		const iterator = lineByLine(request, stop.signal)[Symbol.asyncIterator]();
		const meta = (await iterator.next()).value as AnalyticsLine;
		expect(meta).toMatchObject({ kind: 'meta', follow: true, to: null });
		const track = (n: number) =>
			Promise.all(
				Array.from({ length: n }, (_, i) =>
					analytics.track({ metric: i % 3 === 0 ? 'downloads' : i % 2 ? 'signins' : 'messages', value: i, userId: i, userAgent: 'Mozilla/5.0 (iPhone)' })
				)
			).then((records) => records.filter((r) => r && r.metric !== 'downloads').map((r) => r!.id));
		const seen: AnalyticsRecord[] = [];
		let caughtUp = -1;
		const read = async (until: () => boolean) => {
			while (!until()) {
				const { value } = await iterator.next();
				if ((value as AnalyticsLine).kind === 'live') caughtUp = seen.length;
				else seen.push(value as AnalyticsRecord);
			}
		};
		// Recorded before, while and after the history is read.
		const before = await track(10);
		await read(() => seen.length >= 100);
		const during = await track(10);
		await read(() => caughtUp >= 0);
		const after = await track(10);
		const wanted = [...before, ...during, ...after];
		await read(() => wanted.every((id) => seen.some((r) => r.id === id)));
		// What the store held when the history was read comes before `live`; the rest after it.
		expect(seen.slice(0, caughtUp).map((r) => r.id)).toEqual(expect.arrayContaining(before));
		expect(seen.slice(caughtUp).map((r) => r.id)).toEqual(expect.arrayContaining(after));
		stop.abort();
		await iterator.return?.(undefined);
		const ids = seen.map((r) => r.id);
		expect(new Set(ids).size).toBe(ids.length);
		expect(seen.every((r) => r.metric === 'signins' || r.metric === 'messages')).toBe(true);
		expect(seen.filter((r) => wanted.includes(r.id)).map((r) => r.id)).toEqual(wanted);
		expect(seen[seen.length - 1]).toMatchObject({ channel: 'mobile' });
		for (let i = 1; i < seen.length; i++) expect(seen[i].time).toBeGreaterThanOrEqual(seen[i - 1].time);
		expect(runtime().bus.listenerCount('analytics')).toBe(0);
	});

	it('stores and publishes a burst of one turn as one write, in order', async () => {
		const rt = runtime();
		const head = await rt.bus.head(analytics.TOPIC);
		const records = await Promise.all(Array.from({ length: 25 }, (_, i) => analytics.track({ metric: 'messages', value: i, userId: i })));
		const stop = new AbortController();
		const { value: event } = await rt.bus.subscribe(analytics.TOPIC, { after: head, signal: stop.signal })[Symbol.asyncIterator]().next();
		stop.abort();
		expect(event).toMatchObject({ type: 'records' });
		expect((event!.data as AnalyticsRecord[]).map((r) => r.id)).toEqual(records.map((r) => r!.id));
		expect(records.map((r) => r!.value)).toEqual(Array.from({ length: 25 }, (_, i) => i));
		for (let i = 1; i < records.length; i++) {
			expect(records[i]!.id).toBeGreaterThan(records[i - 1]!.id);
			expect(records[i]!.time).toBeGreaterThanOrEqual(records[i - 1]!.time);
		}
	});

	it('under steady traffic, spaces its writes: events of several turns right after a write go in the next one', async () => {
		const rt = runtime();
		await analytics.track({ metric: 'messages', value: 1, userId: 1 }); // a write just happened
		const head = await rt.bus.head(analytics.TOPIC);
		const pending: Promise<unknown>[] = [];
		for (let turn = 0; turn < 3; turn++) {
			pending.push(analytics.track({ metric: 'messages', value: 100 + turn, userId: 1 }));
			await new Promise((resolve) => setImmediate(resolve));
		}
		const records = await Promise.all(pending);
		const stop = new AbortController();
		const { value: event } = await rt.bus.subscribe(analytics.TOPIC, { after: head, signal: stop.signal })[Symbol.asyncIterator]().next();
		stop.abort();
		expect((event!.data as AnalyticsRecord[]).map((r) => r.value)).toEqual([100, 101, 102]);
		expect(records.map((r) => (r as AnalyticsRecord).value)).toEqual([100, 101, 102]);
	});

	it('follows a rollup with increments after its history', async () => {
		const stop = new AbortController();
		const request = readStreamRequest(new URLSearchParams({ from: String(now - DAY), bucket: '1h', metric: 'jobs,signins', follow: '1' }), Date.now());
		const iterator = lineByLine(request, stop.signal)[Symbol.asyncIterator]();
		await iterator.next(); // meta
		// The first bucket fixes where the history ends; what is recorded after it comes live.
		const history = [(await iterator.next()).value as AnalyticsBucket];
		const record = await analytics.track({ metric: 'jobs', value: 1234 });
		for (;;) {
			const line = (await iterator.next()).value as AnalyticsBucket;
			if ((line as AnalyticsLine).kind === 'live') continue;
			if (line.live) {
				expect(line).toMatchObject({ count: 1, sum: 1234, min: 1234, max: 1234, metric: 'jobs', cursor: record!.cursor });
				expect(line.time).toBe(record!.time - (record!.time % 3_600_000));
				break;
			}
			history.push(line);
		}
		stop.abort();
		await iterator.return?.(undefined);
		expect(history.every((b) => b.cursor.startsWith('b.') && /\.\d+\.\d+$/.test(b.cursor))).toBe(true);
	});

	it('tells the channel and region apart', () => {
		expect(analytics.channelOf('Mozilla/5.0 (Linux; Android 14) Mobile')).toBe('mobile');
		expect(analytics.channelOf('Mozilla/5.0 (X11; Linux x86_64)')).toBe('web');
		expect(analytics.channelOf('curl/8.5')).toBe('api');
		expect(analytics.channelOf(null)).toBe('api');
		expect(analytics.regionOf(7)).toBe(analytics.regionOf(7));
	});
});

// Analytics rows in the store: inserting them with their day counts, and reading them back in batches.
import { sql, type Kysely, type SelectQueryBuilder } from 'kysely';
import { METRIC_NAMES, type AnalyticsRecord, type Channel, type Metric, type Region } from '$lib/shared/analytics';
import type { Database, Store } from '../db';
import { compiledPerCount } from '../db/compiled';
import { recordCursor, type Window } from './window';

const DAY = 86_400_000;

/** An event about to be stored. */
export interface NewEvent {
	time: number;
	metric: Metric;
	region: Region;
	channel: Channel;
	value: number;
}

/** A stored event. */
export interface EventRow extends NewEvent {
	id: number;
}

/** One rollup row: a metric's events in one bucket. */
export interface BucketRow {
	time: number;
	metric: Metric;
	count: number;
	sum: number;
	min: number;
	max: number;
}

/** Rows per INSERT statement (7 columns each stays far below every driver's parameter limit). */
const INSERT_ROWS = 1000;

/** Counts per (day, metric, region, channel) of `events`. */
function dayCounts(events: NewEvent[]) {
	const counts = new Map<string, { day: number; metric: string; region: string; channel: string; count: number }>();
	for (const e of events) {
		const day = e.time - (e.time % DAY);
		const key = `${day}|${e.metric}|${e.region}|${e.channel}`;
		const entry = counts.get(key);
		if (entry) entry.count += 1;
		else counts.set(key, { day, metric: e.metric, region: e.region, channel: e.channel, count: 1 });
	}
	return [...counts.values()];
}

/**
 * Stores events and adds them to the day counts; call inside a transaction so both land or neither.
 * @returns the ids given, in order, when `returning` is set.
 */
export async function insertEvents(db: Kysely<Database>, events: NewEvent[], returning = false): Promise<number[]> {
	const ids: number[] = [];
	for (let i = 0; i < events.length; i += INSERT_ROWS) {
		const insert = db.insertInto('analytics_events').values(events.slice(i, i + INSERT_ROWS));
		if (returning) ids.push(...(await insert.returning('id').execute()).map((r) => Number(r.id)));
		else await insert.execute();
	}
	const counts = dayCounts(events);
	for (let i = 0; i < counts.length; i += INSERT_ROWS) {
		await db
			.insertInto('analytics_counts')
			.values(counts.slice(i, i + INSERT_ROWS))
			.onConflict((oc) =>
				oc.columns(['day', 'metric', 'region', 'channel']).doUpdateSet({ count: sql`analytics_counts.count + excluded.count` })
			)
			.execute();
	}
	return ids;
}

/** Rows one compiled statement of insertEventsNow() covers (so at most this many shapes are compiled). */
const NOW_ROWS = 32;

const insertEventRows = compiledPerCount<Database, { id: number }>((db, n, args) =>
	db
		.insertInto('analytics_events')
		.values(Array.from({ length: n }, (_, i) => ({ time: args[5 * i], metric: args[5 * i + 1], region: args[5 * i + 2], channel: args[5 * i + 3], value: args[5 * i + 4] }) as never))
		.returning('id')
);

const addDayCounts = compiledPerCount<Database, never>((db, n, args) =>
	db
		.insertInto('analytics_counts')
		.values(Array.from({ length: n }, (_, i) => ({ day: args[5 * i], metric: args[5 * i + 1], region: args[5 * i + 2], channel: args[5 * i + 3], count: args[5 * i + 4] }) as never))
		.onConflict((oc) => oc.columns(['day', 'metric', 'region', 'channel']).doUpdateSet({ count: sql`analytics_counts.count + excluded.count` }))
);

/**
 * insertEvents() with its ids, on SQLite, synchronously: call inside a SyncSqlite transaction
 * (compiled statements: a live write pays for SQL, not for Kysely's builders).
 */
export function insertEventsNow(db: Kysely<Database>, events: NewEvent[]): number[] {
	const ids: number[] = [];
	for (let i = 0; i < events.length; i += NOW_ROWS) {
		const slice = events.slice(i, i + NOW_ROWS);
		for (const row of insertEventRows(slice.length).now(db, ...slice.flatMap((e) => [e.time, e.metric, e.region, e.channel, e.value]))) ids.push(Number(row.id));
	}
	const counts = dayCounts(events);
	for (let i = 0; i < counts.length; i += NOW_ROWS) {
		const slice = counts.slice(i, i + NOW_ROWS);
		addDayCounts(slice.length).now(db, ...slice.flatMap((c) => [c.day, c.metric, c.region, c.channel, c.count]));
	}
	return ids;
}

/** Narrows a query on analytics_events to the window's metrics and dimension values. */
function filtered<O>(query: SelectQueryBuilder<Database, 'analytics_events', O>, window: Window) {
	let q = query;
	if (window.metrics.length < METRIC_NAMES.length) q = q.where('metric', 'in', window.metrics);
	if (window.region) q = q.where('region', 'in', window.region);
	if (window.channel) q = q.where('channel', 'in', window.channel);
	return q;
}

/**
 * How many events the window holds, from the day counts plus an exact count of its partial
 * edge days: a few thousand rows read, however large the window.
 */
export async function countWindow(db: Kysely<Database>, window: Window & { to: number }): Promise<number> {
	const { from, to } = window;
	if (to <= from) return 0;
	const firstFull = Math.ceil(from / DAY) * DAY;
	const lastFull = Math.floor(to / DAY) * DAY;
	const edges: [number, number][] = [];
	let total = 0;
	if (firstFull < lastFull) {
		let q = db
			.selectFrom('analytics_counts')
			.select((eb) => eb.fn.sum<number | string>('count').as('n'))
			.where('day', '>=', firstFull)
			.where('day', '<', lastFull);
		if (window.metrics.length < METRIC_NAMES.length) q = q.where('metric', 'in', window.metrics);
		if (window.region) q = q.where('region', 'in', window.region);
		if (window.channel) q = q.where('channel', 'in', window.channel);
		total += Number((await q.executeTakeFirst())?.n ?? 0);
		if (from < firstFull) edges.push([from, firstFull]);
		if (lastFull < to) edges.push([lastFull, to]);
	} else {
		edges.push([from, to]);
	}
	for (const [start, end] of edges) {
		const row = await filtered(db.selectFrom('analytics_events').select((eb) => eb.fn.countAll<number | string>().as('n')), window)
			.where('time', '>=', start)
			.where('time', '<', end)
			.executeTakeFirst();
		total += Number(row?.n ?? 0);
	}
	return total;
}

/** The newest event's position, or null when there is none. */
export async function newest(db: Kysely<Database>): Promise<{ time: number; id: number } | null> {
	const row = await db.selectFrom('analytics_events').select(['time', 'id']).orderBy('time', 'desc').orderBy('id', 'desc').limit(1).executeTakeFirst();
	return row ? { time: Number(row.time), id: Number(row.id) } : null;
}

/** A stored event as a stream line, with its cursor. */
export function toRecord(row: EventRow): AnalyticsRecord {
	return line(row.id, row.time, row.metric, row.region, row.channel, row.value);
}

/** Up to `limit` events of the window after (time, id), in (time, id) order, as stream lines. */
export async function eventsAfter(
	db: Kysely<Database>,
	window: Window,
	after: { time: number; id: number } | null,
	limit: number,
	/** The store's array-rows reader (SQLite): a million-record stream's hot path, about a quarter faster. */
	rows?: Store['rows']
): Promise<AnalyticsRecord[]> {
	let q = filtered(db.selectFrom('analytics_events').select(['id', 'time', 'metric', 'region', 'channel', 'value']), window);
	if (after) {
		q = q
			.where('time', '>=', Math.max(after.time, window.from))
			.where((eb) => eb.or([eb('time', '>', after.time), eb('id', '>', after.id)]));
	} else {
		q = q.where('time', '>=', window.from);
	}
	if (window.to !== null) q = q.where('time', '<', window.to);
	q = q.orderBy('time').orderBy('id').limit(limit);
	// One object per row, straight to its line.
	if (rows) return rows(q.compile()).map((r) => line(r[0], r[1], r[2], r[3], r[4], r[5]));
	return (await q.execute()).map((r) => line(r.id, r.time, r.metric, r.region, r.channel, r.value));
}

/** The stream line of an event from its column values (PostgreSQL gives bigints as strings). */
function line(id: unknown, time: unknown, metric: unknown, region: unknown, channel: unknown, value: unknown): AnalyticsRecord {
	const t = Number(time);
	const i = Number(id);
	return {
		kind: 'record',
		cursor: recordCursor(t, i),
		id: i,
		time: t,
		metric: metric as Metric,
		region: region as Region,
		channel: channel as Channel,
		value: Number(value)
	};
}

/**
 * The rollups of every bucket starting in [start, end), ordered by bucket then metric; events
 * outside the window, or after `bound` (time, id), don't count.
 */
export async function bucketsBetween(
	db: Kysely<Database>,
	window: Window,
	size: number,
	start: number,
	end: number,
	bound?: { time: number; id: number }
): Promise<BucketRow[]> {
	const bucket = sql<number>`time - (time % ${sql.lit(size)})`;
	let q = filtered(
		db
			.selectFrom('analytics_events')
			.select((eb) => [
				bucket.as('bucket'),
				'metric',
				eb.fn.countAll<number | string>().as('count'),
				eb.fn.sum<number | string>('value').as('sum'),
				eb.fn.min<number | string>('value').as('min'),
				eb.fn.max<number | string>('value').as('max')
			]),
		window
	)
		.where('time', '>=', Math.max(start, window.from))
		.where('time', '<', end);
	if (window.to !== null) q = q.where('time', '<', window.to);
	if (bound) q = q.where('time', '<=', bound.time).where((eb) => eb.or([eb('time', '<', bound.time), eb('id', '<=', bound.id)]));
	const rows = await q.groupBy([sql`1`, 'metric']).orderBy(sql`1`).orderBy('metric').execute();
	return rows.map((r) => ({
		time: Number(r.bucket),
		metric: r.metric as Metric,
		count: Number(r.count),
		// 15 significant digits: sums of doubles differ in their last bits with the order they were
		// added in (PostgreSQL's plans vary), and a resumed stream must repeat its buckets exactly.
		sum: Number(Number(r.sum).toPrecision(15)),
		min: Number(r.min),
		max: Number(r.max)
	}));
}

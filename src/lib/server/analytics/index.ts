// The analytics service: what happens in the app becomes an event; a stream reads history, then live.
import {
	BUCKETS,
	DIMENSIONS,
	type AnalyticsBucket,
	type AnalyticsLine,
	type AnalyticsRecord,
	type Channel,
	type Metric,
	type Region
} from '$lib/shared/analytics';
import { batch, type NdjsonItem } from '$lib/stream/server';
import { runtime, type Runtime } from '../runtime';
import { syncOf } from '../db/compiled';
import { bucketsBetween, countWindow, eventsAfter, insertEvents, insertEventsNow, newest, toRecord, type NewEvent } from './events';
import { seedProgress } from './seed';
import { encodeCursor, type StreamRequest, type Window } from './window';

export { readStreamRequest, type StreamRequest } from './window';

/** The bus topic live events are published on. */
export const TOPIC = 'analytics';
/** Rows one store query reads while streaming history… */
const BATCH = 2000;
/** …but the first one reads fewer, so the first bytes go out sooner. */
const FIRST_BATCH = 256;
/** Buckets one rollup query covers. */
const SLICE_BUCKETS = 720;

type Position = { time: number; id: number };

/**
 * Live events wait in `pending` for the end of the turn, then go in one write (one transaction and
 * one bus event for all of them); writes go one after another, each at a time no earlier than the
 * last, so (time, id) order is write order. Under steady traffic writes are spaced WRITE_GAP_MS
 * apart, so a busy chat pays one write per gap, not one per message. And the streams open now.
 * On globalThis: see runtime.ts.
 */
interface State {
	pending: { event: NewEvent; resolve: (record: AnalyticsRecord | null) => void }[];
	writing: boolean;
	/** A write is due (setImmediate or a timer). */
	scheduled: boolean;
	/** When the last write began (performance.now()), for the spacing. */
	lastWrite: number;
	lastTime: number;
	open: number;
}
const STATE = Symbol.for('runnel.analytics');
const state = ((globalThis as Record<symbol, unknown>)[STATE] ??= { pending: [], writing: false, scheduled: false, lastWrite: -Infinity, lastTime: 0, open: 0 }) as State;

/** Most live events in one write. */
const WRITE_BATCH = 500;
/**
 * Least time between the starts of two writes: an event after a quiet spell is written at the end
 * of its turn; under steady traffic they wait at most this long and go together. A write holds
 * the event loop for about a millisecond: every 50 ms that was 2% of a busy chat's messages
 * waiting behind one (its p99), every 250 ms it is under 1%, and a live chart still looks live.
 */
const WRITE_GAP_MS = 250;

/** Analytics streams running in this process (tests check that an aborted one is gone). */
export function openStreams(): number {
	return state.open;
}

/** What happened, for track(). */
export interface TrackInput {
	metric: Metric;
	/** 1 unless the metric has a size (bytes, characters, ms). */
	value?: number;
	/** The user it happened to: their region is a stable pick from their id (Runnel has no geo lookup). */
	userId?: number;
	/** The request it came with: its User-Agent decides the channel. */
	userAgent?: string | null;
}

/** The channel a User-Agent suggests: mobile browsers, other browsers, or a program. */
export function channelOf(userAgent: string | null | undefined): Channel {
	if (!userAgent || !/mozilla/i.test(userAgent)) return 'api';
	return /mobi|android|iphone|ipad/i.test(userAgent) ? 'mobile' : 'web';
}

/** A user's region: stable for their id. */
export function regionOf(userId: number | undefined): Region {
	return DIMENSIONS.region[(userId ?? 0) % DIMENSIONS.region.length];
}

/**
 * Records something that happened in the app: stored with its day count, then published live.
 * Events of one turn (a burst of chat messages) are stored and published together. Never throws:
 * analytics must not break what it observes; a failure is logged and gives null.
 * @example void analytics.track({ metric: 'signins', userId: user.id, userAgent: request.headers.get('user-agent') });
 */
export function track(input: TrackInput): Promise<AnalyticsRecord | null> {
	const event = { time: 0, metric: input.metric, region: regionOf(input.userId), channel: channelOf(input.userAgent), value: input.value ?? 1 };
	return new Promise((resolve) => {
		state.pending.push({ event, resolve });
		scheduleWrite();
	});
}

/** Makes sure a write of what is pending is due: at the end of this turn, or WRITE_GAP_MS after the last write began. */
function scheduleWrite(): void {
	if (state.writing || state.scheduled || !state.pending.length) return;
	state.scheduled = true;
	const wait = state.lastWrite + WRITE_GAP_MS - performance.now();
	if (wait > 0) setTimeout(writePending, wait);
	else setImmediate(writePending);
}

/** Writes what is pending, a batch at a time while full batches wait, then schedules the rest. */
async function writePending(): Promise<void> {
	state.scheduled = false;
	if (state.writing) return;
	state.writing = true;
	try {
		do {
			state.lastWrite = performance.now();
			await write(state.pending.splice(0, WRITE_BATCH));
		} while (state.pending.length >= WRITE_BATCH);
	} finally {
		state.writing = false;
		scheduleWrite();
	}
}

async function write(batch: State['pending']): Promise<void> {
	let records: (AnalyticsRecord | null)[] = batch.map(() => null);
	try {
		const rt = runtime();
		const events = batch.map(({ event }) => {
			state.lastTime = Math.max(Date.now(), state.lastTime);
			return { ...event, time: state.lastTime };
		});
		const { db } = rt.store;
		const sync = syncOf(db);
		const ids = sync ? sync.transaction(() => insertEventsNow(db, events)) : await db.transaction().execute((tx) => insertEvents(tx, events, true));
		const stored = events.map((event, i) => toRecord({ ...event, id: ids[i] }));
		records = stored;
		await rt.bus.publish(TOPIC, { type: 'records', data: stored });
	} catch (error) {
		try {
			runtime().log.warn({ err: error, events: batch.length }, 'analytics: could not record events');
		} catch {
			// No runtime (closing): nothing to tell.
		}
		// Stored but not published: the records stand (they are in the store, and in every stream
		// opened from now on); streams already following miss them.
	}
	batch.forEach(({ resolve }, i) => resolve(records[i]));
}

/** True when `(time, id)` comes after `position`. */
const isAfter = (r: Position, position: Position | null) => !position || r.time > position.time || (r.time === position.time && r.id > position.id);

/** True when a live record passes the window's filters. */
function matches(window: Window, r: AnalyticsRecord): boolean {
	return (
		r.time >= window.from &&
		(window.to === null || r.time < window.to) &&
		window.metrics.includes(r.metric) &&
		(!window.region || window.region.includes(r.region)) &&
		(!window.channel || window.channel.includes(r.channel))
	);
}

/** The window's stored events after `position`, a page per store query; ends where the store ends. */
async function* storedAfter(rt: Runtime, window: Window, position: Position | null): AsyncGenerator<AnalyticsRecord[]> {
	for (let limit = FIRST_BATCH; ; limit = BATCH) {
		const rows = await eventsAfter(rt.store.db, window, position, limit, rt.store.rows);
		if (rows.length) yield rows;
		if (rows.length < limit) return;
		position = rows[rows.length - 1];
	}
}

/**
 * Live events after `position`, in arrays (the bus from `head`, which was taken before the history was
 * read, with what the history already held skipped). When the bus can't replay that far (a slow
 * reader, trimmed retention) it catches up from the store and follows again.
 */
async function* live(
	rt: Runtime,
	window: Window,
	head: string,
	position: Position | null,
	signal: AbortSignal
): AsyncGenerator<AnalyticsRecord[]> {
	for (;;) {
		try {
			for await (const event of rt.bus.subscribe(TOPIC, { after: head, signal })) {
				// One bus event holds the records of one write ('record': one, as earlier versions published).
				const published = event.type === 'records' ? (event.data as AnalyticsRecord[]) : [event.data as AnalyticsRecord];
				const fresh = published.filter((record) => matches(window, record) && isAfter(record, position));
				if (!fresh.length) continue;
				position = fresh[fresh.length - 1];
				yield fresh;
			}
			return;
		} catch (error) {
			// By name: the bus may come from the other bundle's copy of its module (see runtime.ts).
			const name = (error as Error)?.name;
			if (name !== 'ReplayError' && name !== 'OverflowError') throw error;
			head = await rt.bus.head(TOPIC);
			for await (const rows of storedAfter(rt, window, position)) {
				position = rows[rows.length - 1];
				yield rows;
			}
		}
	}
}

/** A live record as a rollup increment: one event added to its bucket. */
function increment(record: AnalyticsRecord, size: number): AnalyticsBucket {
	const { value } = record;
	const time = record.time - (record.time % size);
	return { kind: 'bucket', cursor: record.cursor, time, metric: record.metric, count: 1, sum: value, min: value, max: value, live: true };
}

/** Rollup history: each bucket of the window (after the cursor's), up to `bound` when following. */
async function* rollups(rt: Runtime, request: StreamRequest, size: number, bound: Position | undefined): AsyncGenerator<AnalyticsBucket[]> {
	const after = request.after?.kind === 'bucket' ? request.after : null;
	let start = after ? after.time : request.from - (request.from % size);
	const end = request.to ?? (bound ? bound.time + 1 : Date.now());
	while (start < end) {
		const sliceEnd = start + size * SLICE_BUCKETS;
		const rows = await bucketsBetween(rt.store.db, request, size, start, sliceEnd, bound);
		rows.sort((a, b) => a.time - b.time || (a.metric < b.metric ? -1 : a.metric > b.metric ? 1 : 0));
		const lines: AnalyticsBucket[] = [];
		for (const row of rows) {
			if (after && (row.time < after.time || (row.time === after.time && row.metric <= after.metric))) continue;
			const cursor = encodeCursor({ kind: 'bucket', time: row.time, metric: row.metric, bound });
			lines.push({ kind: 'bucket', cursor, ...row });
		}
		if (lines.length) yield lines;
		start = sliceEnd;
	}
}

/**
 * The lines of an analytics stream: a `meta` line, then history (records, or rollups per
 * bucket) after the request's cursor, then, with `follow`, a `live` line and live records (or
 * rollup increments) until `signal` aborts. Reads the store a page at a time as the consumer
 * pulls, and yields each page as one batch().
 * @example return ndjson(request, ({ signal }) => analytics.stream(readStreamRequest(url.searchParams, Date.now()), signal));
 */
export async function* stream(request: StreamRequest, signal: AbortSignal): AsyncGenerator<NdjsonItem<AnalyticsLine>> {
	state.open += 1;
	try {
		yield* lines(request, signal);
	} finally {
		state.open -= 1;
	}
}

async function* lines(request: StreamRequest, signal: AbortSignal): AsyncGenerator<NdjsonItem<AnalyticsLine>> {
	const rt = runtime();
	const { db } = rt.store;
	// Taken before any history is read: live events from here on can't fall between the two.
	const head = request.follow ? await rt.bus.head(TOPIC) : '';
	const total = request.bucket ? null : await countWindow(db, { ...request, to: request.to ?? Date.now() + 1 });
	yield {
		kind: 'meta',
		mode: request.bucket ? 'rollup' : 'raw',
		bucket: request.bucket,
		from: request.from,
		to: request.to,
		metrics: request.metrics,
		region: request.region,
		channel: request.channel,
		total,
		resumed: request.after !== null,
		follow: request.follow,
		seeding: seedProgress(rt)
	};

	let position: Position | null = null;
	if (!request.bucket) {
		position = request.after?.kind === 'record' ? request.after : null;
		for await (const rows of storedAfter(rt, request, position)) {
			position = rows[rows.length - 1];
			yield batch(rows);
		}
		if (!request.follow) return;
		yield { kind: 'live' };
		for await (const records of live(rt, request, head, position, signal)) yield batch(records);
		return;
	}

	const size = BUCKETS[request.bucket];
	if (request.after?.kind === 'record') {
		// Resuming the increments of a followed rollup: the buckets were all sent before.
		position = request.after;
		for await (const rows of storedAfter(rt, request, position)) {
			position = rows[rows.length - 1];
			yield batch(rows.map((row) => increment(row, size)));
		}
	} else {
		const bound = request.follow ? (request.after?.kind === 'bucket' && request.after.bound) || (await newest(db)) || undefined : undefined;
		for await (const lines of rollups(rt, request, size, bound)) yield batch(lines);
		position = bound ?? null;
	}
	if (!request.follow) return;
	yield { kind: 'live' };
	for await (const records of live(rt, request, head, position, signal)) yield batch(records.map((record) => increment(record, size)));
}

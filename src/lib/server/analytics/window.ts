// What a stream asks for: the window and filters, read from a URL with a readable 400 for anything wrong.
import {
	BUCKETS,
	DIMENSIONS,
	METRIC_NAMES,
	type Bucket,
	type Channel,
	type Metric,
	type Region
} from '$lib/shared/analytics';
import { HttpError } from '../errors';

const DAY = 86_400_000;

/** The longest window each mode may cover, in days. */
export const MAX_WINDOW_DAYS: Record<'raw' | Bucket, number> = { raw: 92, '1m': 7, '1h': 400, '1d': 3660 };

/** A position in a stream: after a record (raw) or after a bucket of a metric (rollup). */
export type Cursor =
	| { kind: 'record'; time: number; id: number }
	| {
			kind: 'bucket';
			time: number;
			metric: Metric;
			/** A followed rollup's history covers events up to this one; live increments come after it. */
			bound?: { time: number; id: number };
	  };

/** The records a stream covers. */
export interface Window {
	from: number;
	/** Exclusive; null: open (follow), up to whatever exists and then live. */
	to: number | null;
	metrics: Metric[];
	region: Region[] | null;
	channel: Channel[] | null;
}

/** A whole stream request. */
export interface StreamRequest extends Window {
	bucket: Bucket | null;
	after: Cursor | null;
	follow: boolean;
}

/** The cursor of the record (time, id). */
export const recordCursor = (time: number, id: number): string => `r.${time}.${id}`;

/** `r.<time>.<id>` after a record, `b.<time>.<metric>[.<bound time>.<bound id>]` after a bucket. */
export function encodeCursor(cursor: Cursor): string {
	if (cursor.kind === 'record') return recordCursor(cursor.time, cursor.id);
	const bound = cursor.bound ? `.${cursor.bound.time}.${cursor.bound.id}` : '';
	return `b.${cursor.time}.${cursor.metric}${bound}`;
}

/** Reads a cursor; null when it is not one. */
export function decodeCursor(raw: string): Cursor | null {
	let match = /^r\.(\d{1,15})\.(\d{1,15})$/.exec(raw);
	if (match) return { kind: 'record', time: Number(match[1]), id: Number(match[2]) };
	match = /^b\.(\d{1,15})\.([a-z_]{1,32})(?:\.(\d{1,15})\.(\d{1,15}))?$/.exec(raw);
	if (!match || !(METRIC_NAMES as string[]).includes(match[2])) return null;
	const cursor: Cursor = { kind: 'bucket', time: Number(match[1]), metric: match[2] as Metric };
	if (match[3] !== undefined) cursor.bound = { time: Number(match[3]), id: Number(match[4]) };
	return cursor;
}

/** A time parameter: Unix ms, or an ISO 8601 date/time. */
function time(params: URLSearchParams, name: string): number | undefined {
	const raw = params.get(name)?.trim();
	if (!raw) return undefined;
	const value = /^\d{1,15}$/.test(raw) ? Number(raw) : /^\d{4}-\d{2}-\d{2}/.test(raw) ? Date.parse(raw) : NaN;
	if (!Number.isFinite(value)) {
		throw new HttpError(400, `"${name}" must be a time: Unix milliseconds or an ISO date such as 2026-11-01T00:00:00Z, got "${raw}".`);
	}
	return value;
}

/** A list parameter (comma-separated and/or repeated), each value one of `allowed`; null when absent. */
function list<T extends string>(params: URLSearchParams, name: string, allowed: readonly T[]): T[] | null {
	const values = params
		.getAll(name)
		.flatMap((v) => v.split(','))
		.map((v) => v.trim())
		.filter(Boolean);
	if (!values.length) return null;
	for (const value of values) {
		if (!(allowed as readonly string[]).includes(value)) {
			throw new HttpError(400, `Unknown ${name} "${value.slice(0, 40)}": use one of ${allowed.join(', ')}.`);
		}
	}
	return [...new Set(values)] as T[];
}

/**
 * Reads a stream request from query parameters: `from`, `to` (default: the last 24 hours),
 * `metric`, `region`, `channel` (lists), `bucket` (1m, 1h, 1d: rollups), `after` (a cursor),
 * `follow=1` (then live; no `to`). Throws a 400 HttpError with the reason for anything invalid.
 * @example const request = readStreamRequest(url.searchParams, Date.now());
 */
export function readStreamRequest(params: URLSearchParams, now: number): StreamRequest {
	const followRaw = params.get('follow');
	if (followRaw !== null && !['0', '1', 'true', 'false', ''].includes(followRaw)) {
		throw new HttpError(400, `"follow" must be 1 or 0, got "${followRaw.slice(0, 20)}".`);
	}
	const follow = followRaw === '1' || followRaw === 'true';
	const bucketRaw = params.get('bucket');
	if (bucketRaw !== null && bucketRaw !== '' && !(bucketRaw in BUCKETS)) {
		throw new HttpError(400, `"bucket" must be one of ${Object.keys(BUCKETS).join(', ')}, got "${bucketRaw.slice(0, 20)}".`);
	}
	const bucket = bucketRaw ? (bucketRaw as Bucket) : null;

	let to = time(params, 'to') ?? null;
	if (follow && to !== null) throw new HttpError(400, 'A followed stream has no end: leave out "to" with follow=1.');
	const from = time(params, 'from') ?? (to ?? now) - DAY;
	if (to !== null && from > to) throw new HttpError(400, `"from" (${new Date(from).toISOString()}) is after "to" (${new Date(to).toISOString()}).`);
	const span = (to ?? now) - from;
	const maxDays = MAX_WINDOW_DAYS[bucket ?? 'raw'];
	if (span > maxDays * DAY) {
		const what = bucket ? `${bucket} buckets` : 'raw records';
		throw new HttpError(400, `A window of ${Math.ceil(span / DAY)} days is too large for ${what} (at most ${maxDays}); narrow it or use larger buckets.`);
	}
	if (!follow && to === null) to = now;

	const afterRaw = params.get('after');
	let after: Cursor | null = null;
	if (afterRaw !== null && afterRaw !== '') {
		after = decodeCursor(afterRaw);
		if (!after) throw new HttpError(400, `"after" is not a cursor of this stream: "${afterRaw.slice(0, 40)}".`);
		if (after.kind === 'bucket' && !bucket) throw new HttpError(400, 'A bucket cursor resumes a rollup stream: add the same "bucket".');
	}

	return {
		from,
		to,
		bucket,
		after,
		follow,
		metrics: list(params, 'metric', METRIC_NAMES) ?? METRIC_NAMES,
		region: list(params, 'region', DIMENSIONS.region),
		channel: list(params, 'channel', DIMENSIONS.channel)
	};
}

import { json } from './json';
import { recordStream } from './ndjson-stream';
import type { RecordsResponse } from './types';

/** What a source gets: a signal that aborts when the stream ends, for whatever reason. */
export interface NdjsonContext {
	signal: AbortSignal;
}

/** Produces a stream's records; an error with a numeric `status` (HttpError) thrown while starting becomes that status. */
export type NdjsonSource<R> = (
	ctx: NdjsonContext
) => AsyncIterable<R> | Iterable<R> | Promise<AsyncIterable<R> | Iterable<R>>;

/** How an NDJSON response is made. */
export interface NdjsonOptions {
	/** Extra response headers (the stream's own headers win). */
	headers?: HeadersInit;
	/** Sees every error that is not an HttpError, before the client gets a generic message. */
	onError?: (error: unknown) => void;
}

const GENERIC_ERROR = 'The stream failed; try again later.';

/** The status and message of an HttpError-like error, else undefined. */
function httpError(error: unknown): { status: number; message: string; retryAfter?: number } | undefined {
	const { status, message, retryAfter } = (error ?? {}) as { status?: unknown; message?: unknown; retryAfter?: unknown };
	if (typeof status !== 'number' || status < 400 || status > 599) return undefined;
	return { status, message: String(message ?? ''), retryAfter: typeof retryAfter === 'number' ? retryAfter : undefined };
}

/** The iterator of an AsyncIterable or, failing that, of an Iterable. */
function iteratorOf<R>(records: AsyncIterable<R> | Iterable<R>): AsyncIterator<R> | Iterator<R> {
	if (records && typeof (records as AsyncIterable<R>)[Symbol.asyncIterator] === 'function') {
		return (records as AsyncIterable<R>)[Symbol.asyncIterator]();
	}
	if (records && typeof (records as Iterable<R>)[Symbol.iterator] === 'function') {
		return (records as Iterable<R>)[Symbol.iterator]();
	}
	throw new TypeError('An NDJSON source must return an AsyncIterable or an Iterable.');
}

/**
 * Answers a request with an `application/x-ndjson` stream of the source's records, one JSON
 * value a line, read from the source only as fast as the client takes them. The source runs
 * before any header goes out, so it can still refuse with a status; an error later becomes a
 * final `{"error": …}` line. The client going away returns the source's iterator, once.
 * @example
 * export const GET = ({ request, url, locals }) =>
 * 	ndjson<Point>(request, ({ signal }) => analytics.history(locals.user.id, url.searchParams.get('after'), signal));
 */
export async function ndjson<R>(
	request: Request,
	source: NdjsonSource<R>,
	options?: NdjsonOptions
): Promise<RecordsResponse<R>> {
	const stop = new AbortController();
	let iterator: AsyncIterator<R> | Iterator<R>;
	try {
		iterator = iteratorOf(await source({ signal: stop.signal }));
	} catch (error) {
		stop.abort();
		const known = httpError(error);
		if (!known) options?.onError?.(error);
		const headers = known?.retryAfter === undefined ? undefined : { 'retry-after': String(known.retryAfter) };
		return json({ error: known?.message ?? GENERIC_ERROR }, { status: known?.status ?? 500, headers }) as Response as RecordsResponse<R>;
	}
	const body = recordStream({
		iterator,
		signal: request.signal,
		errorLine(error) {
			const known = httpError(error);
			if (!known) options?.onError?.(error);
			return JSON.stringify({ error: known?.message ?? GENERIC_ERROR }) + '\n';
		},
		onEnd: () => stop.abort()
	});
	const headers = new Headers(options?.headers);
	headers.set('content-type', 'application/x-ndjson; charset=utf-8');
	headers.set('cache-control', 'no-cache, no-transform');
	headers.set('x-accel-buffering', 'no');
	return new Response(body, { status: 200, headers }) as RecordsResponse<R>;
}

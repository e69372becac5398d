import { startFailure, streamErrorMessage } from './errors';
import { iteratorOf, recordStream, type RecordBatch } from './ndjson-stream';
import type { RecordsResponse } from './types';

/** What a source gets: a signal that aborts when the stream ends, for whatever reason. */
export interface NdjsonContext {
	signal: AbortSignal;
}

/** What a source yields: one record, or several at once with batch(). */
export type NdjsonItem<R> = R | RecordBatch<R>;

/** Produces a stream's records; an error with a numeric `status` (HttpError) thrown while starting becomes that status. */
export type NdjsonSource<R> = (
	ctx: NdjsonContext
) => AsyncIterable<NdjsonItem<R>> | Iterable<NdjsonItem<R>> | Promise<AsyncIterable<NdjsonItem<R>> | Iterable<NdjsonItem<R>>>;

/** How an NDJSON response is made. */
export interface NdjsonOptions {
	/** Extra response headers (the stream's own headers win). */
	headers?: HeadersInit;
	/** Sees every error that is not an HttpError, before the client gets a generic message. */
	onError?: (error: unknown) => void;
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
	let iterator: AsyncIterator<NdjsonItem<R>> | Iterator<NdjsonItem<R>>;
	try {
		iterator = iteratorOf<NdjsonItem<R>>(await source({ signal: stop.signal }));
	} catch (error) {
		stop.abort();
		return startFailure(error, options?.onError) as RecordsResponse<R>;
	}
	const body = recordStream({
		iterator,
		signal: request.signal,
		errorLine: (error) => JSON.stringify({ error: streamErrorMessage(error, options?.onError) }) + '\n',
		onEnd: () => stop.abort()
	});
	const headers = new Headers(options?.headers);
	headers.set('content-type', 'application/x-ndjson; charset=utf-8');
	headers.set('cache-control', 'no-cache, no-transform');
	headers.set('x-accel-buffering', 'no');
	return new Response(body, { status: 200, headers }) as RecordsResponse<R>;
}

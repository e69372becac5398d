import { startFailure, streamErrorMessage } from './errors';
import { iteratorOf, recordStream, type RecordBatch } from './ndjson-stream';
import type { TextResponse } from './types';

/** What a source gets: a signal that aborts when the stream ends, for whatever reason. */
export interface TextContext {
	signal: AbortSignal;
}

/** What a text source yields: a piece of text, or several at once with batch(). */
export type TextItem = string | RecordBatch<string>;

/** Produces a stream's text; an error with a numeric `status` (HttpError) thrown while starting becomes that status. */
export type TextSource = (
	ctx: TextContext
) => AsyncIterable<TextItem> | Iterable<TextItem> | Promise<AsyncIterable<TextItem> | Iterable<TextItem>>;

/** How a text response is made. */
export interface TextOptions {
	/** Extra response headers (the stream's own headers win). */
	headers?: HeadersInit;
	/** Sees every error that is not an HttpError, before the client gets a generic message. */
	onError?: (error: unknown) => void;
}

/**
 * Answers a request with a chunked `text/plain; charset=utf-8` stream of the source's text, read
 * from the source only as fast as the client takes it (what is ready in one turn goes out as one
 * chunk). The source runs before any header goes out, so it can still refuse with a status; an
 * error later ends the body with a last line `error: <message>`. The client going away returns
 * the source's iterator, once.
 * @example
 * export const GET = ({ request, params, locals }) => text(request, ({ signal }) => jobs.logText(locals.user, params.id, signal));
 */
export async function text(request: Request, source: TextSource, options?: TextOptions): Promise<TextResponse> {
	const stop = new AbortController();
	let iterator: AsyncIterator<TextItem> | Iterator<TextItem>;
	try {
		iterator = iteratorOf<TextItem>(await source({ signal: stop.signal }));
	} catch (error) {
		stop.abort();
		return startFailure(error, options?.onError) as TextResponse;
	}
	// The error line starts a line of its own, whatever the text before it ended with.
	let atLineStart = true;
	const body = recordStream<string>({
		iterator,
		signal: request.signal,
		format(piece) {
			if (typeof piece !== 'string') throw new TypeError(`A text stream carries strings, not ${typeof piece}.`);
			if (piece) atLineStart = piece.endsWith('\n');
			return piece;
		},
		errorLine: (error) => `${atLineStart ? '' : '\n'}error: ${streamErrorMessage(error, options?.onError)}\n`,
		onEnd: () => stop.abort()
	});
	const headers = new Headers(options?.headers);
	headers.set('content-type', 'text/plain; charset=utf-8');
	headers.set('cache-control', 'no-cache, no-transform');
	headers.set('x-accel-buffering', 'no');
	headers.set('x-content-type-options', 'nosniff');
	return new Response(body, { status: 200, headers }) as TextResponse;
}

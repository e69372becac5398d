import { json } from './json';
import { formatMessage, type SseMessage } from './sse-format';
import { acquireSlot, releaseSlot, resolveOptions, type SseOptions } from './sse-options';
import { eventStream } from './sse-stream';
import type { EventsResponse } from './types';

/** What a source gets: where the client left off (`Last-Event-ID`) and a signal that aborts when the stream ends. */
export interface SseContext {
	lastEventId: string | null;
	signal: AbortSignal;
}

/** Produces a stream's messages; an error with a numeric `status` (HttpError) thrown while starting becomes that status. */
export type SseSource<E extends Record<string, unknown>> = (
	ctx: SseContext
) => AsyncIterable<SseMessage<E>> | Promise<AsyncIterable<SseMessage<E>>>;

const GENERIC_ERROR = 'The stream failed; try again later.';

/** The status and message of an HttpError-like error, else undefined. */
function httpError(error: unknown): { status: number; message: string; retryAfter?: number } | undefined {
	const { status, message, retryAfter } = (error ?? {}) as { status?: unknown; message?: unknown; retryAfter?: unknown };
	if (typeof status !== 'number' || status < 400 || status > 599) return undefined;
	return { status, message: String(message ?? ''), retryAfter: typeof retryAfter === 'number' ? retryAfter : undefined };
}

function failure<E extends Record<string, unknown>>(status: number, message: string, retryAfter?: number) {
	const headers = retryAfter === undefined ? undefined : { 'retry-after': String(retryAfter) };
	return json({ error: message }, { status, headers }) as Response as EventsResponse<E>;
}

/** Where the client left off: the `Last-Event-ID` header, else the `lastEventId` query parameter. */
function lastEventIdOf(request: Request): string | null {
	return request.headers.get('last-event-id') || new URL(request.url).searchParams.get('lastEventId') || null;
}

/**
 * Answers a request with a server-sent event stream of the source's messages: `retry:` first,
 * then one block per message (data as JSON), `:` heartbeats, and an `event: error` if the
 * source fails. The source runs before any header goes out, so it can still refuse with a status.
 * @example
 * export const GET = ({ request, locals }) =>
 * 	sse<NoteEvents>(request, ({ lastEventId, signal }) => notes.follow(locals.user.id, lastEventId, signal), {
 * 		limitKey: `user:${locals.user.id}`
 * 	});
 */
export async function sse<E extends Record<string, unknown>>(
	request: Request,
	source: SseSource<E>,
	options?: SseOptions
): Promise<EventsResponse<E>> {
	const settings = resolveOptions(options);
	const { limitKey, maxStreamsPerKey, shutdown, onError } = settings;
	if (shutdown?.aborted) return failure(503, 'The server is restarting; reconnect in a moment.', 1);
	if (!acquireSlot(limitKey, maxStreamsPerKey)) {
		return failure(429, `Too many open streams (at most ${maxStreamsPerKey}); close another tab or window and try again.`);
	}
	const stop = new AbortController();
	let iterator: AsyncIterator<SseMessage<E>>;
	try {
		iterator = (await source({ lastEventId: lastEventIdOf(request), signal: stop.signal }))[Symbol.asyncIterator]();
	} catch (error) {
		stop.abort();
		releaseSlot(limitKey, maxStreamsPerKey);
		const known = httpError(error);
		if (!known) onError?.(error);
		return known ? failure(known.status, known.message, known.retryAfter) : failure(500, GENERIC_ERROR);
	}
	const body = eventStream({
		iterator,
		retryMs: settings.retryMs,
		heartbeatMs: settings.heartbeatMs,
		maxQueue: settings.maxQueue,
		signal: request.signal,
		shutdown,
		errorBlock(error) {
			const known = httpError(error);
			if (!known) onError?.(error);
			return formatMessage({ event: 'error', data: { error: known?.message ?? GENERIC_ERROR } });
		},
		onEnd() {
			stop.abort();
			releaseSlot(limitKey, maxStreamsPerKey);
		}
	});
	const headers = new Headers(settings.headers);
	headers.set('content-type', 'text/event-stream; charset=utf-8');
	headers.set('cache-control', 'no-cache, no-transform');
	headers.set('x-accel-buffering', 'no');
	return new Response(body, { status: 200, headers }) as EventsResponse<E>;
}

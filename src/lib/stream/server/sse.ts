import { errorResponse, startFailure, streamErrorMessage } from './errors';
import { formatMessage, type SseMessage } from './sse-format';
import { acquireSlot, releaseSlot, resolveOptions, type SseOptions } from './sse-options';
import { markDirectBody } from './node-body';
import { SseStream, type StreamOwner } from './sse-stream';
import type { EventsResponse } from './types';

/** What a source gets: where the client left off (`Last-Event-ID`) and a signal that aborts when the stream ends. */
export interface SseContext {
	lastEventId: string | null;
	signal: AbortSignal;
}

/**
 * Produces a stream's messages; an error with a numeric `status` (HttpError) thrown while starting
 * becomes that status. `null` means nothing more will ever come (a finished job, say): the answer
 * is 204, which tells an EventSource not to reconnect.
 */
export type SseSource<E extends Record<string, unknown>> = (
	ctx: SseContext
) => AsyncIterable<SseMessage<E>> | null | Promise<AsyncIterable<SseMessage<E>> | null>;

/**
 * A source's context, and the owner of its SseStream: aborts the signal and frees the stream's
 * slot when the stream ends. The AbortSignal is made only if the source asks for it (each costs
 * about 1 KB per connection).
 */
class StreamContext implements SseContext, StreamOwner {
	readonly lastEventId: string | null;
	#stop = new AbortController();
	#limitKey: string | undefined;
	#maxStreamsPerKey: number | undefined;
	#onError: ((error: unknown) => void) | undefined;

	constructor(lastEventId: string | null, { limitKey, maxStreamsPerKey, onError }: SseOptions) {
		this.lastEventId = lastEventId;
		this.#limitKey = limitKey;
		this.#maxStreamsPerKey = maxStreamsPerKey;
		this.#onError = onError;
	}

	get signal(): AbortSignal {
		return this.#stop.signal;
	}

	ended(): void {
		this.#stop.abort();
		releaseSlot(this.#limitKey, this.#maxStreamsPerKey);
	}

	errorBlock(error: unknown): string {
		return formatMessage({ event: 'error', data: { error: streamErrorMessage(error, this.#onError) } });
	}
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
	if (shutdown?.aborted) return errorResponse(503, 'The server is restarting; reconnect in a moment.', { retryAfter: 1 }) as EventsResponse<E>;
	if (!acquireSlot(limitKey, maxStreamsPerKey)) {
		return errorResponse(429, `Too many open streams (at most ${maxStreamsPerKey}); close another tab or window and try again.`) as EventsResponse<E>;
	}
	const context = new StreamContext(lastEventIdOf(request), settings);
	let iterator: AsyncIterator<SseMessage<E>>;
	try {
		const messages = await source(context);
		if (messages === null) {
			context.ended();
			return new Response(null, { status: 204, headers: { 'cache-control': 'no-store' } }) as EventsResponse<E>;
		}
		iterator = messages[Symbol.asyncIterator]();
	} catch (error) {
		context.ended();
		return startFailure(error, onError) as EventsResponse<E>;
	}
	const stream = new SseStream({
		iterator,
		retryMs: settings.retryMs,
		heartbeatMs: settings.heartbeatMs,
		maxQueue: settings.maxQueue,
		signal: request.signal,
		shutdown,
		owner: context
	});
	const headers = new Headers(settings.headers);
	headers.set('content-type', 'text/event-stream; charset=utf-8');
	headers.set('cache-control', 'no-cache, no-transform');
	headers.set('x-accel-buffering', 'no');
	const response = new Response(stream.toReadableStream(), { status: 200, headers });
	return markDirectBody(response, stream) as EventsResponse<E>;
}

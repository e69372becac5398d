import { ApiError } from './api-error';
import { AsyncQueue } from './async-queue';
import { backoffDelay } from './backoff';
import { withQuery, type QueryParams } from './query';
import { canConnect, connect, type Connection } from './sse-connection';

/** Where an EventStream is: `reconnecting` covers the wait and the retry after a loss. */
export type EventsStatus = 'connecting' | 'open' | 'reconnecting' | 'closed';

/** One received event, discriminated on `type`. */
export type StreamEvent<E> = { [K in keyof E & string]: { type: K; data: E[K]; id?: string } }[keyof E & string];

/** Options of an event stream (a generated `open…` helper takes these). */
export interface EventsOptions {
	/** Resume after this id (sent as `Last-Event-ID`). */
	lastEventId?: string | null;
	headers?: Record<string, string>;
	withCredentials?: boolean;
	/** Events the async iterator holds before it drops the oldest (default 256). */
	bufferSize?: number;
	/** Longest wait between reconnects in ms (default 10 000: a person waiting for a page to come back notices more than that). */
	maxDelay?: number;
}

/** The longest reconnect backoff unless EventsOptions.maxDelay says otherwise. */
const MAX_DELAY_MS = 10_000;

type MessageHandler = (data: unknown, id?: string) => void;

/** Options of openEvents. */
export interface OpenEventsOptions extends EventsOptions {
	query?: QueryParams;
}

/**
 * A live SSE stream with typed events, Last-Event-ID resume and jittered backoff.
 * Events named `reset` and `error` are the server's protocol, not data. Without XMLHttpRequest
 * (server-side rendering) it never connects and stays `connecting`, like the first client render.
 */
export class EventStream<E extends Record<string, unknown>> {
	/** Connection state, for the page to show. */
	status = $state<EventsStatus>('connecting');
	/** The id to resume after (sent as `Last-Event-ID` on reconnect); null after a reset. */
	lastEventId = $state<string | null>(null);
	/** The last error's message; cleared when the stream (re)opens. */
	error = $state<string | null>(null);

	#url: string;
	#options: EventsOptions;
	#connection: Connection | null = null;
	#timer: ReturnType<typeof setTimeout> | null = null;
	#attempt = 0;
	#retry: number | null = null;
	#failure: Error | null = null;
	#notBefore = 0;
	#messages = new Map<string, Set<MessageHandler>>();
	#opens = new Set<() => void>();
	#errors = new Set<(error: ApiError | Error) => void>();
	#resets = new Set<() => void>();
	#queue: AsyncQueue<StreamEvent<E>> | null = null;

	constructor(url: string, options: OpenEventsOptions = {}) {
		this.#url = withQuery(url, options.query);
		this.#options = options;
		this.lastEventId = options.lastEventId ?? null;
		if (canConnect()) this.#connect();
	}

	/** Calls `handler` with each `type` event's parsed data; returns the unsubscribe. */
	onMessage<K extends keyof E & string>(type: K, handler: (data: E[K], id?: string) => void): () => void {
		const handlers = this.#messages.get(type) ?? new Set();
		this.#messages.set(type, handlers);
		return subscribe(handlers, handler as MessageHandler);
	}

	/** Calls `handler` each time the stream (re)opens. */
	onOpen(handler: () => void): () => void {
		return subscribe(this.#opens, handler);
	}

	/** Calls `handler` on HTTP, network, server (`event: error`) and malformed-data errors. */
	onError(handler: (error: ApiError | Error) => void): () => void {
		return subscribe(this.#errors, handler);
	}

	/** Calls `handler` when the server cannot resume from our id: reload what the page shows. */
	onReset(handler: () => void): () => void {
		return subscribe(this.#resets, handler);
	}

	/** Stops the stream for good. */
	close(): void {
		this.#stop(null);
	}

	/** Yields events in order; ends on close(), throws the error that stopped the stream. */
	[Symbol.asyncIterator](): AsyncIterator<StreamEvent<E>> {
		const queue = (this.#queue ??= new AsyncQueue(this.#options.bufferSize ?? 256));
		if (this.status === 'closed') queue.end(this.#failure);
		return {
			next: () => queue.next(),
			return: async () => {
				this.close();
				return { done: true, value: undefined };
			}
		};
	}

	#connect() {
		this.#connection = connect(
			this.#url,
			{ lastEventId: this.lastEventId, headers: this.#options.headers, withCredentials: this.#options.withCredentials },
			{
				open: (status) => this.#opened(status),
				event: (type, data, id) => this.#received(type, data, id),
				fail: (status, body, retryAfter) => this.#failed(status, body, retryAfter),
				end: (retry, lastEventId) => this.#ended(retry, lastEventId)
			}
		);
	}

	#opened(status: number) {
		if (status === 204) return this.#stop(null); // the server says: do not reconnect
		this.status = 'open';
		this.error = null;
		this.#attempt = 0;
		emit(this.#opens);
	}

	#received(type: string, data: string, id: string | undefined) {
		if (id !== undefined) this.lastEventId = id || null;
		if (type === 'reset') return this.#reset();
		if (type === 'error') return this.#report(new Error(errorMessage(data)));
		let parsed: unknown;
		try {
			parsed = JSON.parse(data);
		} catch {
			return emit(this.#errors, new Error(`Malformed JSON in a "${type}" event`));
		}
		emit(this.#messages.get(type) ?? new Set<MessageHandler>(), parsed, id);
		if (this.#queue?.push({ type, data: parsed, id } as StreamEvent<E>) === false) {
			emit(this.#errors, new Error('The event iterator fell behind: its oldest event was dropped'));
		}
	}

	#failed(status: number, body: string, retryAfter: number | null) {
		this.#notBefore = retryAfter ?? 0;
		const error = status < 400 ? new Error('Network error on the event stream') : ApiError.fromBody(status, body);
		this.#report(error);
		if (!retriable(status)) this.#stop(error);
	}

	#ended(retry: number | null, lastEventId: string | null) {
		this.#connection = null;
		if (retry !== null) this.#retry = retry;
		this.lastEventId = lastEventId;
		if (this.status === 'closed') return;
		this.status = 'reconnecting';
		const asked = this.#notBefore;
		const delay = Math.max(asked, backoffDelay(this.#attempt++, this.#retry ?? 1000, this.#options.maxDelay ?? MAX_DELAY_MS));
		this.#notBefore = 0;
		this.#timer = setTimeout(() => this.#reconnectNow(), delay);
		// The browser says the network is back: don't sit out the backoff (a server's Retry-After still counts).
		if (asked === 0 && typeof window !== 'undefined') window.addEventListener('online', this.#onOnline, { once: true });
	}

	#onOnline = () => {
		if (this.#timer) this.#reconnectNow();
	};

	#reconnectNow() {
		if (this.#timer) clearTimeout(this.#timer);
		this.#timer = null;
		if (typeof window !== 'undefined') window.removeEventListener('online', this.#onOnline);
		this.#connect();
	}

	#reset() {
		this.#connection?.close();
		this.#connection = null;
		this.lastEventId = null;
		emit(this.#resets);
		if (this.status === 'closed') return; // a reset handler may close the stream
		this.status = 'connecting';
		this.#connect();
	}

	#report(error: Error) {
		this.error = error.message;
		emit(this.#errors, error);
	}

	#stop(failure: Error | null) {
		if (this.#timer) clearTimeout(this.#timer);
		this.#timer = null;
		if (typeof window !== 'undefined') window.removeEventListener('online', this.#onOnline);
		this.#connection?.close();
		this.#connection = null;
		this.status = 'closed';
		this.#failure ??= failure;
		this.#queue?.end(this.#failure);
	}
}

/**
 * Opens a typed SSE stream (browser only; see EventStream).
 * @example const s = openEvents<{ note: Note }>('/api/notifications/stream'); s.onMessage('note', show);
 */
export function openEvents<E extends Record<string, unknown>>(url: string, options?: OpenEventsOptions): EventStream<E> {
	return new EventStream<E>(url, options);
}

/** Network failures (status 0, or a 2xx/3xx cut short), 408, 429 and 5xx can heal (after any Retry-After); other 4xx (401 signed out, 400, 403, 404) cannot. */
function retriable(status: number): boolean {
	return status < 400 || status === 408 || status === 429 || status >= 500;
}

function errorMessage(data: string): string {
	try {
		const parsed: unknown = JSON.parse(data);
		if (parsed && typeof parsed === 'object' && 'error' in parsed) return String(parsed.error);
	} catch {
		// not JSON: use the text
	}
	return data || 'The server reported an error on the event stream';
}

function subscribe<F>(handlers: Set<F>, handler: F): () => void {
	handlers.add(handler);
	return () => handlers.delete(handler);
}

function emit<A extends unknown[]>(handlers: Set<(...args: A) => void>, ...args: A): void {
	for (const handler of [...handlers]) {
		try {
			handler(...args);
		} catch (error) {
			console.error('EventStream handler failed:', error);
		}
	}
}

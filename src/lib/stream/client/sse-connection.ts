// One SSE connection over sse.js; EventStream drives reconnects, so sse.js's own are off.
import { SSE } from 'sse.js';

/** What one connection reports; after `fail` or a server close, `end` comes exactly once. */
export interface ConnectionHandlers {
	/** The response is 2xx: the stream is open. */
	open(status: number): void;
	/** A server-sent event (`type` is "message" when it had no `event:` line). */
	event(type: string, data: string, id: string | undefined): void;
	/** Non-2xx response (`status`, `body`, its Retry-After in ms) or network failure (status 0). */
	fail(status: number, body: string, retryAfter: number | null): void;
	/** The connection is over; `retry` is the server's last `retry:` (ms), if any. */
	end(retry: number | null, lastEventId: string | null): void;
}

/** An open connection. */
export interface Connection {
	/** Aborts it; no more handler calls. */
	close(): void;
}

/** Connection options. */
export interface ConnectOptions {
	lastEventId: string | null;
	headers?: Record<string, string>;
	withCredentials?: boolean;
}

// sse.js's published types describe dispatchEvent wrongly; this is the part we use.
interface SseJsEvent extends Event {
	data?: unknown;
	id?: string | null;
	lastEventId?: string;
	responseCode?: number;
	readyState?: number;
	headers?: Record<string, string[]>;
}
interface SseJsSource {
	lastEventId: string;
	reconnectDelay: number;
	dispatchEvent(event: SseJsEvent | null): boolean;
	stream(): void;
	close(): void;
}

const CLOSED = 2;

/** True where sse.js can run (it needs XMLHttpRequest: the browser, or a test polyfill). */
export function canConnect(): boolean {
	return typeof XMLHttpRequest !== 'undefined';
}

/**
 * Opens one SSE GET request to `url`, sending `Last-Event-ID` when `options.lastEventId` is set.
 * @example const c = connect('/api/x/stream', { lastEventId: null }, handlers); c.close();
 */
export function connect(url: string, options: ConnectOptions, handlers: ConnectionHandlers): Connection {
	const source = new SSE(url, {
		headers: { accept: 'text/event-stream', ...options.headers },
		withCredentials: options.withCredentials ?? false,
		start: false,
		autoReconnect: false,
		useLastEventId: true,
		reconnectDelay: -1 // sentinel: any server `retry:` replaces it
	}) as unknown as SseJsSource;
	source.lastEventId = options.lastEventId ?? '';
	let done = false;
	let retryAfter: number | null = null;

	const dispatch = source.dispatchEvent;
	source.dispatchEvent = (event) => {
		if (event && !done) route(event);
		return dispatch.call(source, event);
	};

	function route(event: SseJsEvent) {
		// Server-sent events carry `lastEventId`; sse.js's own (open, error, ...) do not.
		if (typeof event.lastEventId === 'string') {
			handlers.event(event.type, String(event.data ?? ''), event.id ?? undefined);
		} else if (event.type === 'open') {
			if (isOk(event.responseCode)) handlers.open(event.responseCode ?? 200);
			else retryAfter = secondsToMs(event.headers?.['retry-after']?.[0]);
		} else if (event.type === 'error') {
			handlers.fail(event.responseCode ?? 0, typeof event.data === 'string' ? event.data : '', retryAfter);
		} else if (event.type === 'readystatechange' && event.readyState === CLOSED) {
			done = true;
			const retry = source.reconnectDelay >= 0 ? source.reconnectDelay : null;
			handlers.end(retry, source.lastEventId || null);
		}
	}

	source.stream();
	return {
		close() {
			done = true;
			source.close();
		}
	};
}

function secondsToMs(header: string | undefined): number | null {
	return header && /^\d+$/.test(header) ? Number(header) * 1000 : null;
}

function isOk(status: number | undefined): boolean {
	return status !== undefined && status >= 200 && status < 300;
}

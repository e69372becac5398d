/** How sse() runs a stream; any field left out comes from configureSse(), then the built-in default. */
export interface SseOptions {
	/** Reconnection delay sent first as `retry:` (ms); default 3000. */
	retryMs?: number;
	/** Interval of `:` heartbeat comments (ms); default 15000. */
	heartbeatMs?: number;
	/** Unsent messages one client may fall behind by before its stream is closed to resume later; default 1000. */
	maxQueue?: number;
	/** Counts this stream against a key (a user, say) for maxStreamsPerKey. */
	limitKey?: string;
	/** Open streams one limitKey may hold; the next one gets 429. No limit when unset. */
	maxStreamsPerKey?: number;
	/** When it aborts (server shutdown), streams say `retry: 1000`, `: closing` and end. */
	shutdown?: AbortSignal;
	/** Extra response headers; the stream's own content-type and cache-control win. */
	headers?: HeadersInit;
	/** Sees every error that is not an HttpError-like `{ status }` (to log it); clients get a generic message. */
	onError?: (error: unknown) => void;
}

const BUILT_IN = { retryMs: 3000, heartbeatMs: 15_000, maxQueue: 1000 } satisfies SseOptions;

let defaults: SseOptions = {};

/**
 * Sets the process-wide defaults of every sse() call (replacing earlier ones), once at start.
 * @example configureSse({ heartbeatMs: config.sseHeartbeatMs, maxStreamsPerKey: config.sseMaxStreamsPerUser, shutdown });
 */
export function configureSse(options: Partial<SseOptions>): void {
	defaults = { ...options };
}

/** The options of one call over the configured defaults and the built-in ones. */
export function resolveOptions(options: SseOptions = {}): SseOptions & typeof BUILT_IN {
	const defined = Object.fromEntries(Object.entries(options).filter(([, value]) => value !== undefined));
	return { ...BUILT_IN, ...defaults, ...defined };
}

const open = new Map<string, number>();

/** Takes a stream slot for `key`; false when it already holds `max`. No key or no max: always true. */
export function acquireSlot(key: string | undefined, max: number | undefined): boolean {
	if (key === undefined || max === undefined) return true;
	const count = open.get(key) ?? 0;
	if (count >= max) return false;
	open.set(key, count + 1);
	return true;
}

/** Gives back a slot taken by acquireSlot (same arguments). */
export function releaseSlot(key: string | undefined, max: number | undefined): void {
	if (key === undefined || max === undefined) return;
	const count = (open.get(key) ?? 1) - 1;
	if (count > 0) open.set(key, count);
	else open.delete(key);
}

/** Open streams counted for `key` (for tests and metrics). */
export function openStreams(key: string): number {
	return open.get(key) ?? 0;
}

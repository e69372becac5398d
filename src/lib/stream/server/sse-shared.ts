// What all the event streams of a process share: the last encoding, the retry blocks, one timer per
// heartbeat interval, one listener on the shutdown signal and one flush per turn of the event loop.
import { AsyncResource } from 'node:async_hooks';
import { formatRetry } from './sse-format';

/** A stream as the shared timers and flush see it. */
export interface SharedStream {
	/** A heartbeat is due. */
	beat(): void;
	/** The server is shutting down. */
	shutDown(): void;
	/** Hands over what is queued. */
	flush(): void;
}

// Made when this module loads (at server start, through hooks.server.ts), outside any request.
const detached = new AsyncResource('RunnelEventStreams');

// One encoder for every stream, and the last encoding reused: a broadcast writes the same text to
// every client in a turn. The bytes are never mutated after they are handed out.
/** The encoder of every stream. */
export const encoder = new TextEncoder();
let lastText = '';
let lastBytes = encoder.encode('');
/** The UTF-8 bytes of `text`, reused while the same text is written to stream after stream. */
export function encode(text: string): Uint8Array {
	if (text !== lastText) {
		lastText = text;
		lastBytes = encoder.encode(text);
	}
	return lastBytes;
}

// The `retry:` block of each interval, shared by every stream that starts with it.
const retryBlocks = new Map<number, string>();
/** The `retry:` block for `ms`, made once. */
export function retryBlock(ms: number): string {
	let block = retryBlocks.get(ms);
	if (block === undefined) retryBlocks.set(ms, (block = formatRetry(ms)));
	return block;
}

// Streams grouped by heartbeat interval and by shutdown signal: one timer and one abort listener
// for all of them, not one per connection.
const beats = new Map<number, { timer: ReturnType<typeof setInterval>; streams: Set<SharedStream> }>();
const shutdowns = new Map<AbortSignal, { listener: () => void; streams: Set<SharedStream> }>();

/** Gives `stream` a heartbeat every `ms` from the interval's one timer. */
export function joinBeats(ms: number, stream: SharedStream): void {
	let group = beats.get(ms);
	if (!group) {
		const streams = new Set<SharedStream>();
		// Made outside the request at hand, which it would otherwise keep alive (see outsideRequest).
		const timer = detached.runInAsyncScope(() => setInterval(() => streams.forEach((one) => one.beat()), ms));
		timer.unref?.();
		beats.set(ms, (group = { timer, streams }));
	}
	group.streams.add(stream);
}

/** Stops the heartbeats of `stream`; the last to leave stops the timer. */
export function leaveBeats(ms: number, stream: SharedStream): void {
	const group = beats.get(ms);
	if (!group?.streams.delete(stream) || group.streams.size > 0) return;
	clearInterval(group.timer);
	beats.delete(ms);
}

/** Calls `stream.shutDown()` when `signal` aborts, through the signal's one listener. */
export function joinShutdown(signal: AbortSignal, stream: SharedStream): void {
	let group = shutdowns.get(signal);
	if (!group) {
		const streams = new Set<SharedStream>();
		const listener = () => [...streams].forEach((one) => one.shutDown());
		signal.addEventListener('abort', listener, { once: true });
		shutdowns.set(signal, (group = { listener, streams }));
	}
	group.streams.add(stream);
}

/** Forgets `stream`; the last to leave removes the listener. */
export function leaveShutdown(signal: AbortSignal, stream: SharedStream): void {
	const group = shutdowns.get(signal);
	if (!group?.streams.delete(stream) || group.streams.size > 0) return;
	signal.removeEventListener('abort', group.listener);
	shutdowns.delete(signal);
}

// Streams with a waiting read and new messages are flushed together once per turn, so all that a
// source had ready leaves in one write.
const dirty = new Set<SharedStream>();
let flushScheduled = false;

/** Flushes `stream` once at the end of this turn of the event loop, with every other stream that has news. */
export function scheduleFlush(stream: SharedStream): void {
	dirty.add(stream);
	if (flushScheduled) return;
	flushScheduled = true;
	setImmediate(() => {
		flushScheduled = false;
		const due = [...dirty];
		dirty.clear();
		for (const one of due) one.flush();
	});
}

/** Takes `stream` off the next flush (it ended). */
export function unscheduleFlush(stream: SharedStream): void {
	dirty.delete(stream);
}


/**
 * Runs `start` outside the current request's async context. A promise made inside it keeps that
 * context alive (SvelteKit's AsyncLocalStorage store: the whole RequestEvent, about 10 KB) for as
 * long as it is pending, and an idle stream's pending `next()` is pending for hours.
 */
export function outsideRequest(start: () => void): void {
	detached.runInAsyncScope(start);
}

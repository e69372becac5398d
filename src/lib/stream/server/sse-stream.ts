import { formatComment, formatMessage, formatRetry } from './sse-format';

/** What eventStream() needs: the source's iterator, timings and the signals that end it. */
export interface EventStreamInit {
	iterator: AsyncIterator<{ id?: string; event: string; data: unknown }>;
	retryMs: number;
	heartbeatMs: number;
	maxQueue: number;
	/** Aborted when the client goes away. */
	signal: AbortSignal;
	/** Aborted when the server shuts down. */
	shutdown?: AbortSignal;
	/** Turns a source error into the `event: error` block the client gets. */
	errorBlock: (error: unknown) => string;
	/** Runs once when the stream ends, for whatever reason, before the iterator's return(). */
	onEnd: () => void;
}

const SHUTDOWN_RETRY_MS = 1000;
/** Queued messages past which the pump lets I/O run before taking more from the source. */
const YIELD_AT = 16;

/** Lets I/O run, so a client that keeps up can drain the queue before it overflows. */
const tick = () => new Promise<void>((resolve) => setImmediate(resolve));

// One encoder for every stream, and the last encoding reused: a broadcast writes the same text to
// every client in a turn. The bytes are never mutated after they are handed out.
const encoder = new TextEncoder();
let lastText = '';
let lastBytes = encoder.encode('');
function encode(text: string): Uint8Array {
	if (text !== lastText) {
		lastText = text;
		lastBytes = encoder.encode(text);
	}
	return lastBytes;
}

// One heartbeat timer per interval for all streams, not one per connection.
const beats = new Map<number, { timer: ReturnType<typeof setInterval>; streams: Set<() => void> }>();
function onHeartbeat(ms: number, beat: () => void): () => void {
	let group = beats.get(ms);
	if (!group) {
		const streams = new Set<() => void>();
		const timer = setInterval(() => streams.forEach((run) => run()), ms);
		timer.unref?.();
		beats.set(ms, (group = { timer, streams }));
	}
	group.streams.add(beat);
	return () => {
		group.streams.delete(beat);
		if (group.streams.size === 0) {
			clearInterval(group.timer);
			beats.delete(ms);
		}
	};
}

// Streams with a waiting read and new messages are flushed together once per turn, so all that a
// source had ready leaves in one write.
const dirty = new Set<() => void>();
let flushScheduled = false;
function scheduleFlush(flush: () => void): void {
	dirty.add(flush);
	if (flushScheduled) return;
	flushScheduled = true;
	setImmediate(() => {
		flushScheduled = false;
		const due = [...dirty];
		dirty.clear();
		for (const run of due) run();
	});
}

/**
 * The body of an SSE response: the source is consumed eagerly into a bounded queue of formatted
 * blocks, which are encoded only when the body is pulled. A client that falls more than
 * maxQueue messages behind has its stream closed, to resume by Last-Event-ID.
 * @example new Response(eventStream({ iterator, retryMs: 3000, heartbeatMs: 15000, maxQueue: 1000, signal, errorBlock, onEnd }));
 */
export function eventStream(init: EventStreamInit): ReadableStream<Uint8Array> {
	const { iterator, signal, shutdown } = init;
	const queue: string[] = [];
	let heartbeatDue = false;
	let ended = false;
	/** A read is pending and nothing was there to give it. */
	let waiting = false;
	let controller!: ReadableStreamDefaultController<Uint8Array>;
	const send = () => {
		if (ended || (!heartbeatDue && queue.length === 0)) return;
		waiting = false;
		const text = (heartbeatDue ? formatComment() : '') + queue.join('');
		heartbeatDue = false;
		queue.length = 0;
		controller.enqueue(encode(text));
	};
	const flush = () => {
		if (waiting) send();
	};
	const notify = () => {
		if (waiting) scheduleFlush(flush);
	};
	const onAbort = () => end('', false);
	const onShutdown = () => end(formatRetry(SHUTDOWN_RETRY_MS) + formatComment('closing'), true);
	const stopHeartbeat = onHeartbeat(init.heartbeatMs, () => {
		heartbeatDue = true;
		notify();
	});

	/** Ends the stream once: stops the source, frees everything, then writes `tail` (after the queue when `drain`). */
	function end(tail: string, drain: boolean) {
		if (ended) return;
		ended = true;
		stopHeartbeat();
		signal.removeEventListener('abort', onAbort);
		shutdown?.removeEventListener('abort', onShutdown);
		init.onEnd();
		try {
			void Promise.resolve(iterator.return?.()).catch(() => {});
		} catch {
			// A throwing return() has nothing left to clean up for us.
		}
		const text = (drain ? queue.join('') : '') + tail;
		queue.length = 0;
		dirty.delete(flush);
		try {
			if (text) controller.enqueue(encoder.encode(text));
			controller.close();
		} catch {
			// Already cancelled by the client.
		}
	}

	async function pump() {
		try {
			while (!ended) {
				const result = await iterator.next();
				if (ended) return;
				if (result.done) return end('', true);
				queue.push(formatMessage(result.value));
				notify();
				if (queue.length > init.maxQueue) return end('', false);
				// The client is behind: let I/O drain the queue before taking more.
				if (queue.length >= YIELD_AT) await tick();
			}
		} catch (error) {
			end(init.errorBlock(error), true);
		}
	}

	return new ReadableStream<Uint8Array>(
		{
			start(c) {
				controller = c;
				controller.enqueue(encoder.encode(formatRetry(init.retryMs)));
				signal.addEventListener('abort', onAbort);
				shutdown?.addEventListener('abort', onShutdown);
				if (signal.aborted) onAbort();
				else if (shutdown?.aborted) onShutdown();
				else void pump();
			},
			pull() {
				if (ended) return;
				if (queue.length > 0 || heartbeatDue) send();
				else waiting = true;
			},
			cancel: () => end('', false)
		},
		{ highWaterMark: 0 }
	);
}

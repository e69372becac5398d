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

/** Lets I/O run, so a client that keeps up can drain the queue before it overflows. */
const tick = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * The body of an SSE response: the source is consumed eagerly into a bounded queue of formatted
 * blocks, which are encoded only when the body is pulled. A client that falls more than
 * maxQueue messages behind has its stream closed, to resume by Last-Event-ID.
 * @example new Response(eventStream({ iterator, retryMs: 3000, heartbeatMs: 15000, maxQueue: 1000, signal, errorBlock, onEnd }));
 */
export function eventStream(init: EventStreamInit): ReadableStream<Uint8Array> {
	const { iterator, signal, shutdown } = init;
	const encoder = new TextEncoder();
	const queue: string[] = [];
	let heartbeatDue = false;
	let ended = false;
	let wake: (() => void) | undefined;
	let controller!: ReadableStreamDefaultController<Uint8Array>;
	const notify = () => {
		wake?.();
		wake = undefined;
	};
	const onAbort = () => end('', false);
	const onShutdown = () => end(formatRetry(SHUTDOWN_RETRY_MS) + formatComment('closing'), true);
	const heartbeat = setInterval(() => {
		heartbeatDue = true;
		notify();
	}, init.heartbeatMs);

	/** Ends the stream once: stops the source, frees everything, then writes `tail` (after the queue when `flush`). */
	function end(tail: string, flush: boolean) {
		if (ended) return;
		ended = true;
		clearInterval(heartbeat);
		signal.removeEventListener('abort', onAbort);
		shutdown?.removeEventListener('abort', onShutdown);
		init.onEnd();
		try {
			void Promise.resolve(iterator.return?.()).catch(() => {});
		} catch {
			// A throwing return() has nothing left to clean up for us.
		}
		const text = (flush ? queue.join('') : '') + tail;
		queue.length = 0;
		try {
			if (text) controller.enqueue(encoder.encode(text));
			controller.close();
		} catch {
			// Already cancelled by the client.
		}
		notify();
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
				if (queue.length > 1) await tick();
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
			async pull(c) {
				while (!ended && queue.length === 0 && !heartbeatDue) await new Promise<void>((resolve) => (wake = resolve));
				if (ended) return;
				const text = (heartbeatDue ? formatComment() : '') + queue.join('');
				heartbeatDue = false;
				queue.length = 0;
				c.enqueue(encoder.encode(text));
			},
			cancel: () => end('', false)
		},
		{ highWaterMark: 0 }
	);
}

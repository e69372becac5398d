import { formatComment, formatMessage, formatRetry } from './sse-format';
import { encode, encoder, joinBeats, joinShutdown, leaveBeats, leaveShutdown, outsideRequest, retryBlock, scheduleFlush, unscheduleFlush, type SharedStream } from './sse-shared';

/** One message of a source, before formatting. */
type Message = { id?: string; event: string; data: unknown };

/** What an SseStream needs: the source's iterator, timings and the signals that end it. */
export interface SseStreamInit {
	iterator: AsyncIterator<Message>;
	retryMs: number;
	heartbeatMs: number;
	maxQueue: number;
	/** Aborted when the client goes away (until detachSignal()). */
	signal: AbortSignal;
	/** Aborted when the server shuts down. */
	shutdown?: AbortSignal;
	/** Told when the stream ends, and asked what a source error becomes (an object, not closures: it is kept per connection). */
	owner: StreamOwner;
}

/** The part of a node ServerResponse that SseStream.writeTo() uses. */
export interface StreamSink {
	readonly destroyed: boolean;
	write(chunk: Uint8Array): boolean;
	end(chunk?: Uint8Array): unknown;
	once(event: 'close' | 'drain', listener: () => void): unknown;
}

/** Who runs an SseStream: sse(), which frees the stream's slot and stops its source. */
export interface StreamOwner {
	/** Runs once when the stream ends, for whatever reason, before the iterator's return(). */
	ended(): void;
	/** The `event: error` block a source error becomes. */
	errorBlock(error: unknown): string;
}

const SHUTDOWN_RETRY_MS = 1000;
/** Queued messages past which the pump lets I/O run before taking more from the source. */
const YIELD_AT = 16;
const DONE: ReadableStreamReadDoneResult<Uint8Array> = Object.freeze({ done: true, value: undefined });

/**
 * The body of an SSE response as a pull reader (`read()`, `cancel()`), with no web stream behind
 * it: the source is consumed eagerly into a bounded queue of formatted blocks, encoded when read.
 * A client that falls more than maxQueue messages behind has its stream ended, to resume by
 * Last-Event-ID. toReadableStream() wraps it for consumers that need a real ReadableStream.
 * @example const body = new SseStream({ iterator, retryMs: 3000, heartbeatMs: 15000, maxQueue: 1000, signal, owner });
 */
export class SseStream implements SharedStream {
	#iterator: AsyncIterator<Message>;
	#heartbeatMs: number;
	#maxQueue: number;
	#shutdown: AbortSignal | undefined;
	#owner: StreamOwner;
	/** The request's signal while watched; dropped after, so the Request behind it can go. */
	#signal: AbortSignal | undefined;
	/** The `retry:` block, until the first read takes it. */
	#first: string;
	#queue: string[] = [];
	#heartbeatDue = false;
	#ended = false;
	/** What is left to hand out once ended. */
	#rest = '';
	/** The resolver of a read that found nothing to give. */
	#waiting: ((result: ReadableStreamReadResult<Uint8Array>) => void) | undefined;
	/** The socket's response, once writeTo() took the stream over. */
	#sink: StreamSink | undefined;
	/** The sink's buffer is full: nothing is written until it drains. */
	#blocked = false;

	constructor(init: SseStreamInit) {
		const { signal, shutdown } = init;
		this.#iterator = init.iterator;
		this.#heartbeatMs = init.heartbeatMs;
		this.#maxQueue = init.maxQueue;
		this.#shutdown = shutdown;
		this.#owner = init.owner;
		this.#first = retryBlock(init.retryMs);
		if (signal.aborted) this.#end('', false);
		else if (shutdown?.aborted) this.shutDown();
		else {
			this.#signal = signal;
			signal.addEventListener('abort', this);
			if (shutdown) joinShutdown(shutdown, this);
			joinBeats(init.heartbeatMs, this);
			outsideRequest(() => this.#pull());
		}
	}

	/** Never locked: setResponse() of @sveltejs/kit/node may read it as a body. */
	get locked(): boolean {
		return false;
	}

	/** The stream is its own reader. */
	getReader(): this {
		return this;
	}

	releaseLock(): void {}

	/** The next chunk: everything queued since the last read, or a promise of the next. */
	read(): Promise<ReadableStreamReadResult<Uint8Array>> {
		if (this.#ended) {
			const rest = this.#rest;
			this.#rest = '';
			return Promise.resolve(rest ? { done: false, value: encoder.encode(rest) } : DONE);
		}
		const chunk = this.#take();
		if (chunk) return Promise.resolve({ done: false, value: chunk });
		return new Promise((resolve) => (this.#waiting = resolve));
	}

	/** The reader went away: ends the stream and drops what was queued. */
	cancel(): Promise<void> {
		this.#end('', false);
		this.#rest = '';
		this.#wake(DONE);
		return Promise.resolve();
	}

	/** Stops watching the request's signal: the caller cancels the reader when the client goes away. */
	detachSignal(): void {
		this.#signal?.removeEventListener('abort', this);
		this.#signal = undefined;
	}

	/** The request's signal aborted: the client went away. */
	handleEvent(): void {
		this.#end('', false);
	}

	/** A heartbeat is due (called by the shared timer). */
	beat(): void {
		this.#heartbeatDue = true;
		this.#notify();
	}

	/** The server is shutting down: what is queued, then a retry hint and a closing comment. */
	shutDown(): void {
		this.#end(formatRetry(SHUTDOWN_RETRY_MS) + formatComment('closing'), true);
	}

	/** Hands what is queued to a waiting read or writes it to the sink (called once per turn by the shared flush). */
	flush(): void {
		if (this.#ended) return;
		if (this.#sink) return this.#write();
		if (!this.#waiting) return;
		const chunk = this.#take();
		if (chunk) this.#wake({ done: false, value: chunk });
	}

	/**
	 * Writes the stream to a node response itself, with its backpressure, and ends it when the
	 * socket closes: no reader, no promise per chunk. The status and headers must be written first.
	 * @example res.writeHead(200, headers); stream.writeTo(res);
	 */
	writeTo(sink: StreamSink): void {
		this.#sink = sink;
		this.detachSignal();
		if (sink.destroyed) return void this.cancel();
		sink.once('close', () => this.cancel());
		if (this.#ended) this.#finish();
		else this.#write();
	}

	#write(): void {
		const sink = this.#sink!;
		if (this.#blocked || sink.destroyed) return;
		const chunk = this.#take();
		if (!chunk || sink.write(chunk)) return;
		this.#blocked = true;
		sink.once('drain', () => {
			this.#blocked = false;
			if (this.#ended) this.#finish();
			else this.#write();
		});
	}

	/** Writes what was left at the end, then ends the response. */
	#finish(): void {
		const sink = this.#sink!;
		const rest = this.#rest;
		this.#rest = '';
		if (sink.destroyed) return;
		if (rest) sink.end(encoder.encode(rest));
		else sink.end();
	}

	/** The chunks, for anything that takes an async iterable (`new Response(stream)`, say). */
	async *[Symbol.asyncIterator](): AsyncGenerator<Uint8Array> {
		try {
			for (let result = await this.read(); !result.done; result = await this.read()) yield result.value;
		} finally {
			await this.cancel();
		}
	}

	/** Wraps the stream as a web ReadableStream (for a Response body outside setResponse()). */
	toReadableStream(): ReadableStream<Uint8Array> {
		return new ReadableStream<Uint8Array>(
			{
				pull: async (controller) => {
					const result = await this.read();
					if (result.done) controller.close();
					else controller.enqueue(result.value);
				},
				cancel: () => this.cancel()
			},
			{ highWaterMark: 0 }
		);
	}

	#take(): Uint8Array | undefined {
		if (!this.#first && !this.#heartbeatDue && this.#queue.length === 0) return undefined;
		const text = this.#first + (this.#heartbeatDue ? formatComment() : '') + this.#queue.join('');
		this.#first = '';
		this.#heartbeatDue = false;
		this.#queue.length = 0;
		return encode(text);
	}

	#wake(result: ReadableStreamReadResult<Uint8Array>): void {
		const waiting = this.#waiting;
		this.#waiting = undefined;
		waiting?.(result);
	}

	#notify(): void {
		if (this.#waiting || (this.#sink && !this.#blocked)) scheduleFlush(this);
	}

	/** Ends the stream once: stops the source, frees everything, then leaves `tail` to read (after the queue when `drain`). */
	#end(tail: string, drain: boolean): void {
		if (this.#ended) return;
		this.#ended = true;
		leaveBeats(this.#heartbeatMs, this);
		this.detachSignal();
		if (this.#shutdown) leaveShutdown(this.#shutdown, this);
		unscheduleFlush(this);
		this.#owner.ended();
		try {
			void Promise.resolve(this.#iterator.return?.()).catch(() => {});
		} catch {
			// A throwing return() has nothing left to clean up for us.
		}
		this.#rest = this.#first + (drain ? this.#queue.join('') : '') + tail;
		this.#first = '';
		this.#queue.length = 0;
		if (this.#sink) {
			if (!this.#blocked) this.#finish();
		} else if (this.#waiting) {
			const rest = this.#rest;
			this.#rest = '';
			this.#wake(rest ? { done: false, value: encoder.encode(rest) } : DONE);
		}
	}

	/** Asks the source for its next message. Callbacks, not an async loop: an idle stream keeps no suspended frame. */
	#pull(): void {
		let next: Promise<IteratorResult<Message>>;
		try {
			next = Promise.resolve(this.#iterator.next());
		} catch (error) {
			return this.#onFailure(error);
		}
		void next.then(this.#onNext, this.#onFailure);
	}

	#onNext = (result: IteratorResult<Message>): void => {
		if (this.#ended) return;
		if (result.done) return this.#end('', true);
		let block: string;
		try {
			block = formatMessage(result.value);
		} catch (error) {
			return this.#onFailure(error);
		}
		this.#queue.push(block);
		this.#notify();
		if (this.#queue.length > this.#maxQueue) return this.#end('', false);
		// The client is behind: let I/O drain the queue before taking more.
		if (this.#queue.length >= YIELD_AT) setImmediate(() => this.#ended || this.#pull());
		else this.#pull();
	};

	#onFailure = (error: unknown): void => {
		if (!this.#ended) this.#end(this.#owner.errorBlock(error), true);
	};
}

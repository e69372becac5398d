import type { QueryParams } from './query';
import { pumpRecords } from './records-pump';

/** Options of a records (NDJSON) stream; a generated `read…` helper takes these. */
export interface RecordsOptions<R> {
	/** Stops the stream: the iterator ends, `done` resolves, no callback runs after. */
	signal?: AbortSignal;
	/** The fetch to use: pass SvelteKit's from a load function. */
	fetch?: typeof fetch;
	/** Each network chunk's complete records, in order. */
	onChunk?: (records: R[]) => void;
	/** The server ended the stream. */
	onComplete?: () => void;
	/** The stream failed: ApiError (non-2xx), the server's `{"error"}` line, a malformed line, a lost connection. */
	onError?: (error: Error) => void;
	/**
	 * The record field holding its cursor: a broken connection resumes with `?after=<last cursor>`
	 * (for a union of line kinds, a field of any of them; lines without it don't move the cursor).
	 * Without it, a broken stream is an error.
	 */
	cursor?: R extends unknown ? keyof R & string : never;
	/** Reconnects in a row without a record in between, with jittered backoff (default 5). */
	retries?: number;
}

/** Options of readRecords. */
export interface ReadRecordsOptions<R> extends RecordsOptions<R> {
	query?: QueryParams;
}

/** A running records stream: iterate it (in the tick it was returned) or use the callbacks, or both. */
export interface RecordStream<R> extends AsyncIterable<R> {
	/** Resolves when the stream completes or is aborted; rejects with the error onError gets. */
	readonly done: Promise<void>;
	/** Stops the stream, like aborting `signal`. */
	abort(): void;
}

/**
 * Reads an `application/x-ndjson` endpoint as typed records. It starts on the next microtask: if
 * it was iterated by then, the loop sets the pace (the server produces only what the loop takes);
 * otherwise the callbacks alone receive the records, as fast as they come, and iterating later
 * throws. Leaving the loop early stops the stream.
 * @example
 * const points = readRecords<Point>('/api/analytics', { query: { from }, cursor: 'id', onChunk: (batch) => chart.add(batch) });
 * for await (const point of points) total += point.value;
 */
export function readRecords<R>(url: string, options: ReadRecordsOptions<R> = {}): RecordStream<R> {
	const stop = new AbortController();
	const abort = () => stop.abort();
	if (options.signal?.aborted) abort();
	options.signal?.addEventListener('abort', abort, { once: true });
	let handoff: Handoff<R> | null = null;
	let started = false;
	const done = new Promise<void>((resolve) => queueMicrotask(resolve)).then(async () => {
		started = true;
		try {
			await pumpRecords<R>({ ...options, url, signal: stop.signal }, async (records) => {
				if (stop.signal.aborted) return;
				options.onChunk?.(records);
				await handoff?.put(records);
			});
			if (!stop.signal.aborted) options.onComplete?.();
			handoff?.finish();
		} catch (error) {
			options.onError?.(error as Error);
			handoff?.finish(error as Error);
			throw error;
		} finally {
			options.signal?.removeEventListener('abort', abort);
		}
	});
	done.catch(() => {});
	return {
		done,
		abort,
		[Symbol.asyncIterator]() {
			if (handoff) throw new TypeError('A records stream can be iterated once.');
			if (started) throw new TypeError('Iterate a records stream in the tick readRecords returned it; later, use its callbacks.');
			handoff = new Handoff<R>(abort);
			return handoff;
		}
	};
}

/** Hands batches from the reader to one async iterator; put() resolves once the iterator wants more. */
class Handoff<R> implements AsyncIterator<R> {
	#items: R[] = [];
	#end: { error?: Error } | null = null;
	#wanted: (() => void) | null = null;
	#arrived: (() => void) | null = null;

	constructor(readonly onReturn: () => void) {}

	put(records: R[]): Promise<void> {
		this.#items.push(...records);
		this.#wake();
		return new Promise((resolve) => (this.#wanted = resolve));
	}

	finish(error?: Error): void {
		this.#end ??= { error };
		this.#wake();
	}

	async next(): Promise<IteratorResult<R>> {
		for (;;) {
			if (this.#items.length) return { done: false, value: this.#items.shift() as R };
			this.#wanted?.();
			this.#wanted = null;
			if (this.#end) {
				const { error } = this.#end;
				this.#end = {};
				if (error) throw error;
				return { done: true, value: undefined };
			}
			await new Promise<void>((resolve) => (this.#arrived = resolve));
		}
	}

	async return(): Promise<IteratorResult<R>> {
		this.onReturn();
		this.#items = [];
		this.finish();
		this.#wanted?.();
		return { done: true, value: undefined };
	}

	#wake(): void {
		this.#arrived?.();
		this.#arrived = null;
	}
}

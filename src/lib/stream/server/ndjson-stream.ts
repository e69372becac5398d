// The body of an NDJSON response: records are taken from the source only when the body is pulled.

/** Most records one pull takes from the source. */
export const BATCH_RECORDS = 256;
/** Text (UTF-16 code units, about 64 KiB) past which one pull stops taking records. */
export const BATCH_CHARS = 64 * 1024;

const BATCH = Symbol.for('runnel.ndjson.batch');

/** Several records a source yields at once (see batch()). */
export interface RecordBatch<R> {
	readonly [BATCH]: true;
	readonly records: readonly R[];
}

/**
 * Wraps records a source has in hand (a page read from the store) so it yields them in one step
 * instead of one `yield` each: the stream writes them together.
 * @example async function* rows() { for (;;) { const page = await next(); if (!page.length) return; yield batch(page); } }
 */
export function batch<R>(records: readonly R[]): RecordBatch<R> {
	return { [BATCH]: true, records };
}

const isBatch = <R>(value: R | RecordBatch<R>): value is RecordBatch<R> =>
	typeof value === 'object' && value !== null && (value as RecordBatch<R>)[BATCH] === true;

/** One encoder for every stream. */
const encoder = new TextEncoder();

/** What recordStream() needs: the source's iterator, the signal that ends it and what to do at the end. */
export interface RecordStreamInit<R> {
	iterator: AsyncIterator<R | RecordBatch<R>> | Iterator<R | RecordBatch<R>>;
	/** Aborted when the client goes away. */
	signal: AbortSignal;
	/** Turns a source error into the final line the client gets (with its `\n`). */
	errorLine: (error: unknown) => string;
	/** Runs once when the stream ends, for whatever reason, before the iterator's return(). */
	onEnd: () => void;
	/** The text of one record (default: its JSON and a newline); a throw ends the stream with the error line. */
	format?: (record: R) => string;
}

type Step<R> = IteratorResult<R | RecordBatch<R>> | PromiseLike<IteratorResult<R | RecordBatch<R>>>;

/** The iterator of an AsyncIterable or, failing that, of an Iterable. */
export function iteratorOf<R>(records: AsyncIterable<R> | Iterable<R>): AsyncIterator<R> | Iterator<R> {
	if (records && typeof (records as AsyncIterable<R>)[Symbol.asyncIterator] === 'function') {
		return (records as AsyncIterable<R>)[Symbol.asyncIterator]();
	}
	if (records && typeof (records as Iterable<R>)[Symbol.iterator] === 'function') {
		return (records as Iterable<R>)[Symbol.iterator]();
	}
	throw new TypeError('A stream source must return an AsyncIterable or an Iterable.');
}

const isThenable = <T>(value: T | PromiseLike<T>): value is PromiseLike<T> =>
	typeof (value as { then?: unknown } | null)?.then === 'function';

/** Stands for "the next record was not ready by the end of this turn". */
const LATER = Symbol('later');

/** A promise of LATER at the end of this turn of the event loop (after pending I/O callbacks), and a way to drop it. */
function endOfTurn(): { promise: Promise<typeof LATER>; clear: () => void } {
	let immediate: ReturnType<typeof setImmediate> | undefined;
	const promise = new Promise<typeof LATER>((resolve) => (immediate = setImmediate(resolve, LATER)));
	return { promise, clear: () => clearImmediate(immediate) };
}

/** One NDJSON line; a value JSON cannot represent (undefined, a function) is an error, not a silent gap. */
function line(value: unknown): string {
	const text = JSON.stringify(value);
	if (text === undefined) throw new TypeError(`An NDJSON record must be a JSON value, not ${typeof value}.`);
	return text + '\n';
}

/**
 * The body of an NDJSON response, pull-based: each pull takes up to BATCH_RECORDS records or
 * BATCH_CHARS of text from the source (a batch() goes out whole in the pull that takes it) and sends them as one chunk, and with highWaterMark 1 the
 * source is never read more than one batch (plus one requested record) ahead of the consumer.
 * A pull waits for its first record; after that it takes only records that are ready within
 * the same turn of the event loop, so a slow source's records go out at once. The iterator's
 * return() is called once if the stream stops early (client gone, cancel), as `for await` does.
 * @example new Response(recordStream({ iterator, signal: request.signal, errorLine, onEnd }));
 */
export function recordStream<R>(init: RecordStreamInit<R>): ReadableStream<Uint8Array> {
	const { iterator, signal, format = line } = init;
	let controller!: ReadableStreamDefaultController<Uint8Array>;
	/** A next() still running from an earlier pull: the only place a record is ever read ahead. */
	let pending: PromiseLike<IteratorResult<R | RecordBatch<R>>> | undefined;
	let ended = false;
	const onAbort = () => end('', true);

	/** Ends the stream once: frees everything, returns the iterator when asked, then writes `tail` and closes. */
	function end(tail: string, release: boolean) {
		if (ended) return;
		ended = true;
		signal.removeEventListener('abort', onAbort);
		init.onEnd();
		if (pending) Promise.resolve(pending).catch(() => {});
		pending = undefined;
		if (release) {
			try {
				void Promise.resolve(iterator.return?.()).catch(() => {});
			} catch {
				// A throwing return() has nothing left to clean up for us.
			}
		}
		try {
			if (tail) controller.enqueue(encoder.encode(tail));
			controller.close();
		} catch {
			// Already cancelled by the client.
		}
	}

	/** Takes the next result: waits when the batch is empty, else gives LATER if it is not ready this turn. */
	async function take(waitFully: boolean, turn: () => Promise<typeof LATER>) {
		const step: Step<R> = pending ?? iterator.next();
		if (!isThenable(step)) return step;
		pending = step;
		const result = waitFully ? await step : await Promise.race([step, turn()]);
		if (result !== LATER) pending = undefined;
		return result;
	}

	async function pull() {
		let text = '';
		let count = 0;
		let turn: ReturnType<typeof endOfTurn> | undefined;
		const turnPromise = () => (turn ??= endOfTurn()).promise;
		try {
			while (count < BATCH_RECORDS && text.length < BATCH_CHARS) {
				const result = await take(count === 0, turnPromise);
				if (ended) return;
				if (result === LATER) break;
				if (result.done) return end(text, false);
				try {
					const { value } = result;
					if (isBatch(value)) {
						for (const record of value.records) text += format(record);
						count += value.records.length;
					} else {
						text += format(value);
						count += 1;
					}
				} catch (error) {
					return end(text + init.errorLine(error), true);
				}
			}
		} catch (error) {
			// The source threw: it is finished, so (as with `for await`) no return().
			pending = undefined;
			if (ended) return;
			return end(text + init.errorLine(error), false);
		} finally {
			turn?.clear();
		}
		controller.enqueue(encoder.encode(text));
	}

	return new ReadableStream<Uint8Array>(
		{
			start(c) {
				controller = c;
				signal.addEventListener('abort', onAbort);
				if (signal.aborted) onAbort();
			},
			pull: () => (ended ? undefined : pull()),
			cancel: () => end('', true)
		},
		{ highWaterMark: 1 }
	);
}

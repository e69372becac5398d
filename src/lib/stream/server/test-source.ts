// Test utility: a push-driven source that counts how it is driven, like a bus subscription.

/** An async iterator fed by push(); return() ends it at once (like unsubscribing) and is counted. */
export class TestSource<T> implements AsyncIterableIterator<T> {
	/** How many times return() was called. */
	returns = 0;
	/** How many values the consumer took. */
	taken = 0;
	/** Called inside return(), to look at the world at that moment. */
	onReturn?: () => void;
	private queue: T[] = [];
	private waiting: ((result: IteratorResult<T>) => void) | undefined;
	private failure: ((error: unknown) => void) | undefined;
	private done = false;
	private error: unknown;

	/** Hands a value to the consumer (queued until it asks). */
	push(...values: T[]): void {
		this.queue.push(...values);
		this.flush();
	}

	/** Ends the iteration after the queued values. */
	end(): void {
		this.done = true;
		this.flush();
	}

	/** Makes the next next() after the queued values reject with `error`. */
	fail(error: unknown): void {
		this.error = error;
		this.flush();
	}

	next(): Promise<IteratorResult<T>> {
		return new Promise((resolve, reject) => {
			this.waiting = resolve;
			this.failure = reject;
			this.flush();
		});
	}

	return(): Promise<IteratorResult<T>> {
		this.returns += 1;
		this.onReturn?.();
		this.done = true;
		this.queue.length = 0;
		this.flush();
		return Promise.resolve({ done: true, value: undefined });
	}

	[Symbol.asyncIterator](): this {
		return this;
	}

	private flush(): void {
		const resolve = this.waiting;
		const reject = this.failure;
		if (!resolve || !reject) return;
		if (this.queue.length) {
			this.taken += 1;
			resolve({ done: false, value: this.queue.shift()! });
		} else if (this.error !== undefined) reject(this.error);
		else if (this.done) resolve({ done: true, value: undefined });
		else return;
		this.waiting = this.failure = undefined;
	}
}

/** Resolves once `check()` is true, polling every few ms; rejects after `ms`. */
export async function waitFor(check: () => boolean, ms = 3000): Promise<void> {
	const deadline = Date.now() + ms;
	while (!check()) {
		if (Date.now() > deadline) throw new Error(`waitFor: still false after ${ms} ms: ${check}`);
		await new Promise((resolve) => setTimeout(resolve, 5));
	}
}

type Waiter<T> = { resolve(result: IteratorResult<T>): void; reject(error: Error): void };

/** A bounded push-to-pull queue behind an async iterator: pushes never block, the oldest item goes first. */
export class AsyncQueue<T> {
	#items: T[] = [];
	#waiters: Waiter<T>[] = [];
	#ended = false;
	#failure: Error | null = null;

	constructor(readonly capacity: number) {}

	/** Hands `item` to a waiting reader or buffers it; returns false when the oldest item was dropped. */
	push(item: T): boolean {
		if (this.#ended) return true;
		const waiter = this.#waiters.shift();
		if (waiter) {
			waiter.resolve({ done: false, value: item });
			return true;
		}
		this.#items.push(item);
		if (this.#items.length <= this.capacity) return true;
		this.#items.shift();
		return false;
	}

	/** Ends the queue: readers drain what is buffered, then finish (or get `failure`). */
	end(failure: Error | null = null): void {
		if (this.#ended) return;
		this.#ended = true;
		this.#failure = failure;
		for (const waiter of this.#waiters.splice(0)) {
			if (failure) waiter.reject(failure);
			else waiter.resolve({ done: true, value: undefined });
		}
	}

	/** The next item, waiting for one if needed. */
	next(): Promise<IteratorResult<T>> {
		if (this.#items.length > 0) return Promise.resolve({ done: false, value: this.#items.shift() as T });
		if (this.#ended) {
			return this.#failure ? Promise.reject(this.#failure) : Promise.resolve({ done: true, value: undefined });
		}
		return new Promise((resolve, reject) => this.#waiters.push({ resolve, reject }));
	}
}

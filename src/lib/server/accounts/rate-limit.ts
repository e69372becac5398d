/** Counts hits per key in a sliding window; memory is bounded by pruning expired keys. */
export class RateLimiter {
	readonly #hits = new Map<string, number[]>();

	constructor(
		readonly limit: number,
		readonly windowMs: number,
		private readonly now: () => number = Date.now
	) {}

	/** Milliseconds until `key` may try again, or 0 when it is under the limit. */
	retryAfter(key: string): number {
		const hits = this.#recent(key);
		return hits.length < this.limit ? 0 : hits[0] + this.windowMs - this.now();
	}

	/** Records one hit for `key`. */
	hit(key: string): void {
		const hits = this.#recent(key);
		hits.push(this.now());
		this.#hits.set(key, hits);
		if (this.#hits.size > 10_000) this.#prune();
	}

	/** Forgets `key`, as after a successful sign-in. */
	reset(key: string): void {
		this.#hits.delete(key);
	}

	#recent(key: string): number[] {
		const since = this.now() - this.windowMs;
		return (this.#hits.get(key) ?? []).filter((t) => t > since);
	}

	#prune(): void {
		for (const key of [...this.#hits.keys()]) {
			if (this.#recent(key).length === 0) this.#hits.delete(key);
		}
	}
}

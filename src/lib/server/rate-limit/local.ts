import type { RateLimiter } from './types';

/** Counts hits per key in this process; memory is bounded by pruning expired keys. */
export class LocalRateLimiter implements RateLimiter {
	readonly #hits = new Map<string, number[]>();

	constructor(
		readonly limit: number,
		readonly windowMs: number,
		private readonly now: () => number = Date.now
	) {}

	async retryAfter(key: string): Promise<number> {
		return this.#wait(this.#recent(key));
	}

	async hit(key: string): Promise<void> {
		this.#record(key, this.#recent(key));
	}

	async take(key: string): Promise<number> {
		const hits = this.#recent(key);
		const wait = this.#wait(hits);
		if (wait === 0) this.#record(key, hits);
		return wait;
	}

	async reset(key: string): Promise<void> {
		this.#hits.delete(key);
	}

	// Under the limit once the hit `limit` places from the newest leaves the window.
	#wait(hits: number[]): number {
		return hits.length < this.limit ? 0 : hits[hits.length - this.limit] + this.windowMs - this.now();
	}

	#record(key: string, hits: number[]): void {
		hits.push(this.now());
		this.#hits.set(key, hits);
		if (this.#hits.size > 10_000) this.#prune();
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

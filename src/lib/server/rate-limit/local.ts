import type { Attempt, RateLimiter } from './types';

const REFUSED = async () => {};

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
		return this.takeNow(key);
	}

	/** take(), synchronously (this process counts alone). */
	takeNow(key: string): number {
		const hits = this.#recent(key);
		const wait = this.#wait(hits);
		if (wait === 0) this.#record(key, hits);
		return wait;
	}

	async attempt(key: string): Promise<Attempt> {
		const hits = this.#recent(key);
		const wait = this.#wait(hits);
		if (wait > 0) return { wait, release: REFUSED };
		let at = this.#record(key, hits);
		return {
			wait: 0,
			release: async () => {
				const kept = this.#hits.get(key);
				const index = kept?.lastIndexOf(at) ?? -1;
				if (index >= 0) kept!.splice(index, 1);
				at = NaN; // once
			}
		};
	}

	async reset(key: string): Promise<void> {
		this.#hits.delete(key);
	}

	// Under the limit once the hit `limit` places from the newest leaves the window.
	#wait(hits: number[]): number {
		return hits.length < this.limit ? 0 : hits[hits.length - this.limit] + this.windowMs - this.now();
	}

	/** Records a hit now; returns its time. */
	#record(key: string, hits: number[]): number {
		const at = this.now();
		hits.push(at);
		this.#hits.set(key, hits);
		if (this.#hits.size > 10_000) this.#prune();
		return at;
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

import { OverflowError, type BusEvent } from './types';

/** How a subscription is fed and how it leaves its bus. */
export interface SubscriptionOptions {
	/** Unread live events allowed before the subscriber is dropped with OverflowError. */
	maxBuffer: number;
	/** Stored events to yield before live ones; throws ReplayError when the position can't be served. */
	replay?: AsyncIterator<BusEvent>;
	signal?: AbortSignal;
	/** Called once when the subscription ends for any reason: the bus removes its listener. */
	onEnd: (sub: Subscription) => void;
	/** Orders two ids of the topic (negative, 0, positive); numeric by default. */
	compare?: (a: string, b: string) => number;
}

const numeric = (a: string, b: string) => Number(a) - Number(b);

const DONE: IteratorReturnResult<undefined> = { done: true, value: undefined };

/**
 * One subscriber: buffers live events from the moment it exists, yields the replay first, then the
 * buffer and live events, skipping any sequence it has already yielded (the hand-over overlap).
 */
export class Subscription implements AsyncIterableIterator<BusEvent> {
	#buffer: BusEvent[] = [];
	#head = 0;
	#last: string | null = null;
	#compare: (a: string, b: string) => number;
	#replay: AsyncIterator<BusEvent> | undefined;
	#wake: (() => void) | undefined;
	#error: Error | undefined;
	#ended = false;
	#steps: Promise<unknown> = Promise.resolve();
	#options: SubscriptionOptions;
	#onAbort = () => this.end();

	constructor(options: SubscriptionOptions) {
		this.#options = options;
		this.#replay = options.replay;
		this.#compare = options.compare ?? numeric;
		if (options.signal?.aborted) this.end();
		else options.signal?.addEventListener('abort', this.#onAbort, { once: true });
	}

	/** True once ended (aborted, returned, closed, overflowed or failed): no longer a listener. */
	get ended(): boolean {
		return this.#ended;
	}

	/** Treats everything up to `id` as already yielded: live events at or below it are skipped. */
	skipThrough(id: string): void {
		if (this.#last === null || this.#compare(id, this.#last) > 0) this.#last = id;
	}

	/** Queues a live event; the bus calls it after the event committed, in sequence order. */
	push(event: BusEvent): void {
		if (this.#ended) return;
		if (this.#buffer.length - this.#head >= this.#options.maxBuffer) {
			this.#error = new OverflowError(
				`subscriber fell ${this.#options.maxBuffer} events behind on ${event.topic}`
			);
			this.end();
			return;
		}
		this.#buffer.push(event);
		this.#wakeUp();
	}

	/** Ends the subscription with `error`: the next `next()` throws it (the bus lost its source). */
	fail(error: Error): void {
		if (this.#ended) return;
		this.#error = error;
		this.end();
	}

	/** Stops listening now and drops the buffer; a pending or later `next()` returns done. */
	end(): void {
		if (this.#ended) return;
		this.#ended = true;
		this.#buffer = [];
		this.#head = 0;
		this.#options.signal?.removeEventListener('abort', this.#onAbort);
		this.#options.onEnd(this);
		this.#wakeUp();
	}

	next(): Promise<IteratorResult<BusEvent>> {
		const step = this.#steps.then(() => this.#step());
		this.#steps = step.catch(() => undefined);
		return step;
	}

	async return(): Promise<IteratorResult<BusEvent>> {
		this.end();
		return DONE;
	}

	async throw(error?: unknown): Promise<IteratorResult<BusEvent>> {
		this.end();
		throw error;
	}

	[Symbol.asyncIterator](): this {
		return this;
	}

	async #step(): Promise<IteratorResult<BusEvent>> {
		for (;;) {
			if (this.#error) {
				const error = this.#error;
				this.#error = undefined;
				throw error;
			}
			if (this.#ended) return DONE;
			if (this.#replay) {
				const result = await this.#pull(this.#replay);
				if (result.done) this.#replay = undefined;
				else if (!this.#ended) return this.#yield(result.value);
				continue;
			}
			const event = this.#take();
			if (!event) await new Promise<void>((resolve) => (this.#wake = resolve));
			else if (this.#last === null || this.#compare(event.id, this.#last) > 0) return this.#yield(event);
		}
	}

	async #pull(replay: AsyncIterator<BusEvent>): Promise<IteratorResult<BusEvent>> {
		try {
			return await replay.next();
		} catch (error) {
			this.end();
			throw error;
		}
	}

	#yield(event: BusEvent): IteratorYieldResult<BusEvent> {
		this.#last = event.id;
		return { done: false, value: event };
	}

	#take(): BusEvent | undefined {
		if (this.#head >= this.#buffer.length) return undefined;
		const event = this.#buffer[this.#head++];
		if (this.#head >= 1024 && this.#head * 2 >= this.#buffer.length) {
			this.#buffer = this.#buffer.slice(this.#head);
			this.#head = 0;
		}
		return event;
	}

	#wakeUp(): void {
		const wake = this.#wake;
		this.#wake = undefined;
		wake?.();
	}
}

/** A bus's live subscribers by topic: both backends keep, count, reach and end them the same way. */
export class Listeners {
	#topics = new Map<string, Set<Subscription>>();

	add(topic: string, sub: Subscription): void {
		let set = this.#topics.get(topic);
		if (!set) this.#topics.set(topic, (set = new Set()));
		set.add(sub);
	}

	/** Removes `sub`; true when it was the topic's last. */
	remove(topic: string, sub: Subscription): boolean {
		const set = this.#topics.get(topic);
		if (!set?.delete(sub) || set.size > 0) return false;
		this.#topics.delete(topic);
		return true;
	}

	/** The topic's subscribers now (a copy: pushing may end one). */
	of(topic: string): Subscription[] {
		return [...(this.#topics.get(topic) ?? [])];
	}

	/** Subscribers of `topic`, or of every topic. */
	count(topic?: string): number {
		if (topic !== undefined) return this.#topics.get(topic)?.size ?? 0;
		let count = 0;
		for (const set of this.#topics.values()) count += set.size;
		return count;
	}

	/** Ends every subscriber. */
	endAll(): void {
		for (const set of [...this.#topics.values()]) for (const sub of [...set]) sub.end();
	}
}

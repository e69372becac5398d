/** One event as stored on a topic; `id` is opaque, ordered within its topic. */
export interface BusEvent<T = unknown> {
	id: string;
	topic: string;
	type: string;
	data: T;
	/** Unix ms when it was published. */
	time: number;
}

/** Where a subscription starts: after this id, or (absent/null) only new events. */
export interface SubscribeOptions {
	after?: string | null;
	/** Ends the subscription (the iterator returns). */
	signal?: AbortSignal;
}

/** The position asked for can't be replayed: older than retention, or unknown (ahead of the topic). */
export class ReplayError extends Error {
	override name = 'ReplayError';
	constructor(
		readonly reason: 'too-old' | 'unknown',
		message: string
	) {
		super(message);
	}
}

/** A subscriber whose unread buffer overflowed; it should reconnect from its last id. */
export class OverflowError extends Error {
	override name = 'OverflowError';
}

/**
 * Publish/subscribe with replay. `subscribe` yields what came after `after` from the store, then
 * live events, with no gap and no duplicate at the hand-over.
 */
export interface Bus {
	/** Stores the event and returns its id (monotonic per topic). */
	publish<T>(topic: string, event: { type: string; data: T }): Promise<string>;
	/** Replay then live; the first `next()` throws ReplayError when `after` can't be served. */
	subscribe(topic: string, options?: SubscribeOptions): AsyncIterable<BusEvent>;
	/** The id of the topic's newest event ("0" when it has none): subscribe after it to miss nothing from now on. */
	head(topic: string): Promise<string>;
	/** True when `raw` has the shape of an id of this bus (says nothing of any topic). */
	isId(raw: string): boolean;
	/** Drops events past retention (count and age); runs on a timer too. */
	trim(): Promise<void>;
	/** Subscribers listening in this process, on `topic` or on all topics (tests and metrics). */
	listenerCount(topic?: string): number;
	/** Ends every subscriber (their iterators return) and stops timers; the store stays open. */
	close(): Promise<void>;
}

// An in-memory broadcast: every subscriber is an async iterator over the messages sent after it joined.

const DONE = Object.freeze({ done: true, value: undefined });

/** One subscriber's queue and iterator; leaves the broadcast on return() (or its signal's abort). */
class Subscriber {
	queue = [];
	/** The resolver of a next() that found the queue empty. */
	wake = undefined;
	ended = false;

	constructor(subscribers, signal) {
		this.subscribers = subscribers;
		this.signal = signal;
		subscribers.add(this);
		signal?.addEventListener('abort', this, { once: true });
	}

	push(message) {
		if (!this.wake) return void this.queue.push(message);
		const resolve = this.wake;
		this.wake = undefined;
		resolve({ done: false, value: message });
	}

	next() {
		if (this.queue.length > 0) return Promise.resolve({ done: false, value: this.queue.shift() });
		if (this.ended) return Promise.resolve(DONE);
		return new Promise((resolve) => (this.wake = resolve));
	}

	return() {
		this.ended = true;
		this.queue.length = 0;
		this.subscribers.delete(this);
		this.signal?.removeEventListener('abort', this);
		this.wake?.(DONE);
		this.wake = undefined;
		return Promise.resolve(DONE);
	}

	/** The signal aborted. */
	handleEvent() {
		void this.return();
	}

	[Symbol.asyncIterator]() {
		return this;
	}
}

/**
 * Fans each sent message out to every subscriber's queue; a subscriber leaves on return(), or
 * when `signal` aborts if it was given one.
 * @example const hub = new Broadcast(); sse(request, () => hub.subscribe()); hub.send(message);
 */
export class Broadcast {
	#subscribers = new Set();

	/** A new subscriber's iterator; ends (done) on return() or when `signal` aborts. */
	subscribe(signal) {
		return new Subscriber(this.#subscribers, signal);
	}

	/** Queues `message` for every subscriber. */
	send(message) {
		for (const subscriber of this.#subscribers) subscriber.push(message);
	}

	/** The most messages any subscriber holds unread. */
	backlog() {
		let most = 0;
		for (const subscriber of this.#subscribers) if (subscriber.queue.length > most) most = subscriber.queue.length;
		return most;
	}
}

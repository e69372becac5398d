// An in-memory broadcast: every subscriber is an async iterator over the messages sent after it joined.

/**
 * Fans each sent message out to every subscriber's queue; a subscriber leaves on abort or return().
 * @example const hub = new Broadcast(); sse(request, ({ signal }) => hub.subscribe(signal)); hub.send(message);
 */
export class Broadcast {
	#subscribers = new Set();

	/** A new subscriber's iterator; ends (done) when `signal` aborts. */
	subscribe(signal) {
		const subscribers = this.#subscribers;
		const queue = [];
		let wake;
		let ended = false;
		const iterator = {
			queue,
			push(message) {
				if (wake) {
					const resolve = wake;
					wake = undefined;
					resolve({ done: false, value: message });
				} else queue.push(message);
			},
			next() {
				if (queue.length > 0) return Promise.resolve({ done: false, value: queue.shift() });
				if (ended) return Promise.resolve({ done: true, value: undefined });
				return new Promise((resolve) => (wake = resolve));
			},
			return() {
				ended = true;
				queue.length = 0;
				subscribers.delete(iterator);
				signal.removeEventListener('abort', onAbort);
				wake?.({ done: true, value: undefined });
				wake = undefined;
				return Promise.resolve({ done: true, value: undefined });
			},
			[Symbol.asyncIterator]() {
				return iterator;
			}
		};
		const onAbort = () => void iterator.return();
		subscribers.add(iterator);
		signal.addEventListener('abort', onAbort, { once: true });
		return iterator;
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

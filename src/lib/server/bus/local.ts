import type { Kysely } from 'kysely';
import type { Database } from '../db';
import type { Logger } from '../log';
import { Listeners, Subscription } from './subscription';
import * as table from './table';
import { ReplayError, type Bus, type BusEvent, type SubscribeOptions } from './types';

/** Settings of the in-process bus; `now` is injectable so tests can age events. */
export interface LocalBusOptions {
	db: Kysely<Database>;
	/** Events kept per topic for replay… */
	retentionCount: number;
	/** …none older than this (ms). */
	retentionAgeMs: number;
	/** Unread live events per subscriber before it gets OverflowError. */
	maxBuffer?: number;
	log?: Logger;
	now?: () => number;
}

const ID = /^(0|[1-9]\d{0,15})$/;
const REPLAY_BATCH = 500;
const TRIM_INTERVAL_MS = 60_000;

/**
 * The bus of a single process: events live in the SQL store (they survive a crash and replay after
 * a restart), live delivery is a plain in-memory fan-out after each insert commits.
 * @example const bus = new LocalBus({ db: store.db, retentionCount: 1000, retentionAgeMs: 3600_000 });
 */
export class LocalBus implements Bus {
	#options: LocalBusOptions & { maxBuffer: number; now: () => number };
	#listeners = new Listeners();
	/** Per topic, the last queued publish: publishes of a topic commit and deliver one after another. */
	#tails = new Map<string, Promise<unknown>>();
	#timer: ReturnType<typeof setInterval>;
	#closed = false;

	constructor(options: LocalBusOptions) {
		this.#options = { maxBuffer: 10_000, now: Date.now, ...options };
		this.#timer = setInterval(() => void this.trim().catch(this.#warn('bus trim failed')), TRIM_INTERVAL_MS);
		this.#timer.unref();
	}

	async publish<T>(topic: string, event: { type: string; data: T }): Promise<string> {
		if (this.#closed) throw new Error('bus is closed');
		const data = JSON.stringify(event.data ?? null) ?? 'null';
		const run = (this.#tails.get(topic) ?? Promise.resolve()).then(() => this.#append(topic, event.type, data));
		const tail = run.catch(() => undefined);
		this.#tails.set(topic, tail);
		void tail.then(() => this.#tails.get(topic) === tail && this.#tails.delete(topic));
		return run;
	}

	subscribe(topic: string, options: SubscribeOptions = {}): Subscription {
		const { after, signal } = options;
		const sub = new Subscription({
			maxBuffer: this.#options.maxBuffer,
			replay: after === null || after === undefined ? undefined : this.#replay(topic, after),
			signal,
			onEnd: (s) => this.#detach(topic, s)
		});
		if (this.#closed) sub.end();
		if (sub.ended) return sub;
		this.#listeners.add(topic, sub);
		return sub;
	}

	async head(topic: string): Promise<string> {
		return String((await table.position(this.#options.db, topic)).lastSeq);
	}

	isId(raw: string): boolean {
		return ID.test(raw);
	}

	async trim(): Promise<void> {
		await table.trimAll(this.#options.db, this.#retention());
	}

	/** Live subscribers of `topic`, or of every topic: for tests and metrics. */
	listenerCount(topic?: string): number {
		return this.#listeners.count(topic);
	}

	/** Stops the trim timer, ends every subscriber and waits for publishes already under way. */
	async close(): Promise<void> {
		if (this.#closed) return;
		this.#closed = true;
		clearInterval(this.#timer);
		this.#listeners.endAll();
		await Promise.all(this.#tails.values());
	}

	async #append(topic: string, type: string, data: string): Promise<string> {
		const time = this.#options.now();
		const seq = await table.append(this.#options.db, { topic, type, data, created_at: time }, this.#retention());
		const event: BusEvent = { id: String(seq), topic, type, data: JSON.parse(data), time };
		for (const sub of this.#listeners.of(topic)) sub.push(event);
		return event.id;
	}

	// Checks the position, then pages through stored events; a hole means retention overtook us.
	async *#replay(topic: string, after: string): AsyncGenerator<BusEvent> {
		if (!this.isId(after)) throw new ReplayError('unknown', `"${after}" is not an event id`);
		let last = Number(after);
		const { db } = this.#options;
		const { lastSeq, minSeq } = await table.position(db, topic);
		if (last > lastSeq) {
			throw new ReplayError('unknown', `event ${after} is ahead of ${topic}, which is at ${lastSeq}`);
		}
		const tooOld = () =>
			new ReplayError('too-old', `events after ${after} on ${topic} are no longer retained`);
		if (last < minSeq - 1) throw tooOld();
		for (;;) {
			const rows = await table.readAfter(db, topic, last, REPLAY_BATCH);
			if (rows.length > 0 && rows[0].seq !== last + 1) throw tooOld();
			for (const row of rows) {
				yield { id: String(row.seq), topic, type: row.type, data: JSON.parse(row.data), time: row.created_at };
				last = row.seq;
			}
			if (rows.length < REPLAY_BATCH) break;
		}
		if (last < lastSeq) throw tooOld();
	}

	#detach(topic: string, sub: Subscription): void {
		this.#listeners.remove(topic, sub);
	}

	#retention(): table.Retention {
		const { retentionCount, retentionAgeMs, now } = this.#options;
		return { count: retentionCount, cutoff: now() - retentionAgeMs };
	}

	#warn(message: string) {
		return (err: unknown) => this.#options.log?.warn({ err }, message);
	}
}

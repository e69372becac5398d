import { Redis } from 'ioredis';
import type { Logger } from '../log';
import { redisConnection } from '../redis-connection';
import { compareStreamIds, isStreamId, publicId } from './redis-ids';
import { PUBLISH, TRIM_STREAM } from './redis-scripts';
import { lastId, replayStream, toEvent, trimmedAfter, type Entry } from './redis-stream';
import { Listeners, Subscription } from './subscription';
import { ReplayError, type Bus, type BusEvent, type SubscribeOptions } from './types';

/** Settings of the Redis Streams bus; `now` is injectable so tests can age events. */
export interface RedisBusOptions {
	/** `redis://host:6379` or `rediss://…`. */
	url: string;
	/** Every key starts with it: topic streams are `<prefix>bus:<topic>`. */
	prefix: string;
	/** Events kept per topic for replay… */
	retentionCount: number;
	/** …none older than this (ms). */
	retentionAgeMs: number;
	/** Unread live events per subscriber before it gets OverflowError. */
	maxBuffer?: number;
	/** Client name of the two connections (`<name>:cmd`, `<name>:reader`), as CLIENT LIST shows it. */
	name?: string;
	/** Longest wait of the live reader's XREAD BLOCK (ms). */
	blockMs?: number;
	log?: Logger;
	now?: () => number;
}

/** Where the live reader is on a topic (`id` null until the topic's head is known). */
interface Cursor {
	id: string | null;
}

const READ_BATCH = 500;
const TRIM_INTERVAL_MS = 60_000;
const RETRY_MS = 500;
/** Clock difference between instances that the fell-behind check allows for (ms). */
const CLOCK_SLACK_MS = 60_000;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * The bus of several processes: each topic is a Redis stream, ids are stream ids, so a client
 * resumes on whichever instance it reaches. One blocking reader connection per process reads every
 * topic with local subscribers and fans out in memory; a lost connection is logged and retried,
 * and the reader resumes from the last id it saw per topic (or, when retention dropped events it
 * had not read, fails that topic's subscribers with ReplayError). Every instance trims: on publish
 * by count, and on its own timer by age.
 * @example const bus = new RedisBus({ url: 'redis://127.0.0.1:6379', prefix: 'runnel:', retentionCount: 1000, retentionAgeMs: 3600_000 });
 */
export class RedisBus implements Bus {
	#options: RedisBusOptions & { maxBuffer: number; now: () => number; blockMs: number };
	#cmd: Redis;
	#reader: Redis;
	#readerId: number | undefined;
	#reading: Promise<void>;
	#wakeReader: (() => void) | undefined;
	#listeners = new Listeners();
	#cursors = new Map<string, Cursor>();
	#publishes = new Set<Promise<unknown>>();
	#timer: ReturnType<typeof setInterval>;
	#closed = false;

	constructor(options: RedisBusOptions) {
		this.#options = { maxBuffer: 10_000, now: Date.now, blockMs: 2000, ...options };
		const name = options.name ?? `runnel-bus-${process.pid}`;
		// Six reconnect attempts (about 2 s): a publish rides out a Redis restart instead of failing (its
		// event would then be stored nowhere a stream could replay it from); past that it fails.
		this.#cmd = this.#connect(`${name}:cmd`, { maxRetriesPerRequest: 6, commandTimeout: 10_000 });
		this.#cmd.defineCommand('busPublish', { numberOfKeys: 1, lua: PUBLISH });
		this.#cmd.defineCommand('busTrim', { numberOfKeys: 1, lua: TRIM_STREAM });
		// The reader's XREAD waits out an outage and is sent again on reconnect.
		this.#reader = this.#connect(`${name}:reader`, { maxRetriesPerRequest: null });
		this.#reader.on('close', () => (this.#readerId = undefined));
		this.#reading = this.#read();
		this.#timer = setInterval(() => void this.trim().catch(this.#warn('bus trim failed')), TRIM_INTERVAL_MS);
		this.#timer.unref();
	}

	async publish<T>(topic: string, event: { type: string; data: T }): Promise<string> {
		if (this.#closed) throw new Error('bus is closed');
		const data = JSON.stringify(event.data ?? null) ?? 'null';
		const { retentionCount } = this.#options;
		const slack = Math.min(100, Math.ceil(retentionCount / 10));
		const run = this.#cmd.busPublish(this.#key(topic), event.type, data, retentionCount, slack);
		this.#publishes.add(run);
		void run.catch(() => undefined).then(() => this.#publishes.delete(run));
		return run;
	}

	subscribe(topic: string, options: SubscribeOptions = {}): Subscription {
		const { after, signal } = options;
		let replay: AsyncGenerator<BusEvent> | undefined;
		const sub = new Subscription({
			maxBuffer: this.#options.maxBuffer,
			compare: compareStreamIds,
			replay: { next: () => replay!.next() },
			signal,
			onEnd: (s) => this.#detach(topic, s)
		});
		if (this.#closed) sub.end();
		if (sub.ended) return sub;
		this.#listeners.add(topic, sub);
		// Live first (the reader's start on this topic is read before anything below), then the
		// position: the replay reads on to the stream's end, so replay and live overlap, never gap.
		this.#watch(topic);
		if (after === null || after === undefined) {
			const head = lastId(this.#cmd, this.#key(topic));
			head.catch(() => undefined);
			replay = (async function* () {
				sub.skipThrough(await head);
			})();
		} else replay = replayStream(this.#cmd, this.#key(topic), topic, after, sub);
		return sub;
	}

	async head(topic: string): Promise<string> {
		return publicId(await lastId(this.#cmd, this.#key(topic)));
	}

	isId(raw: string): boolean {
		return isStreamId(raw);
	}

	async trim(): Promise<void> {
		const { retentionCount, retentionAgeMs, now, prefix } = this.#options;
		const minId = `${Math.max(0, now() - retentionAgeMs)}-0`;
		const match = `${prefix.replace(/[*?[\]\\]/g, '\\$&')}bus:*`;
		let cursor = '0';
		do {
			const [next, keys] = await this.#cmd.scan(cursor, 'MATCH', match, 'COUNT', 200, 'TYPE', 'stream');
			cursor = next;
			for (const key of keys) await this.#cmd.busTrim(key, retentionCount, minId);
		} while (cursor !== '0');
	}

	/** Live subscribers of `topic`, or of every topic: for tests and metrics. */
	listenerCount(topic?: string): number {
		return this.#listeners.count(topic);
	}

	/** Ends every subscriber, waits for publishes under way, then closes both connections. */
	async close(): Promise<void> {
		if (this.#closed) return;
		this.#closed = true;
		clearInterval(this.#timer);
		this.#listeners.endAll();
		await Promise.allSettled(this.#publishes);
		this.#wakeReader?.();
		this.#reader.disconnect();
		await this.#reading;
		if (this.#cmd.status === 'ready') await this.#cmd.quit().catch(() => undefined);
		this.#cmd.disconnect();
	}

	#key(topic: string): string {
		return `${this.#options.prefix}bus:${topic}`;
	}

	#connect(name: string, options: { maxRetriesPerRequest: number | null; commandTimeout?: number }): Redis {
		return redisConnection(this.#options.url, name, { log: this.#options.log, options, quiet: () => this.#closed });
	}

	// Starts the live reader on `topic` at its current end; a failure ends the topic's subscribers.
	#watch(topic: string): void {
		if (this.#cursors.has(topic)) return;
		const cursor: Cursor = { id: null };
		this.#cursors.set(topic, cursor);
		lastId(this.#cmd, this.#key(topic)).then(
			(id) => {
				if (this.#cursors.get(topic) !== cursor) return;
				cursor.id = id;
				this.#topicsChanged();
			},
			(error: unknown) => {
				if (this.#cursors.get(topic) !== cursor) return;
				this.#cursors.delete(topic);
				this.#warn(`bus could not follow ${topic}`)(error);
				const failure = new Error(`bus unavailable: ${(error as Error)?.message ?? error}`);
				for (const sub of this.#listeners.of(topic)) sub.fail(failure);
			}
		);
	}

	// Tells the reader to read a new set of topics: wakes it when idle, unblocks its XREAD otherwise.
	#topicsChanged(): void {
		if (this.#wakeReader) return this.#wakeReader();
		if (this.#readerId !== undefined) {
			void this.#cmd.call('CLIENT', 'UNBLOCK', this.#readerId).catch(() => undefined);
		}
	}

	// The one blocking reader: XREAD over every followed topic from its cursor, fanned out in memory.
	async #read(): Promise<void> {
		while (!this.#closed) {
			const topics = [...this.#cursors].filter((entry): entry is [string, { id: string }] => entry[1].id !== null);
			if (topics.length === 0) {
				await new Promise<void>((resolve) => (this.#wakeReader = resolve));
				this.#wakeReader = undefined;
				continue;
			}
			try {
				this.#readerId ??= Number(await this.#reader.call('CLIENT', 'ID'));

				const reply = (await this.#reader.call(
					'XREAD', 'COUNT', READ_BATCH, 'BLOCK', this.#options.blockMs, 'STREAMS',
					...topics.map(([topic]) => this.#key(topic)),
					...topics.map(([, cursor]) => cursor.id)
				)) as [string, Entry[]][] | null;
				for (const [key, entries] of reply ?? []) await this.#deliver(key.slice(this.#key('').length), entries);
			} catch (error) {
				if (this.#closed) break;
				this.#warn('bus reader failed: retrying')(error);
				await sleep(RETRY_MS);
			}
		}
	}

	// Fans a read out to the topic's subscribers; when retention dropped events this reader had not
	// read yet (it fell behind), they get ReplayError('too-old') instead: a reset, never a silent gap.
	async #deliver(topic: string, entries: Entry[]): Promise<void> {
		const cursor = this.#cursors.get(topic);
		if (!cursor?.id) return;
		if (this.#mayHaveMissed(cursor.id, entries.length) && (await trimmedAfter(this.#cmd, this.#key(topic), cursor.id))) {
			if (this.#cursors.get(topic) !== cursor) return;
			this.#options.log?.warn({ topic }, 'bus reader fell behind retention: its subscribers are told to reset');
			const error = new ReplayError('too-old', `events on ${topic} after ${publicId(cursor.id)} were trimmed before this instance read them`);
			for (const sub of this.#listeners.of(topic)) sub.fail(error);
			this.#cursors.delete(topic);
			return;
		}
		for (const entry of entries) {
			if (compareStreamIds(entry[0], cursor.id) <= 0) continue;
			cursor.id = entry[0];
			const event = toEvent(topic, entry);
			for (const sub of this.#listeners.of(topic)) sub.push(event);
		}
	}

	/**
	 * Whether trimming can have dropped entries after `cursor` before this read: only when the read
	 * is as long as what count trimming keeps (or a full batch), or the cursor is as old as age
	 * trimming reaches. Otherwise the read holds everything after the cursor, with no extra call.
	 */
	#mayHaveMissed(cursor: string, read: number): boolean {
		const { retentionCount, retentionAgeMs, now } = this.#options;
		if (read >= Math.min(READ_BATCH, retentionCount)) return true;
		return Number(cursor.slice(0, cursor.indexOf('-'))) < now() - retentionAgeMs + CLOCK_SLACK_MS;
	}

	#detach(topic: string, sub: Subscription): void {
		if (this.#listeners.remove(topic, sub)) this.#cursors.delete(topic);
	}

	#warn(message: string) {
		return (err: unknown) => this.#options.log?.warn({ err }, message);
	}
}

declare module 'ioredis' {
	interface RedisCommander {
		busPublish(key: string, type: string, data: string, keep: number, slack: number): Promise<string>;
		busTrim(key: string, keep: number, minId: string): Promise<number>;
	}
}

import type { Redis } from 'ioredis';
import { compareStreamIds, field, isStreamId, publicId } from './redis-ids';
import type { Subscription } from './subscription';
import { ReplayError, type BusEvent } from './types';

/** A stream entry as XREAD and XRANGE return it. */
export type Entry = [id: string, fields: string[]];

const REPLAY_BATCH = 500;

const noSuchKey = (error: unknown) => /no such key/i.test(String(error));

/** XINFO STREAM of `key`, or null when the stream does not exist. */
async function streamInfo(cmd: Redis, key: string): Promise<unknown> {
	return cmd.call('XINFO', 'STREAM', key).catch((error: unknown) => {
		if (noSuchKey(error)) return null;
		throw error;
	});
}

/** The stream's last-generated id ("0-0" for a stream that does not exist). */
export async function lastId(cmd: Redis, key: string): Promise<string> {
	const info = await streamInfo(cmd, key);
	return info === null ? '0-0' : String(field(info, 'last-generated-id'));
}

/** Whether the stream has dropped an entry newer than `id` (its max-deleted-entry-id is past it). */
export async function trimmedAfter(cmd: Redis, key: string, id: string): Promise<boolean> {
	const info = await streamInfo(cmd, key);
	return info !== null && compareStreamIds(String(field(info, 'max-deleted-entry-id') ?? '0-0'), id) > 0;
}

/** A stream entry as the bus event it carries. */
export function toEvent(topic: string, [id, fields]: Entry): BusEvent {
	const type = String(field(fields, 'type'));
	const data = JSON.parse(String(field(fields, 'data') ?? 'null'));
	return { id, topic, type, data, time: Number(id.slice(0, id.indexOf('-'))) };
}

/**
 * The events of `topic` (stream `key`) after `after`: checks the position, then pages through the
 * stream; each page is read with the stream's trim mark in one transaction, so retention
 * overtaking the replay shows as too-old. Tells `sub` where it starts, so live events up to there are skipped.
 */
export async function* replayStream(cmd: Redis, key: string, topic: string, after: string, sub: Subscription): AsyncGenerator<BusEvent> {
	if (!isStreamId(after)) throw new ReplayError('unknown', `"${after}" is not an event id`);
	let last = after === '0' ? '0-0' : after;
	for (let first = true; ; first = false) {
		const results = await cmd
			.multi()
			.call('XINFO', 'STREAM', key)
			.xrange(key, `(${last}`, '+', 'COUNT', REPLAY_BATCH)
			.xrange(key, last, last)
			.exec();
		if (!results) throw new Error('bus replay transaction was aborted');
		const [[infoError, info], [rangeError, range], [ownError, own]] = results;
		if (infoError && !noSuchKey(infoError)) throw infoError;
		if (rangeError || ownError) throw rangeError ?? ownError;
		const lastGenerated = info ? String(field(info, 'last-generated-id')) : '0-0';
		const deleted = info ? String(field(info, 'max-deleted-entry-id') ?? '0-0') : '0-0';
		if (first && compareStreamIds(last, lastGenerated) > 0) {
			throw new ReplayError('unknown', `event ${after} is ahead of ${topic}, which is at ${publicId(lastGenerated)}`);
		}
		if (compareStreamIds(last, deleted) < 0) {
			throw new ReplayError('too-old', `events after ${after} on ${topic} are no longer retained`);
		}
		// Only trimming removes entries (and it moves max-deleted-entry-id): a position past that
		// mark that is not in the stream was lost with Redis's data (a restart without persistence),
		// and so may be what followed it.
		if (first && last !== '0-0' && compareStreamIds(last, deleted) > 0 && (own as Entry[]).length === 0) {
			throw new ReplayError('too-old', `event ${after} is no longer in ${topic}: its history was lost`);
		}
		if (first) sub.skipThrough(last);
		const entries = range as Entry[];
		for (const entry of entries) {
			yield toEvent(topic, entry);
			last = entry[0];
		}
		if (entries.length < REPLAY_BATCH) break;
	}
}

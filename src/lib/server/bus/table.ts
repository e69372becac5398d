import { sql, type Kysely } from 'kysely';
import type { Database } from '../db';
import { compiledOnce, syncOf } from '../db/compiled';

/** A stored event as read back; numbers go through Number() since PostgreSQL returns bigint as text. */
export interface Row {
	seq: number;
	type: string;
	data: string;
	created_at: number;
}

/** What a topic keeps: the newest `count` events, none created before `cutoff` (unix ms). */
export interface Retention {
	count: number;
	cutoff: number;
}

/** A topic trims itself inside the publish transaction every this many events (fewer for small retention). */
export const TRIM_EVERY = 100;

/** How often (in events) a topic with this retention trims itself: it never holds more than count + that. */
const trimPeriod = (count: number) => Math.min(TRIM_EVERY, Math.max(1, Math.ceil(count / 10)));

type Db = Kysely<Database>;

/** The topic's next sequence (the upsert increments under the row lock), compiled once. */
const nextSeq = compiledOnce((db: Db, topic: string) =>
	db
		.insertInto('bus_topics')
		.values({ topic, last_seq: 1, min_seq: 1 })
		.onConflict((oc) => oc.column('topic').doUpdateSet({ last_seq: sql`bus_topics.last_seq + 1` }))
		.returning('last_seq')
);

/** An event's row, compiled once. */
const addEvent = compiledOnce((db: Db, topic: string, type: string, data: string, created_at: number, seq: number) =>
	db.insertInto('bus_events').values({ topic, type, data, created_at, seq })
);

/**
 * Allocates the topic's next sequence and stores the event in one transaction; returns the sequence.
 * The upsert increments under the row lock, so concurrent publishers never share a sequence.
 */
export async function append(
	db: Db,
	event: { topic: string; type: string; data: string; created_at: number },
	retention: Retention
): Promise<number> {
	const sync = syncOf(db);
	if (sync) {
		// SQLite: the two statements now, compiled once; a due trim follows in its own transaction.
		const seq = sync.transaction(() => {
			const seq = Number(nextSeq.now(db, event.topic)[0].last_seq);
			addEvent.now(db, event.topic, event.type, event.data, event.created_at, seq);
			return seq;
		});
		if (seq % trimPeriod(retention.count) === 0) await db.transaction().execute((trx) => trimTopic(trx, event.topic, seq, retention));
		return seq;
	}
	return db.transaction().execute(async (trx) => {
		const seq = Number((await nextSeq(trx, event.topic))[0].last_seq);
		await addEvent(trx, event.topic, event.type, event.data, event.created_at, seq);
		if (seq % trimPeriod(retention.count) === 0) await trimTopic(trx, event.topic, seq, retention);
		return seq;
	});
}

/** The topic's last sequence and oldest retained one; an unknown topic is empty at 0. */
export async function position(db: Db, topic: string): Promise<{ lastSeq: number; minSeq: number }> {
	const row = await db
		.selectFrom('bus_topics')
		.select(['last_seq', 'min_seq'])
		.where('topic', '=', topic)
		.executeTakeFirst();
	return row ? { lastSeq: Number(row.last_seq), minSeq: Number(row.min_seq) } : { lastSeq: 0, minSeq: 1 };
}

/** Up to `limit` events of the topic after `after`, oldest first. */
export async function readAfter(db: Db, topic: string, after: number, limit: number): Promise<Row[]> {
	const rows = await db
		.selectFrom('bus_events')
		.select(['seq', 'type', 'data', 'created_at'])
		.where('topic', '=', topic)
		.where('seq', '>', after)
		.orderBy('seq')
		.limit(limit)
		.execute();
	return rows.map((r) => ({ ...r, seq: Number(r.seq), created_at: Number(r.created_at) }));
}

/** Trims every topic past retention, in one transaction. */
export function trimAll(db: Db, retention: Retention): Promise<void> {
	return db.transaction().execute(async (trx) => {
		const cuts = new Map<string, number>();
		const aged = await trx
			.selectFrom('bus_events')
			.select((eb) => ['topic', eb.fn.max('seq').as('seq')])
			.where('created_at', '<', retention.cutoff)
			.groupBy('topic')
			.execute();
		for (const r of aged) cuts.set(r.topic, Number(r.seq));
		const full = await trx
			.selectFrom('bus_topics')
			.select(['topic', 'last_seq'])
			.where(sql<number>`last_seq - min_seq`, '>=', retention.count)
			.execute();
		for (const r of full) {
			const cut = Number(r.last_seq) - retention.count;
			cuts.set(r.topic, Math.max(cut, cuts.get(r.topic) ?? 0));
		}
		for (const [topic, cut] of cuts) await cutTopic(trx, topic, cut);
	});
}

/** Trims one topic whose last sequence is `lastSeq`. */
async function trimTopic(db: Db, topic: string, lastSeq: number, retention: Retention): Promise<void> {
	const aged = await db
		.selectFrom('bus_events')
		.select((eb) => eb.fn.max('seq').as('seq'))
		.where('topic', '=', topic)
		.where('created_at', '<', retention.cutoff)
		.executeTakeFirst();
	await cutTopic(db, topic, Math.max(lastSeq - retention.count, Number(aged?.seq ?? 0)));
}

// Deletes a prefix (seq <= cut), never a middle row, so the retained range stays contiguous even
// if the clock stepped back; min_seq only moves forward.
async function cutTopic(db: Db, topic: string, cut: number): Promise<void> {
	if (cut < 1) return;
	await db.deleteFrom('bus_events').where('topic', '=', topic).where('seq', '<=', cut).execute();
	await db
		.updateTable('bus_topics')
		.set({ min_seq: cut + 1 })
		.where('topic', '=', topic)
		.where('min_seq', '<=', cut)
		.execute();
}

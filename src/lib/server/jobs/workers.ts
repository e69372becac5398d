// The job_workers table: each live worker pool (one per instance) and its JOB_CONCURRENCY.
import type { Kysely } from 'kysely';
import type { Database } from '../db';

type Db = Kysely<Database>;

/** Says a worker pool is alive and how many jobs it runs at once. */
export async function seeWorker(db: Db, worker: string, concurrency: number, now: number): Promise<void> {
	await db
		.insertInto('job_workers')
		.values({ worker, concurrency, seen_at: now })
		.onConflict((oc) => oc.column('worker').doUpdateSet({ concurrency, seen_at: now }))
		.execute();
}

/** Forgets worker pools not seen since `before` (and `worker` itself, when given: it is stopping). */
export async function forgetWorkers(db: Db, before: number, worker?: string): Promise<void> {
	await db
		.deleteFrom('job_workers')
		.where((eb) => (worker === undefined ? eb('seen_at', '<', before) : eb.or([eb('seen_at', '<', before), eb('worker', '=', worker)])))
		.execute();
}

/** How many jobs the worker pools seen since `since` run at once, together. */
export async function capacity(db: Db, since: number): Promise<number> {
	const row = await db
		.selectFrom('job_workers')
		.select((eb) => eb.fn.sum<number | string | null>('concurrency').as('n'))
		.where('seen_at', '>=', since)
		.executeTakeFirst();
	return Number(row?.n ?? 0);
}

import type { Kysely } from 'kysely';

/** What several instances sharing one queue need: cancel requests, the last published estimation, and who works. */
export function jobInstances() {
	return {
		async up(db: Kysely<unknown>) {
			// Set when a job's cancel reaches an instance that is not running it; its worker stops.
			await db.schema.alterTable('jobs').addColumn('cancel_requested_at', 'bigint').execute();
			// The estimation last published for a queued job: an instance publishes a change only by swapping it.
			await db.schema.alterTable('jobs').addColumn('estimation', 'text').execute();
			// Each live worker pool and its JOB_CONCURRENCY: the queue's ETA counts every instance's slots.
			await db.schema
				.createTable('job_workers')
				.addColumn('worker', 'text', (c) => c.primaryKey())
				.addColumn('concurrency', 'integer', (c) => c.notNull())
				.addColumn('seen_at', 'bigint', (c) => c.notNull())
				.execute();
		}
	};
}

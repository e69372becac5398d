import type { Kysely } from 'kysely';
import { idColumn, type Dialect } from '../dialect';

/** Jobs (the queue and each job's outcome) and their log lines. */
export function jobs(dialect: Dialect) {
	return {
		async up(db: Kysely<unknown>) {
			await idColumn(db.schema.createTable('jobs'), dialect)
				.addColumn('owner_id', 'integer', (c) => c.notNull().references('users.id').onDelete('cascade'))
				.addColumn('kind', 'text', (c) => c.notNull())
				.addColumn('params', 'text', (c) => c.notNull())
				.addColumn('state', 'text', (c) => c.notNull())
				.addColumn('created_at', 'bigint', (c) => c.notNull())
				.addColumn('started_at', 'bigint')
				.addColumn('finished_at', 'bigint')
				.addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
				.addColumn('worker', 'text')
				.addColumn('heartbeat_at', 'bigint')
				.addColumn('progress', 'text')
				.addColumn('output_file_id', 'text', (c) => c.references('files.id').onDelete('set null'))
				.addColumn('output', 'text')
				.addColumn('error', 'text')
				.execute();
			// The queue is read in id order by state (claims, ranks); a user's list newest first.
			await db.schema.createIndex('jobs_state').on('jobs').columns(['state', 'id']).execute();
			await db.schema.createIndex('jobs_owner').on('jobs').columns(['owner_id', 'id']).execute();
			await db.schema.createIndex('jobs_kind_finished').on('jobs').columns(['kind', 'state', 'finished_at']).execute();

			await db.schema
				.createTable('job_logs')
				.addColumn('job_id', 'integer', (c) => c.notNull().references('jobs.id').onDelete('cascade'))
				.addColumn('line', 'integer', (c) => c.notNull())
				.addColumn('time', 'bigint', (c) => c.notNull())
				.addColumn('level', 'text', (c) => c.notNull())
				.addColumn('text', 'text', (c) => c.notNull())
				.addPrimaryKeyConstraint('job_logs_pk', ['job_id', 'line'])
				.execute();
		}
	};
}

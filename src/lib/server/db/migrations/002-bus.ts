import type { Kysely } from 'kysely';

/** Bus events per topic (replay history) and each topic's sequence counter and retained range. */
export function bus() {
	return {
		async up(db: Kysely<unknown>) {
			await db.schema
				.createTable('bus_events')
				.addColumn('topic', 'text', (c) => c.notNull())
				.addColumn('seq', 'bigint', (c) => c.notNull())
				.addColumn('type', 'text', (c) => c.notNull())
				.addColumn('data', 'text', (c) => c.notNull())
				.addColumn('created_at', 'bigint', (c) => c.notNull())
				.addPrimaryKeyConstraint('bus_events_pk', ['topic', 'seq'])
				.execute();
			await db.schema.createIndex('bus_events_created').on('bus_events').column('created_at').execute();

			await db.schema
				.createTable('bus_topics')
				.addColumn('topic', 'text', (c) => c.primaryKey())
				.addColumn('last_seq', 'bigint', (c) => c.notNull())
				.addColumn('min_seq', 'bigint', (c) => c.notNull())
				.execute();
		}
	};
}

import type { Kysely } from 'kysely';
import { idColumn, type Dialect } from '../dialect';

/**
 * Analytics events, and their counts per day, metric and dimension values (so a stream can say
 * how many records it will send without counting a million rows first).
 */
export function analytics(dialect: Dialect) {
	return {
		async up(db: Kysely<unknown>) {
			await idColumn(db.schema.createTable('analytics_events'), dialect)
				.addColumn('time', 'bigint', (c) => c.notNull())
				.addColumn('metric', 'text', (c) => c.notNull())
				.addColumn('region', 'text', (c) => c.notNull())
				.addColumn('channel', 'text', (c) => c.notNull())
				.addColumn('value', 'double precision', (c) => c.notNull())
				.execute();
			// One index: streams read in (time, id) order with LIMIT, and an index led by metric made
			// SQLite sort every remaining row for each batch. Metric filters scan the time range.
			await db.schema.createIndex('analytics_events_time').on('analytics_events').columns(['time', 'id']).execute();

			await db.schema
				.createTable('analytics_counts')
				.addColumn('day', 'bigint', (c) => c.notNull())
				.addColumn('metric', 'text', (c) => c.notNull())
				.addColumn('region', 'text', (c) => c.notNull())
				.addColumn('channel', 'text', (c) => c.notNull())
				.addColumn('count', 'bigint', (c) => c.notNull())
				.addPrimaryKeyConstraint('analytics_counts_pk', ['day', 'metric', 'region', 'channel'])
				.execute();
		}
	};
}

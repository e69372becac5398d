import type { Kysely } from 'kysely';
import type { Dialect } from '../dialect';
import { idColumn } from '../dialect';

/** Per-user notifications, and a key-value table for instance-wide settings (secrets). */
export function notifications(dialect: Dialect) {
	return {
		async up(db: Kysely<unknown>) {
			await idColumn(db.schema.createTable('notifications'), dialect)
				.addColumn('user_id', 'integer', (c) => c.notNull().references('users.id').onDelete('cascade'))
				.addColumn('type', 'text', (c) => c.notNull())
				.addColumn('title', 'text', (c) => c.notNull())
				.addColumn('body', 'text', (c) => c.notNull())
				.addColumn('link', 'text')
				.addColumn('created_at', 'bigint', (c) => c.notNull())
				.addColumn('read_at', 'bigint')
				.execute();
			await db.schema.createIndex('notifications_user').on('notifications').columns(['user_id', 'id']).execute();

			await db.schema
				.createTable('settings')
				.addColumn('key', 'text', (c) => c.primaryKey())
				.addColumn('value', 'text', (c) => c.notNull())
				.execute();
		}
	};
}

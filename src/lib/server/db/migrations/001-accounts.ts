import type { Kysely } from 'kysely';
import type { Dialect } from '../dialect';
import { idColumn } from '../dialect';

/** Users, sessions, rooms and room members. */
export function accounts(dialect: Dialect) {
	return {
		async up(db: Kysely<unknown>) {
			await idColumn(db.schema.createTable('users'), dialect)
				.addColumn('name', 'text', (c) => c.notNull())
				.addColumn('name_key', 'text', (c) => c.notNull().unique())
				.addColumn('password_hash', 'text', (c) => c.notNull())
				.addColumn('role', 'text', (c) => c.notNull().defaultTo('user'))
				.addColumn('created_at', 'bigint', (c) => c.notNull())
				.execute();

			await db.schema
				.createTable('sessions')
				.addColumn('id', 'text', (c) => c.primaryKey())
				.addColumn('user_id', 'integer', (c) => c.notNull().references('users.id').onDelete('cascade'))
				.addColumn('created_at', 'bigint', (c) => c.notNull())
				.addColumn('expires_at', 'bigint', (c) => c.notNull())
				.execute();
			await db.schema.createIndex('sessions_user').on('sessions').column('user_id').execute();

			await idColumn(db.schema.createTable('rooms'), dialect)
				.addColumn('name', 'text', (c) => c.notNull().unique())
				.addColumn('topic', 'text', (c) => c.notNull().defaultTo(''))
				.addColumn('is_private', 'integer', (c) => c.notNull().defaultTo(0))
				.addColumn('owner_id', 'integer', (c) => c.references('users.id').onDelete('set null'))
				.addColumn('created_at', 'bigint', (c) => c.notNull())
				.addColumn('closed_at', 'bigint')
				.execute();

			await db.schema
				.createTable('room_members')
				.addColumn('room_id', 'integer', (c) => c.notNull().references('rooms.id').onDelete('cascade'))
				.addColumn('user_id', 'integer', (c) => c.notNull().references('users.id').onDelete('cascade'))
				.addColumn('joined_at', 'bigint', (c) => c.notNull())
				.addPrimaryKeyConstraint('room_members_pk', ['room_id', 'user_id'])
				.execute();
			await db.schema.createIndex('room_members_user').on('room_members').column('user_id').execute();
		}
	};
}

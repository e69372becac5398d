import type { Kysely } from 'kysely';

/** Stored files, their shares into rooms, and unfinished uploads. */
export function files() {
	return {
		async up(db: Kysely<unknown>) {
			await db.schema
				.createTable('files')
				.addColumn('id', 'text', (c) => c.primaryKey())
				.addColumn('owner_id', 'integer', (c) => c.notNull().references('users.id').onDelete('cascade'))
				.addColumn('name', 'text', (c) => c.notNull())
				.addColumn('size', 'bigint', (c) => c.notNull())
				.addColumn('sha256', 'text', (c) => c.notNull())
				.addColumn('type', 'text', (c) => c.notNull())
				.addColumn('stored', 'text', (c) => c.notNull().unique())
				.addColumn('is_public', 'integer', (c) => c.notNull().defaultTo(0))
				.addColumn('created_at', 'bigint', (c) => c.notNull())
				.execute();
			await db.schema.createIndex('files_owner').on('files').columns(['owner_id', 'created_at']).execute();

			await db.schema
				.createTable('file_shares')
				.addColumn('file_id', 'text', (c) => c.notNull().references('files.id').onDelete('cascade'))
				.addColumn('room_id', 'integer', (c) => c.notNull().references('rooms.id').onDelete('cascade'))
				.addColumn('shared_by', 'integer', (c) => c.notNull().references('users.id').onDelete('cascade'))
				.addColumn('shared_at', 'bigint', (c) => c.notNull())
				.addPrimaryKeyConstraint('file_shares_pk', ['file_id', 'room_id'])
				.execute();
			await db.schema.createIndex('file_shares_room').on('file_shares').column('room_id').execute();

			await db.schema
				.createTable('uploads')
				.addColumn('id', 'text', (c) => c.primaryKey())
				.addColumn('owner_id', 'integer', (c) => c.notNull().references('users.id').onDelete('cascade'))
				.addColumn('name', 'text', (c) => c.notNull())
				.addColumn('size', 'bigint', (c) => c.notNull())
				.addColumn('sha256', 'text', (c) => c.notNull())
				.addColumn('type', 'text', (c) => c.notNull())
				.addColumn('offset', 'bigint', (c) => c.notNull().defaultTo(0))
				.addColumn('created_at', 'bigint', (c) => c.notNull())
				.addColumn('updated_at', 'bigint', (c) => c.notNull())
				.execute();
			await db.schema.createIndex('uploads_updated').on('uploads').column('updated_at').execute();
		}
	};
}

import type { Kysely } from 'kysely';
import type { Dialect } from '../dialect';

/** Chat messages with per-room ids, each room's id counter, read positions and invitations. */
export function chat(_dialect: Dialect) {
	return {
		async up(db: Kysely<unknown>) {
			await db.schema
				.createTable('chat_room_seqs')
				.addColumn('room_id', 'integer', (c) => c.primaryKey().references('rooms.id').onDelete('cascade'))
				.addColumn('last_seq', 'bigint', (c) => c.notNull())
				.execute();

			await db.schema
				.createTable('chat_messages')
				.addColumn('room_id', 'integer', (c) => c.notNull().references('rooms.id').onDelete('cascade'))
				.addColumn('seq', 'bigint', (c) => c.notNull())
				.addColumn('user_id', 'integer', (c) => c.references('users.id').onDelete('set null'))
				.addColumn('client_id', 'text')
				.addColumn('kind', 'text', (c) => c.notNull())
				.addColumn('body', 'text', (c) => c.notNull())
				.addColumn('file_id', 'text', (c) => c.references('files.id').onDelete('set null'))
				.addColumn('created_at', 'bigint', (c) => c.notNull())
				.addPrimaryKeyConstraint('chat_messages_pk', ['room_id', 'seq'])
				.addUniqueConstraint('chat_messages_client', ['user_id', 'client_id'])
				.execute();

			await db.schema
				.createTable('chat_reads')
				.addColumn('room_id', 'integer', (c) => c.notNull().references('rooms.id').onDelete('cascade'))
				.addColumn('user_id', 'integer', (c) => c.notNull().references('users.id').onDelete('cascade'))
				.addColumn('last_read', 'bigint', (c) => c.notNull())
				.addPrimaryKeyConstraint('chat_reads_pk', ['room_id', 'user_id'])
				.execute();

			await db.schema
				.createTable('chat_invites')
				.addColumn('room_id', 'integer', (c) => c.notNull().references('rooms.id').onDelete('cascade'))
				.addColumn('user_id', 'integer', (c) => c.notNull().references('users.id').onDelete('cascade'))
				.addColumn('invited_by', 'integer', (c) => c.notNull().references('users.id').onDelete('cascade'))
				.addColumn('created_at', 'bigint', (c) => c.notNull())
				.addPrimaryKeyConstraint('chat_invites_pk', ['room_id', 'user_id'])
				.execute();
			await db.schema.createIndex('chat_invites_user').on('chat_invites').column('user_id').execute();
		}
	};
}

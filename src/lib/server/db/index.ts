import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import SQLite from 'better-sqlite3';
import { Kysely, Migrator, SqliteDialect } from 'kysely';
import type { Dialect } from './dialect';
import { migrations } from './migrations';
import type { Database } from './schema';

export type { Database } from './schema';
export type { Dialect } from './dialect';

/** An open store: the Kysely handle and the dialect behind it. */
export interface Store {
	db: Kysely<Database>;
	dialect: Dialect;
	close(): Promise<void>;
}

/**
 * Opens (creating if needed) the SQLite store in `dataDir` with WAL and runs pending migrations.
 * @example const store = await open('./data'); await store.db.selectFrom('users').selectAll().execute();
 */
export async function open(dataDir: string): Promise<Store> {
	mkdirSync(dataDir, { recursive: true });
	const sqlite = new SQLite(join(dataDir, 'runnel.db'));
	sqlite.pragma('journal_mode = WAL');
	sqlite.pragma('synchronous = NORMAL');
	sqlite.pragma('foreign_keys = ON');
	sqlite.pragma('busy_timeout = 5000');
	const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: sqlite }) });
	await migrate(db, 'sqlite');
	return { db, dialect: 'sqlite', close: () => db.destroy() };
}

/** Runs every pending migration; throws with the failing migration's name. */
export async function migrate(db: Kysely<Database>, dialect: Dialect): Promise<void> {
	const migrator = new Migrator({
		db,
		provider: { getMigrations: async () => migrations(dialect) }
	});
	const { error, results } = await migrator.migrateToLatest();
	if (error) {
		const failed = results?.find((r) => r.status === 'Error')?.migrationName ?? 'unknown';
		throw new Error(`database migration ${failed} failed: ${(error as Error).message ?? error}`);
	}
}

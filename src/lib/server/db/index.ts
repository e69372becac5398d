import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import SQLite from 'better-sqlite3';
import { Kysely, Migrator, PostgresDialect, SqliteDialect } from 'kysely';
import pg from 'pg';
import { Checkpointer, type CheckpointStats } from './checkpoint';
import type { Dialect } from './dialect';
import { useSync } from './compiled';
import { migrations } from './migrations';
import type { Database } from './schema';
import { keepStatements } from './statements';

export type { Database } from './schema';
export type { Dialect } from './dialect';

/** An open store: the Kysely handle and the dialect behind it. */
export interface Store {
	db: Kysely<Database>;
	dialect: Dialect;
	/**
	 * SQLite only, for hot read paths: runs a compiled read query (`query.compile()`) and returns
	 * its rows as arrays of column values, in select order, skipping the object per row.
	 */
	rows?: (query: { sql: string; parameters: readonly unknown[] }) => unknown[][];
	/** SQLite only: what the checkpoint worker did (see Checkpointer). */
	checkpoints?: CheckpointStats;
	close(): Promise<void>;
}

/**
 * SQLite's one connection, used synchronously: a hot write (a chat message) runs its statements and
 * its transaction in the turn that asked for it, without Kysely's executor and its promises.
 * Kysely's own transactions can be open across an await on the same connection: `busy()` says so,
 * and then the caller goes Kysely's way (which waits its turn) instead.
 */
export interface SyncSqlite {
	/** Runs one statement now; its rows as objects (none for a statement that returns none). */
	all(sql: string, parameters: readonly unknown[]): unknown[];
	/** Runs `work` now in one transaction (rolled back if it throws). Only when !busy(). */
	transaction<T>(work: () => T): T;
	/** A transaction is open on the connection. */
	busy(): boolean;
}

/** Where the store lives: PostgreSQL when `databaseUrl` is set, else SQLite in `dataDir`. */
export interface StoreOptions {
	dataDir: string;
	databaseUrl?: string;
	/** Told when something in the background of the store fails (SQLite's checkpoint worker). */
	warn?: (error: unknown, message: string) => void;
}

/**
 * Opens the store and runs pending migrations: PostgreSQL at `databaseUrl`, else (creating it if
 * needed) SQLite in `dataDir` with WAL.
 * @example const store = await open({ dataDir: './data' }); await store.db.selectFrom('users').selectAll().execute();
 */
export async function open(options: StoreOptions): Promise<Store> {
	return options.databaseUrl ? openPostgres(options.databaseUrl) : openSqlite(options.dataDir, options.warn);
}

// int8 (counts, sums, bigint columns) as a JS number: every value we store is a safe integer
// (Unix ms, ids, byte counts); numeric (sums of doubles) as a number too.
pg.types.setTypeParser(pg.types.builtins.INT8, (value) => Number(value));
pg.types.setTypeParser(pg.types.builtins.NUMERIC, (value) => Number(value));

async function openPostgres(connectionString: string): Promise<Store> {
	const pool = new pg.Pool({ connectionString, max: 10 });
	// A connection that drops while idle (a restarted server) must not crash the process.
	pool.on('error', () => {});
	const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
	try {
		await migrate(db, 'postgres');
	} catch (error) {
		await db.destroy();
		throw error;
	}
	return { db, dialect: 'postgres', close: () => db.destroy() };
}

async function openSqlite(dataDir: string, warn?: StoreOptions['warn']): Promise<Store> {
	mkdirSync(dataDir, { recursive: true });
	const file = join(dataDir, 'runnel.db');
	const sqlite = new SQLite(file);
	sqlite.pragma('journal_mode = WAL');
	sqlite.pragma('synchronous = NORMAL');
	sqlite.pragma('foreign_keys = ON');
	sqlite.pragma('busy_timeout = 5000');
	// The WAL file shrinks back to this when it restarts after a checkpoint (a bulk write grows it).
	sqlite.pragma('journal_size_limit = 16777216');
	const statements = keepStatements(sqlite);
	const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: statements }) });
	await migrate(db, 'sqlite');
	useSync(db, syncSqlite(sqlite, statements));
	const checkpoints = new Checkpointer(sqlite, file, warn);
	// Their own statements: raw mode is a statement's setting, and Kysely's must keep returning objects.
	const raw = keepStatements(sqlite, 32);
	const rows = (query: { sql: string; parameters: readonly unknown[] }) =>
		(raw.prepare(query.sql) as unknown as SQLite.Statement).raw(true).all(...query.parameters) as unknown[][];
	const close = async () => {
		await checkpoints.close();
		await db.destroy();
	};
	return { db, dialect: 'sqlite', rows, checkpoints: checkpoints.stats, close };
}

/** The synchronous side of a SQLite connection, over the statements Kysely's dialect keeps. */
function syncSqlite(sqlite: SQLite.Database, statements: ReturnType<typeof keepStatements>): SyncSqlite {
	// One wrapper for every call: better-sqlite3 builds several functions per transaction() call.
	const inTransaction = sqlite.transaction((work: () => unknown) => work());
	return {
		all(sql, parameters) {
			const statement = statements.prepare(sql) as unknown as SQLite.Statement;
			if (statement.reader) return statement.all(parameters);
			statement.run(parameters);
			return [];
		},
		transaction<T>(work: () => T): T {
			if (sqlite.inTransaction) throw new Error('SyncSqlite.transaction: a transaction is already open on the connection');
			return inTransaction(work) as T;
		},
		busy: () => sqlite.inTransaction
	};
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

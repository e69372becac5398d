import Database from 'better-sqlite3';
import { join } from 'node:path';
import pg from 'pg';
import type { AppServer } from './server';

/**
 * A test's own handle on the store a server uses (to seed rows no endpoint creates, or to check
 * what was stored): the SQLite file in its DATA_DIR, or the PostgreSQL database it was given.
 * SQL is written once with `?` placeholders (no `?` inside literals); a row's new id comes from
 * `returning id`, which both dialects speak. int8 and numeric come back as numbers, as in the app.
 */
export interface AppDb {
	/** Every row of a query. */
	all<T = Record<string, unknown>>(sql: string, ...params: unknown[]): Promise<T[]>;
	/** The first row of a query (or undefined). */
	get<T = Record<string, unknown>>(sql: string, ...params: unknown[]): Promise<T | undefined>;
	/** Runs a statement; resolves with the rows it changed. */
	run(sql: string, ...params: unknown[]): Promise<number>;
	close(): Promise<void>;
}

const NUMBER_TYPES = new Set<number>([pg.types.builtins.INT8, pg.types.builtins.NUMERIC]);
const types = {
	getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
		NUMBER_TYPES.has(oid) ? (value: string) => Number(value) : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser
};

/** `?` placeholders as PostgreSQL's `$1, $2, …`. */
const numbered = (sql: string) => {
	let n = 0;
	return sql.replace(/\?/g, () => `$${++n}`);
};

/**
 * Opens the store of a server (running or stopped; a server keeps its database for a restart on
 * the same DATA_DIR).
 * @example const db = await openAppDb(app); const { id } = (await db.get<{ id: number }>('insert into rooms (…) values (?, …) returning id', …))!; await db.close();
 */
export async function openAppDb(app: Pick<AppServer, 'dataDir' | 'databaseUrl'>): Promise<AppDb> {
	if (app.databaseUrl) {
		const client = new pg.Client({ connectionString: app.databaseUrl, types });
		await client.connect();
		// One query at a time on the one connection (callers may use Promise.all).
		let tail: Promise<unknown> = Promise.resolve();
		const query = <T>(sql: string, params: unknown[]) => {
			const result = tail.then(() => client.query<T & pg.QueryResultRow>(numbered(sql), params));
			tail = result.catch(() => undefined);
			return result;
		};
		return {
			all: async <T>(sql: string, ...params: unknown[]) => (await query<T>(sql, params)).rows as T[],
			get: async <T>(sql: string, ...params: unknown[]) => (await query<T>(sql, params)).rows[0] as T | undefined,
			run: async (sql, ...params) => (await query(sql, params)).rowCount ?? 0,
			close: () => client.end()
		};
	}
	// WAL: a second connection next to the server's is fine; busy_timeout waits out its writes.
	const db = new Database(join(app.dataDir, 'runnel.db'), { fileMustExist: true });
	db.pragma('busy_timeout = 5000');
	return {
		all: async <T>(sql: string, ...params: unknown[]) => db.prepare(sql).all(...params) as T[],
		get: async <T>(sql: string, ...params: unknown[]) => db.prepare(sql).get(...params) as T | undefined,
		run: async (sql, ...params) => db.prepare(sql).run(...params).changes,
		close: async () => void db.close()
	};
}

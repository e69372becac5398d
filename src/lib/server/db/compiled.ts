import { CompiledQuery, type Compilable, type Kysely } from 'kysely';
import type { SyncSqlite } from './index';

/** The synchronous side of each SQLite store, by its Kysely adapter (its transactions share it). */
const syncs = new WeakMap<object, SyncSqlite>();

/** Registers the synchronous side of a SQLite store's Kysely (db/index.ts does, on open). */
export function useSync<DB>(db: Kysely<DB>, sync: SyncSqlite): void {
	syncs.set(db.getExecutor().adapter, sync);
}

/**
 * The synchronous side of `db`'s connection when it has one (SQLite) and no transaction is open on
 * it; else undefined, and the caller goes Kysely's way.
 * @example const sync = syncOf(db); if (sync) sync.transaction(() => insert.now(db, row)); else await insert(db, row);
 */
export function syncOf<DB>(db: Kysely<DB>): SyncSqlite | undefined {
	const sync = syncs.get(db.getExecutor().adapter);
	return sync && !sync.busy() ? sync : undefined;
}

/** A query compiled once: call it (a promise of its rows), or on SQLite run it `now`. */
export interface CompiledOnce<DB, A extends unknown[], R> {
	(db: Kysely<DB>, ...args: A): Promise<R[]>;
	/** Runs it at once on `db`'s SQLite connection (inside a SyncSqlite transaction, say); throws on a store without one. */
	now(db: Kysely<DB>, ...args: A): R[];
}

/** A compiled query and where each of its parameters comes from: an argument's index, or -1 for a constant. */
interface Template {
	sql: string;
	sources: number[];
	constants: readonly unknown[];
}

/** Stands in for argument `i` while the query compiles once; no real value looks like it. */
const marker = (i: number) => `\u0000runnel-arg-${i}\u0000`;

/**
 * A query that Kysely builds and compiles once per database (its transactions share it), then runs
 * with each call's arguments:
 * the hot paths (the session of every request, a file's access) pay for SQL and its prepared
 * statement, not for Kysely's builders and compiler. `build` must put each argument into the query
 * as a value, as is (it sees stand-ins while compiling, so it must not branch on them or change them);
 * values it writes itself stay constants.
 * @example
 * const sessionUser = compiledOnce((db, id: string) => db.selectFrom('sessions').select('user_id').where('id', '=', id));
 * const [row] = await sessionUser(runtime().store.db, id);
 */
export function compiledOnce<DB, A extends unknown[], R>(build: (db: Kysely<DB>, ...args: A) => Compilable<R>): CompiledOnce<DB, A, R> {
	// By the database's adapter: a transaction is a Kysely of its own over the same one.
	const templates = new WeakMap<object, Template>();
	const templateFor = (db: Kysely<DB>, count: number): Template => {
		const key = db.getExecutor().adapter;
		let template = templates.get(key);
		if (template) return template;
		const markers = Array.from({ length: count }, (_, i) => marker(i));
		const compiled = build(db, ...(markers as unknown as A)).compile();
		const sources = compiled.parameters.map((value) => markers.indexOf(value as string));
		for (let i = 0; i < count; i++) {
			if (!sources.includes(i)) throw new Error(`compiledOnce: argument ${i} is not a parameter of ${compiled.sql}`);
		}
		template = { sql: compiled.sql, sources, constants: compiled.parameters };
		templates.set(key, template);
		return template;
	};
	const compiled = (db: Kysely<DB>, args: A) => {
		const { sql, sources, constants } = templateFor(db, args.length);
		return { sql, parameters: sources.map((source, i) => (source < 0 ? constants[i] : args[source])) };
	};
	const on = (sync: SyncSqlite, db: Kysely<DB>, args: A): R[] => {
		const { sql, parameters } = compiled(db, args);
		return sync.all(sql, parameters) as R[];
	};
	const now = (db: Kysely<DB>, ...args: A): R[] => {
		const sync = syncs.get(db.getExecutor().adapter);
		if (!sync) throw new Error('compiledOnce: now() needs a SQLite store');
		return on(sync, db, args);
	};
	const run = async (db: Kysely<DB>, ...args: A): Promise<R[]> => {
		// SQLite with no transaction open: at once, as Kysely would (its driver is synchronous too), minus its executor.
		const sync = syncOf(db);
		if (sync) return on(sync, db, args);
		const { sql, parameters } = compiled(db, args);
		return (await db.executeQuery(CompiledQuery.raw(sql, parameters))).rows as R[];
	};
	return Object.assign(run, { now });
}

/**
 * compiledOnce() for a query whose shape depends on a row count (a multi-row insert, an IN list):
 * one compiled query per count, made on first use. `build` gets the count and the flat arguments.
 * @example const insertRows = compiledPerCount((db, n, args) => db.insertInto('t').values(rowsOf(n, args)));
 *          await insertRows(rows.length)(db, ...rows.flat());
 */
export function compiledPerCount<DB, R>(build: (db: Kysely<DB>, n: number, args: unknown[]) => Compilable<R>): (n: number) => CompiledOnce<DB, unknown[], R> {
	const shapes: CompiledOnce<DB, unknown[], R>[] = [];
	return (n) => (shapes[n] ??= compiledOnce((db: Kysely<DB>, ...args: unknown[]) => build(db, n, args)));
}

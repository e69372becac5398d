import type SQLite from 'better-sqlite3';
import type { SqliteDatabase } from 'kysely';

/** Distinct SQL texts kept prepared; the least recently used goes first past this. */
export const MAX_STATEMENTS = 256;

/**
 * The database as Kysely's SqliteDialect sees it, with each statement prepared once per SQL text
 * (Kysely's driver would prepare it again on every query). Safe on the dialect's one connection,
 * which runs one query at a time; SQLite re-prepares a kept statement itself after a schema change.
 * @example new Kysely<Database>({ dialect: new SqliteDialect({ database: keepStatements(sqlite) }) });
 */
export function keepStatements(sqlite: SQLite.Database, max = MAX_STATEMENTS): SqliteDatabase & { readonly kept: number } {
	const kept = new Map<string, SQLite.Statement>();
	return {
		get kept() {
			return kept.size;
		},
		close: () => sqlite.close(),
		prepare(sql: string) {
			let statement = kept.get(sql);
			if (statement) kept.delete(sql); // re-inserted below: most recently used last
			else statement = sqlite.prepare(sql);
			kept.set(sql, statement);
			if (kept.size > max) kept.delete(kept.keys().next().value!);
			return statement;
		}
	};
}

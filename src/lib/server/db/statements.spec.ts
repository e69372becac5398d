import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import SQLite from 'better-sqlite3';
import { Kysely, SqliteDialect, sql } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { keepStatements } from './statements';

let dir: string;
let sqlite: SQLite.Database;

beforeEach(() => {
	dir = mkdtempSync(join(tmpdir(), 'runnel-statements-'));
	sqlite = new SQLite(join(dir, 'test.db'));
});
afterEach(() => {
	if (sqlite.open) sqlite.close();
	rmSync(dir, { recursive: true, force: true });
});

describe('keepStatements', () => {
	it('prepares each SQL text once and keeps the most recently used', () => {
		const database = keepStatements(sqlite, 2);
		const one = database.prepare('select 1 as n');
		expect(database.prepare('select 1 as n')).toBe(one);
		const two = database.prepare('select 2 as n');
		database.prepare('select 1 as n'); // now the most recent
		database.prepare('select 3 as n'); // evicts "select 2"
		expect(database.kept).toBe(2);
		expect(database.prepare('select 1 as n')).toBe(one);
		expect(database.prepare('select 2 as n')).not.toBe(two);
	});

	it('serves Kysely queries, transactions, an abandoned stream and a schema change correctly', async () => {
		const database = keepStatements(sqlite);
		const db = new Kysely<{ t: { a: number; b?: string | null } }>({ dialect: new SqliteDialect({ database }) });
		await sql`create table t (a integer)`.execute(db);
		await db.transaction().execute(async (trx) => {
			for (const a of [1, 2, 3]) await trx.insertInto('t').values({ a }).execute();
		});
		const all = () => db.selectFrom('t').selectAll().orderBy('a').execute();
		expect(await all()).toEqual([{ a: 1 }, { a: 2 }, { a: 3 }]);

		for await (const row of db.selectFrom('t').selectAll().orderBy('a').stream()) {
			expect(row).toEqual({ a: 1 });
			break; // the kept statement must be reset, not left busy
		}
		expect(await all()).toEqual([{ a: 1 }, { a: 2 }, { a: 3 }]);

		await sql`alter table t add column b text`.execute(db);
		await db.updateTable('t').set({ b: 'x' }).where('a', '=', 2).execute();
		expect(await all()).toEqual([{ a: 1, b: null }, { a: 2, b: 'x' }, { a: 3, b: null }]);
		expect(database.kept).toBeGreaterThan(3);
		await db.destroy();
		expect(sqlite.open).toBe(false);
	});
});

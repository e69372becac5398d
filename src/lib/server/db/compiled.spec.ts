import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import SQLite from 'better-sqlite3';
import { Kysely, SqliteDialect } from 'kysely';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { compiledOnce } from './compiled';

interface Db {
	people: { id: number; name: string; team: string; active: number };
}

let dir: string;
let db: Kysely<Db>;

beforeEach(async () => {
	dir = mkdtempSync(join(tmpdir(), 'runnel-compiled-'));
	db = new Kysely<Db>({ dialect: new SqliteDialect({ database: new SQLite(join(dir, 'test.db')) }) });
	await db.schema.createTable('people').addColumn('id', 'integer', (c) => c.primaryKey()).addColumn('name', 'text').addColumn('team', 'text').addColumn('active', 'integer').execute();
	await db
		.insertInto('people')
		.values([
			{ id: 1, name: 'Ana', team: 'red', active: 1 },
			{ id: 2, name: 'Bo', team: 'red', active: 0 },
			{ id: 3, name: 'Cy', team: 'blue', active: 1 }
		])
		.execute();
});
afterEach(async () => {
	await db.destroy();
	rmSync(dir, { recursive: true, force: true });
});

describe('compiledOnce', () => {
	it('builds once and runs with each call’s arguments in their places, constants kept', async () => {
		const build = vi.fn((kdb: Kysely<Db>, team: string, minId: number) =>
			kdb.selectFrom('people').select(['id', 'name']).where('active', '=', 1).where('id', '>=', minId).where('team', '=', team).orderBy('id')
		);
		const activeIn = compiledOnce(build);
		expect(await activeIn(db, 'red', 0)).toEqual([{ id: 1, name: 'Ana' }]);
		expect(await activeIn(db, 'blue', 0)).toEqual([{ id: 3, name: 'Cy' }]);
		expect(await activeIn(db, 'blue', 4)).toEqual([]);
		expect(build).toHaveBeenCalledTimes(1);
	});

	it('runs inserts (values and returning) and shares the compiled query with the database’s transactions', async () => {
		const build = vi.fn((kdb: Kysely<Db>, id: number, name: string, team: string) =>
			kdb.insertInto('people').values({ id, name, team, active: 1 }).returning(['id', 'name'])
		);
		const add = compiledOnce(build);
		expect(await add(db, 4, 'Di', 'red')).toEqual([{ id: 4, name: 'Di' }]);
		await db.transaction().execute(async (trx) => {
			expect(await add(trx, 5, 'Ed', 'blue')).toEqual([{ id: 5, name: 'Ed' }]);
		});
		await expect(db.transaction().execute(async (trx) => (await add(trx, 6, 'Fay', 'red'), Promise.reject(new Error('roll back'))))).rejects.toThrow('roll back');
		expect(await db.selectFrom('people').select(['id', 'name', 'team', 'active']).where('id', '>=', 4).orderBy('id').execute()).toEqual([
			{ id: 4, name: 'Di', team: 'red', active: 1 },
			{ id: 5, name: 'Ed', team: 'blue', active: 1 }
		]);
		expect(build).toHaveBeenCalledTimes(1);
	});

	it('refuses a build that does not use an argument as a parameter', async () => {
		const unused = compiledOnce((kdb: Kysely<Db>, _name: string) => kdb.selectFrom('people').select('id'));
		await expect(unused(db, 'Ana')).rejects.toThrow(/argument 0 is not a parameter/);
	});
});

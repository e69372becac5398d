import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import SQLite from 'better-sqlite3';
import { Kysely, SqliteDialect, sql } from 'kysely';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { compiledOnce, syncOf } from './compiled';
import { open } from './index';

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

describe('the synchronous side of a SQLite store', () => {
	interface Notes {
		notes: { id: number; body: string };
	}
	it('runs compiled queries now when the connection is free, and Kysely’s way inside Kysely’s transactions', async () => {
		const store = await open({ dataDir: join(dir, 'store') });
		try {
			const ndb = store.db as unknown as Kysely<Notes>;
			await sql`create table notes (id integer primary key, body text not null)`.execute(ndb);
			const add = compiledOnce((kdb: Kysely<Notes>, id: number, body: string) => kdb.insertInto('notes').values({ id, body }));
			const bodies = compiledOnce((kdb: Kysely<Notes>, min: number) => kdb.selectFrom('notes').select('body').where('id', '>=', min).orderBy('id'));

			const sync = syncOf(ndb)!;
			expect(sync).toBeDefined();
			// One transaction, now: both rows or (it throws) neither.
			sync.transaction(() => {
				add.now(ndb, 1, 'one');
				add.now(ndb, 2, 'two');
			});
			expect(() =>
				sync.transaction(() => {
					add.now(ndb, 3, 'three');
					add.now(ndb, 1, 'one again');
				})
			).toThrow(/UNIQUE/);
			expect(bodies.now(ndb, 0)).toEqual([{ body: 'one' }, { body: 'two' }]);

			// While a Kysely transaction is open (across an await), there is no synchronous side: queries wait their turn in it.
			await ndb.transaction().execute(async (trx) => {
				await add(trx, 3, 'three');
				await new Promise((resolve) => setTimeout(resolve, 5));
				expect(syncOf(ndb)).toBeUndefined();
				expect(() => sync.transaction(() => 0)).toThrow(/already open/);
				expect(await bodies(trx, 3)).toEqual([{ body: 'three' }]);
			});
			expect(syncOf(ndb)).toBe(sync);
			expect(await bodies(ndb, 0)).toEqual([{ body: 'one' }, { body: 'two' }, { body: 'three' }]);
		} finally {
			await store.close();
		}
	});

	it('has none on a plain Kysely: now() says so', () => {
		const plain = compiledOnce((kdb: Kysely<Db>, id: number) => kdb.selectFrom('people').select('name').where('id', '=', id));
		expect(syncOf(db)).toBeUndefined();
		expect(() => plain.now(db, 1)).toThrow(/needs a SQLite store/);
	});
});

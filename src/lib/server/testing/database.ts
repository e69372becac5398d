// Test utility: in PostgreSQL mode (TEST_DATABASE_URL set) each test file gets a fresh database of
// its own, dropped afterwards; otherwise nothing (the store is SQLite in the test's DATA_DIR).
import { randomBytes } from 'node:crypto';
import pg from 'pg';

/** What a test adds to its environment: DATABASE_URL in PostgreSQL mode, nothing otherwise. */
export interface TestDatabase {
	env: { DATABASE_URL?: string };
	mode: 'sqlite' | 'postgres';
	/** Drops the database (PostgreSQL mode). */
	drop(): Promise<void>;
}

async function admin<T>(base: string, run: (client: pg.Client) => Promise<T>): Promise<T> {
	const client = new pg.Client({ connectionString: base });
	await client.connect();
	try {
		return await run(client);
	} finally {
		await client.end();
	}
}

/**
 * A fresh database for one test file when TEST_DATABASE_URL is set.
 * @example const database = await testDatabase('accounts'); await initRuntime(loadConfig({ DATA_DIR: dir, ...database.env })); … await database.drop();
 */
export async function testDatabase(name: string, base = process.env.TEST_DATABASE_URL?.trim()): Promise<TestDatabase> {
	if (!base) return { env: {}, mode: 'sqlite', drop: async () => {} };
	const database = `runnel_test_${name.replace(/\W/g, '_')}_${randomBytes(4).toString('hex')}`;
	await admin(base, (client) => client.query(`CREATE DATABASE ${database}`));
	const url = new URL(base);
	url.pathname = `/${database}`;
	return {
		env: { DATABASE_URL: url.toString() },
		mode: 'postgres',
		drop: () => admin(base, (client) => client.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`)).then(() => {})
	};
}

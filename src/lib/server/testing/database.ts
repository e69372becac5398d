// Test utility: in cluster mode (TEST_DATABASE_URL set) each test file gets a fresh database of its
// own and, with TEST_REDIS_URL too, a Redis key prefix of its own for the bus and Socket.IO, all
// dropped afterwards; otherwise nothing (SQLite in the test's DATA_DIR, the in-process bus).
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { testRedis } from './redis';

/** What a test adds to its environment: DATABASE_URL (and REDIS_URL, REDIS_PREFIX) in cluster mode, nothing otherwise. */
export interface TestDatabase {
	env: { DATABASE_URL?: string; REDIS_URL?: string; REDIS_PREFIX?: string };
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
	const redis = testRedis(name);
	return {
		env: { DATABASE_URL: url.toString(), ...(redis && { REDIS_URL: redis.url, REDIS_PREFIX: redis.prefix }) },
		mode: 'postgres',
		async drop() {
			await admin(base, (client) => client.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`));
			await redis?.drop();
		}
	};
}

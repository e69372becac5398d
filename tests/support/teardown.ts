// Playwright global teardown: drops the PostgreSQL databases and Redis keys end-to-end servers were
// given in cluster mode (E2E_STORE=postgres) that a restart test kept past its server's stop().
import pg from 'pg';
import { dropKeys, testRedisUrl } from '../../src/lib/server/testing/redis';
import { runName } from './server';

export default async function teardown(): Promise<void> {
	const base = process.env.TEST_DATABASE_URL?.trim();
	if (process.env.E2E_STORE !== 'postgres' || !base) return;
	// This run's prefixes are runnel-test:e2e_<run id>:<random>:, its databases runnel_test_e2e_<run id>_<random>.
	if (testRedisUrl) await dropKeys(testRedisUrl, `runnel-test:${runName()}:`);
	const client = new pg.Client({ connectionString: base });
	await client.connect();
	try {
		const { rows } = await client.query<{ datname: string }>('select datname from pg_database where datname like $1', [`runnel_test_${runName()}_%`]);
		for (const { datname } of rows) await client.query(`DROP DATABASE IF EXISTS ${datname} WITH (FORCE)`);
	} finally {
		await client.end();
	}
}

// Playwright global teardown: drops the PostgreSQL databases end-to-end servers were given (E2E_STORE=postgres)
// that a restart test kept past its server's stop().
import pg from 'pg';

export default async function teardown(): Promise<void> {
	const base = process.env.TEST_DATABASE_URL?.trim();
	if (process.env.E2E_STORE !== 'postgres' || !base) return;
	const client = new pg.Client({ connectionString: base });
	await client.connect();
	try {
		const { rows } = await client.query<{ datname: string }>("select datname from pg_database where datname like 'runnel_test_e2e_%'");
		for (const { datname } of rows) await client.query(`DROP DATABASE IF EXISTS ${datname} WITH (FORCE)`);
	} finally {
		await client.end();
	}
}

// State that several instances must share (issue 8): two production servers on one PostgreSQL
// database, one Redis key prefix and one DATA_DIR, as behind a load balancer.
import { mkdtempSync, readdirSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test } from '@playwright/test';
import type { Job } from '../src/lib/shared/jobs';
import { testDatabase, type TestDatabase } from '../src/lib/server/testing/database';
import { testRedis, type TestRedis } from '../src/lib/server/testing/redis';
import { call, signUp, until } from './support/clients';
import { clusterUnavailable } from './support/cluster';
import { startServer, type AppServer } from './support/server';

const unavailable = clusterUnavailable();
test.skip(unavailable !== null, `cluster state: ${unavailable}`);

/** Two instances' worth of shared resources; `start` adds an instance, `drop` stops them all and removes everything. */
async function cluster(name: string, env: Record<string, string> = {}) {
	const dataDir = mkdtempSync(join(tmpdir(), 'runnel-cluster-state-'));
	const database: TestDatabase = await testDatabase(`cluster_state_${name}`);
	const redis: TestRedis = testRedis(`cluster_state_${name}`)!;
	const servers: AppServer[] = [];
	return {
		dataDir,
		async start(): Promise<AppServer> {
			const app = await startServer({ dataDir, env: { ...env, ...(database.env as Record<string, string>), REDIS_URL: redis.url, REDIS_PREFIX: redis.prefix } });
			servers.push(app);
			return app;
		},
		/** Stops every instance (printing what they logged when the test failed) and removes everything. */
		async drop(failed: boolean) {
			if (failed) for (const [i, app] of servers.entries()) console.log(`instance ${i + 1} logged:\n${app.output().slice(-4000)}`);
			for (const app of servers) await app.stop('SIGKILL');
			await database.drop();
			await redis.drop();
			rmSync(dataDir, { recursive: true, force: true });
		}
	};
}

/** Resolves when the async `check` holds, polling every 50 ms (a failed request counts as not yet); rejects after `ms`. */
async function eventually(check: () => Promise<boolean>, ms: number, what: string): Promise<void> {
	const deadline = Date.now() + ms;
	while (!(await check().catch(() => false))) {
		if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
		await new Promise((resolve) => setTimeout(resolve, 50));
	}
}

const signIn = (app: AppServer, password: string) =>
	fetch(`${app.url}/api/auth/signin`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'ana', password }) });

test('failed sign-ins count across instances: five spread over two lock the name on both', async () => {
	const shared = await cluster('signin', { DEMO_DATA: 'false' });
	let passed = false;
	try {
		const [one, two] = [await shared.start(), await shared.start()];
		await signUp(one.url, 'ana');
		for (let i = 0; i < 5; i++) expect((await signIn(i % 2 ? two : one, `wrong-${i}-password`)).status).toBe(401);
		for (const app of [one, two]) {
			const response = await signIn(app, 'password-123');
			expect(response.status).toBe(429);
			expect(Number(response.headers.get('retry-after'))).toBeGreaterThan(800);
		}
		passed = true;
	} finally {
		await shared.drop(!passed);
	}
});

test('a job runs on one instance: a cancel sent to the other stops it within a second; SIGKILL its instance and the other runs it again', async () => {
	test.setTimeout(120_000);
	// Ten pages of 2,000 records, 600 ms apart: about 6 s a run.
	const shared = await cluster('jobs', { JOB_PAGE_DELAY_MS: '600' });
	const partials = (id: number) => (existsSync(join(shared.dataDir, 'jobs')) ? readdirSync(join(shared.dataDir, 'jobs')) : []).filter((f) => f.startsWith(`${id}-`));
	const params = { from: Date.now() - 7 * 86_400_000, format: 'csv' };
	let passed = false;
	try {
		const one = await shared.start();
		await until(() => one.output().includes('analytics: demo history ready'), 30_000, 'the demo history');
		const cookie = await signUp(one.url, 'ana');
		const submit = async () => (await call(one.url, cookie, 'POST', '/api/jobs', { kind: 'export', params })).body as Job;
		const job = (app: AppServer, id: number) => call(app.url, cookie, 'GET', `/api/jobs/${id}`).then((r) => r.body as Job);

		// Running on the first instance before the second exists, so it can only be the first's.
		const first = await submit();
		await until(() => partials(first.id).length === 1, 10_000, 'the first export to be writing');
		const two = await shared.start();
		expect((await job(two, first.id)).state).toBe('running');
		const started = Date.now();
		const cancelled = await call(two.url, cookie, 'DELETE', `/api/jobs/${first.id}`);
		expect(Date.now() - started).toBeLessThan(3000);
		expect(cancelled).toMatchObject({ status: 200, body: { state: 'cancelled' } });
		expect(partials(first.id)).toEqual([]);

		// Submitted to the first instance, so claimed there; then that instance dies mid-run.
		const second = await submit();
		await until(() => partials(second.id).length === 1, 10_000, 'the second export to be writing');
		await one.stop('SIGKILL');
		let seen: Job | undefined;
		await eventually(async () => (seen = await job(two, second.id)).state === 'succeeded', 60_000, 'the second export to run again on the other instance');
		expect(seen).toMatchObject({ state: 'succeeded', attempts: 2, error: null });
		expect(partials(second.id)).toEqual([]);
		const log = await fetch(`${two.url}/api/jobs/${second.id}/log`, { headers: { cookie } }).then((r) => r.text());
		expect(log).toContain('The server running this job stopped; it waits in the queue to run again from the start.');
		passed = true;
	} finally {
		await shared.drop(!passed);
	}
});

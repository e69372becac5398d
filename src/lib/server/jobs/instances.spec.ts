// Two worker pools on one PostgreSQL store, as two instances have: the second pool gets a runtime
// of its own (worker id, lifetime, background work) over the same store, bus and DATA_DIR. With
// TEST_REDIS_URL the bus is Redis Streams, as in a cluster.
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JobEvents } from '$lib/shared/jobs';
import { loadConfig } from '../config';
import { closeRuntime, initRuntime, runtime, type Runtime } from '../runtime';
import { testDatabase, type TestDatabase } from '../testing/database';
import { testRedis } from '../testing/redis';
import { scratchDir } from './context';
import { topic } from './events';
import * as jobs from './index';
import { LEASE_MS, startJobs, type JobPool } from './pool';
import * as table from './table';
import * as workers from './workers';

const DAY = 86_400_000;
const shared = Boolean(process.env.TEST_DATABASE_URL?.trim());
const suite = shared ? describe : describe.skip;
const title = shared ? 'two instances on one queue' : 'two instances on one queue (skipped: set TEST_DATABASE_URL; SQLite belongs to one process)';

const dir = mkdtempSync(join(tmpdir(), 'runnel-jobs-instances-'));
let database: TestDatabase;
const redis = shared ? testRedis('jobs_instances') : null;
let ana = { id: 0 };
let other: { rt: Runtime; pool: JobPool; stop: () => Promise<void> } | undefined;

/** A second instance's pool: its own runtime over the same store, bus and DATA_DIR. */
async function secondInstance() {
	const controller = new AbortController();
	const rt: Runtime = { ...runtime(), closing: controller.signal, background: new Set(), jobs: undefined };
	const pool = await startJobs(rt);
	rt.jobs = pool;
	return {
		rt,
		pool,
		stop: async () => {
			controller.abort();
			await Promise.all(rt.background);
		}
	};
}

beforeAll(async () => {
	if (!shared) return;
	database = await testDatabase('jobs_instances');
	const rt = await initRuntime(
		loadConfig({ DATA_DIR: dir, ...database.env, ...(redis && { REDIS_URL: redis.url, REDIS_PREFIX: redis.prefix }), LOG_LEVEL: 'silent', ANALYTICS_SEED_EVENTS: '12000', ANALYTICS_SEED_DAYS: '3', JOB_PAGE_DELAY_MS: '200' })
	);
	await Promise.all(rt.background);
	ana = await rt.store.db
		.insertInto('users')
		.values({ name: 'ana', name_key: 'ana', password_hash: 'x', role: 'user', created_at: Date.now() })
		.returning('id')
		.executeTakeFirstOrThrow();
	other = await secondInstance();
});
afterAll(async () => {
	await other?.stop();
	await closeRuntime();
	await database?.drop();
	await redis?.drop();
	rmSync(dir, { recursive: true, force: true });
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function until(check: () => boolean | Promise<boolean>, ms = 10_000): Promise<void> {
	const deadline = Date.now() + ms;
	while (!(await check())) {
		if (Date.now() > deadline) throw new Error(`still false after ${ms} ms: ${check}`);
		await sleep(20);
	}
}

/** A job queued without waking this instance's pool, then claimed by the other one's. */
async function runningOnOther(): Promise<number> {
	const { db } = runtime().store;
	const params = { from: Date.now() - 3 * DAY, to: Date.now(), metric: null, region: null, channel: null, format: 'csv' as const };
	const row = await table.insert(db, { ownerId: ana.id, kind: 'export', params, now: Date.now() });
	const id = Number(row.id);
	other!.pool.wake();
	await until(() => other!.pool.running().includes(id) && partials(id).length === 1);
	expect(runtime().jobs!.running()).not.toContain(id);
	return id;
}

const partials = (id: number) => (existsSync(scratchDir()) ? readdirSync(scratchDir()) : []).filter((name) => name.startsWith(`${id}-`));

async function lastEvent(id: number) {
	const { bus } = runtime();
	const head = await bus.head(topic(id));
	let last;
	if (head === '0') return last; // nothing published yet: a subscription would wait for the first
	for await (const event of bus.subscribe(topic(id), { after: '0' })) if ((last = event).id === head) break;
	return last;
}

suite(title, () => {
	it('counts both pools in the queue: capacity is the sum of their JOB_CONCURRENCY', async () => {
		const { db } = runtime().store;
		expect(await workers.capacity(db, Date.now() - LEASE_MS)).toBe(2);
	});

	it('stops a job running on the other instance when the cancel reaches this one, within a second, its partial file gone', async () => {
		const id = await runningOnOther();
		const started = Date.now();
		const cancelled = await jobs.cancel(ana, String(id));
		expect(Date.now() - started).toBeLessThan(3000);
		expect(cancelled).toMatchObject({ state: 'cancelled', output: null });
		expect(partials(id)).toEqual([]);
		expect(other!.pool.running()).toEqual([]);
		expect(await lastEvent(id)).toMatchObject({ type: 'completed', data: { state: 'cancelled', success: false } });
	});

	it('stops it on its heartbeat when the cancel request on the bus is missed', async () => {
		const id = await runningOnOther();
		// Only the row is marked: no message on the bus.
		expect(await table.requestCancel(runtime().store.db, id, Date.now())).toBe(true);
		await until(async () => (await table.stateOf(runtime().store.db, id)) === 'cancelled', 3000);
		await until(() => partials(id).length === 0, 1000);
	});

	it("cancels a dead instance's job once its lease runs out, instead of running it again", async () => {
		const { db } = runtime().store;
		const stale = Date.now() - 60_000;
		const params = JSON.stringify({ from: Date.now() - DAY, to: Date.now(), metric: ['signins'], region: null, channel: null, format: 'csv' });
		const row = await db
			.insertInto('jobs')
			.values({ owner_id: ana.id, kind: 'export', params, state: 'running', created_at: stale, started_at: stale, heartbeat_at: stale, attempts: 1, worker: 'dead' })
			.returning('id')
			.executeTakeFirstOrThrow();
		const id = Number(row.id);
		expect(await table.requestCancel(db, id, Date.now())).toBe(true);
		await until(async () => (await table.stateOf(db, id)) !== 'running', 5000);
		expect(await jobs.get(ana, String(id))).toMatchObject({ state: 'cancelled', attempts: 1 });
		// `completed` goes out just after the row changes.
		await until(async () => (await lastEvent(id))?.type === 'completed', 3000);
		expect(await lastEvent(id)).toMatchObject({ type: 'completed', data: { state: 'cancelled' } });
	});

	it('publishes a change of estimation once, whichever instances see it', async () => {
		const { db } = runtime().store;
		// Queued without waking a pool: nothing claims it while the swaps run.
		const params = { from: Date.now() - DAY, to: Date.now(), metric: null, region: null, channel: null, format: 'csv' as const };
		const id = Number((await table.insert(db, { ownerId: ana.id, kind: 'export', params, now: Date.now() })).id);
		const next: JobEvents['estimation'] = { rank: 1, queueSize: 1, etaMs: 0 };
		const swaps = await Promise.all([1, 2, 3].map(() => table.swapEstimation(db, id, null, JSON.stringify(next))));
		expect(swaps.filter(Boolean)).toHaveLength(1);
		expect(await table.swapEstimation(db, id, JSON.stringify(next), JSON.stringify({ ...next, rank: 2 }))).toBe(true);
		await jobs.cancel(ana, String(id));
	});

	it('forgets a pool that stops: the queue counts only the live ones', async () => {
		const { db } = runtime().store;
		await other!.stop();
		other = undefined;
		expect(await workers.capacity(db, Date.now() - LEASE_MS)).toBe(1);
	});
});

// The jobs service in a real runtime (SQLite in a temp dir, the real pool, bus, files and analytics).
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Job, JobEvents } from '$lib/shared/jobs';
import { countWindow } from '../analytics/events';
import type { BusEvent } from '../bus';
import { loadConfig } from '../config';
import { HttpError } from '../errors';
import { storedPath } from '../files/access';
import { testDatabase, type TestDatabase } from '../testing/database';
import { closeRuntime, initRuntime, runtime } from '../runtime';
import { scratchDir } from './context';
import { topic } from './events';
import * as jobs from './index';
import * as log from './log';
import { MAX_ATTEMPTS } from './pool';

const DAY = 86_400_000;
const dir = mkdtempSync(join(tmpdir(), 'runnel-jobs-'));
let database: TestDatabase;
let ana = { id: 0 };
let bob = { id: 0 };

beforeAll(async () => {
	database = await testDatabase('jobs');
	const rt = await initRuntime(
		loadConfig({ DATA_DIR: dir, ...database.env, LOG_LEVEL: 'silent', ANALYTICS_SEED_EVENTS: '12000', ANALYTICS_SEED_DAYS: '3', JOB_PAGE_DELAY_MS: '40' })
	);
	await Promise.all(rt.background);
	const user = (name: string) =>
		rt.store.db
			.insertInto('users')
			.values({ name, name_key: name, password_hash: 'x', role: 'user', created_at: Date.now() })
			.returning('id')
			.executeTakeFirstOrThrow();
	ana = await user('ana');
	bob = await user('bob');
});
afterAll(async () => {
	await closeRuntime();
	await database.drop();
	rmSync(dir, { recursive: true, force: true });
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Resolves when `check()` holds, polling; fails after `ms`. */
async function until(check: () => boolean | Promise<boolean>, ms = 10_000): Promise<void> {
	const deadline = Date.now() + ms;
	while (!(await check())) {
		if (Date.now() > deadline) throw new Error(`still false after ${ms} ms: ${check}`);
		await sleep(20);
	}
}

/** Every event of a job's topic so far (replayed from the start). */
async function eventsOf(jobId: number): Promise<BusEvent[]> {
	const { bus } = runtime();
	// The last id so far: a sequence number on the embedded bus, a stream id on Redis ("0" when none).
	const head = await bus.head(topic(jobId));
	const seen: BusEvent[] = [];
	if (head === '0') return seen;
	for await (const event of bus.subscribe(topic(jobId), { after: '0' })) {
		seen.push(event);
		if (event.id === head) break;
	}
	return seen;
}

const state = async (job: Job) => (await jobs.get(ana, String(job.id))).state;
const finished = (job: Job) => until(async () => ['succeeded', 'failed', 'cancelled'].includes(await state(job)), 20_000);
const runningCount = async () =>
	Number((await runtime().store.db.selectFrom('jobs').select((eb) => eb.fn.countAll().as('n')).where('state', '=', 'running').executeTakeFirstOrThrow()).n);

describe('an export', () => {
	it('writes exactly the matching records, hashed, into Files, with its log and a notification', async () => {
		const now = Date.now();
		const job = await jobs.submit(ana, { kind: 'export', params: { from: now - 2 * DAY, metric: ['signins', 'page_views'], region: 'eu-west' } });
		expect(job.state).toBe('queued');
		await finished(job);
		const done = await jobs.get(ana, String(job.id));
		expect(done).toMatchObject({ state: 'succeeded', attempts: 1, error: null, progress: { fraction: 1 } });

		const { db } = runtime().store;
		const expected = await countWindow(db, { from: done.params.from, to: done.params.to, metrics: ['signins', 'page_views'], region: ['eu-west'], channel: null });
		expect(expected).toBeGreaterThan(10);
		expect(done.output).toMatchObject({ records: expected, type: 'text/csv' });
		const file = await db.selectFrom('files').selectAll().where('id', '=', done.output!.fileId).executeTakeFirstOrThrow();
		expect(file.owner_id).toBe(ana.id);
		const bytes = readFileSync(storedPath(file.stored)!);
		expect(createHash('sha256').update(bytes).digest('hex')).toBe(file.sha256);
		const [header, ...rows] = bytes.toString('utf8').trimEnd().split('\n');
		expect(header).toBe('id,time,metric,region,channel,value');
		expect(rows).toHaveLength(expected);
		for (const row of rows) {
			const [, time, metric, region] = row.split(',');
			expect(['signins', 'page_views']).toContain(metric);
			expect(region).toBe('eu-west');
			expect(Date.parse(time)).toBeGreaterThanOrEqual(done.params.from);
			expect(Date.parse(time)).toBeLessThan(done.params.to);
		}

		const events = await eventsOf(job.id);
		const types = events.map((e) => e.type);
		expect(types.at(-1)).toBe('completed');
		expect(events.at(-1)!.data).toEqual({ state: 'succeeded', success: true, output: done.output, error: null });
		const steps = (events.filter((e) => e.type === 'progress').at(-1)!.data as JobEvents['progress']).steps;
		expect(steps.map((s) => [s.name, s.index, s.length, s.unit, s.fraction])).toEqual([
			['count', 1, 1, 'query', 1],
			['write', expected, expected, 'records', 1],
			['publish', 1, 1, 'file', 1]
		]);
		const note = await db.selectFrom('notifications').selectAll().where('user_id', '=', ana.id).orderBy('id', 'desc').executeTakeFirstOrThrow();
		expect(note).toMatchObject({ type: 'job', title: 'Export ready', link: `/jobs#job-${job.id}` });
		const tracked = await db.selectFrom('analytics_events').selectAll().where('metric', '=', 'jobs').execute();
		expect(tracked.length).toBeGreaterThanOrEqual(1);

		let text = '';
		for await (const item of log.follow(job.id, new AbortController().signal)) text += typeof item === 'string' ? item : item.records.join('');
		const lines = text.trimEnd().split('\n');
		expect(lines[0]).toMatch(/^\d{4}-\d\d-\d\dT[\d:.]+Z INFO {2}Queued: export\.$/);
		expect(lines.at(-1)).toMatch(/INFO {2}Done in [\d.]+ s: analytics-.*\.csv is in Files\.$/);
		expect(lines).toHaveLength(events.filter((e) => e.type === 'log').length);
	});

	it('runs one at a time with JOB_CONCURRENCY=1, in order, and only the owner sees or cancels a job', async () => {
		const from = Date.now() - 3 * DAY;
		const submitted: Job[] = [];
		for (let i = 0; i < 3; i++) submitted.push(await jobs.submit(ana, { kind: 'export', params: { from, format: 'ndjson' } }));
		let most = 0;
		const sampling = setInterval(() => void runningCount().then((n) => (most = Math.max(most, n))), 10);
		for (const job of submitted) await finished(job);
		clearInterval(sampling);
		expect(most).toBe(1);
		const done = await Promise.all(submitted.map((job) => jobs.get(ana, String(job.id))));
		expect(done.map((job) => job.state)).toEqual(['succeeded', 'succeeded', 'succeeded']);
		expect(done[0].finished! <= done[1].started! && done[1].finished! <= done[2].started!).toBe(true);
		// Each job's ranks as they changed: the second and third were 1 and 2, then moved up to 0 (started).
		const ranks = async (job: Job) =>
			(await eventsOf(job.id))
				.filter((e) => e.type === 'estimation')
				.map((e) => (e.data as JobEvents['estimation']).rank)
				.filter((rank, i, all) => i === 0 || all[i - 1] !== rank);
		expect(await ranks(submitted[1])).toEqual([1, 0]);
		expect(await ranks(submitted[2])).toEqual([2, 1, 0]);

		for (const attempt of [() => jobs.get(bob, String(submitted[0].id)), () => jobs.cancel(bob, String(submitted[0].id)), () => jobs.get(ana, '0x1')]) {
			await expect(attempt()).rejects.toMatchObject({ status: 404, message: 'No such job.' });
		}
		expect((await jobs.list(bob)).items).toEqual([]);
		await expect(jobs.cancel(ana, String(submitted[0].id))).rejects.toMatchObject({ status: 409 });
	});

	it('refuses bad input with a 400 and queues nothing', async () => {
		const before = (await jobs.list(ana, { limit: 100 })).items.length;
		for (const input of [{}, { kind: 'backup' }, { kind: 'export', params: { format: 'xml' } }, { kind: 'export', params: 'all' }]) {
			await expect(jobs.submit(ana, input)).rejects.toBeInstanceOf(HttpError);
		}
		expect((await jobs.list(ana, { limit: 100 })).items.length).toBe(before);
	});
});

describe('cancelling', () => {
	it('takes a queued job out of the queue, and stops a running one within a second, its partial file gone', async () => {
		const from = Date.now() - 3 * DAY;
		const first = await jobs.submit(ana, { kind: 'export', params: { from } });
		const second = await jobs.submit(ana, { kind: 'export', params: { from } });
		await until(async () => (await state(first)) === 'running');
		expect(await state(second)).toBe('queued');

		const queued = await jobs.cancel(ana, String(second.id));
		expect(queued).toMatchObject({ state: 'cancelled', output: null });
		expect((await eventsOf(second.id)).at(-1)).toMatchObject({ type: 'completed', data: { state: 'cancelled', success: false } });

		// Mid-run: its partial file is being written (waiting for a progress event instead can miss a short run).
		const partials = () => (existsSync(scratchDir()) ? readdirSync(scratchDir()) : []).filter((name) => name.startsWith(`${first.id}-`));
		await until(() => partials().length === 1, 10_000);
		const started = Date.now();
		const cancelled = await jobs.cancel(ana, String(first.id));
		expect(Date.now() - started).toBeLessThan(1000);
		expect(cancelled).toMatchObject({ state: 'cancelled', output: null });
		expect(partials()).toEqual([]);
		expect((await eventsOf(first.id)).at(-1)).toMatchObject({ type: 'completed', data: { state: 'cancelled' } });
		expect(await jobs.cancel(ana, String(first.id))).toMatchObject({ state: 'cancelled' });
		expect(runtime().jobs!.running()).toEqual([]);
	});

	it('refuses a 21st unfinished job with 429', async () => {
		const from = Date.now() - 3 * DAY;
		const open: Job[] = [];
		for (let i = 0; i < jobs.MAX_OPEN_PER_USER; i++) open.push(await jobs.submit(bob, { kind: 'export', params: { from } }));
		await expect(jobs.submit(bob, { kind: 'export', params: { from } })).rejects.toMatchObject({ status: 429 });
		// The first one started at once: on a busy machine it (or the next) may finish before its cancel, a 409.
		const finished = new Set<number>();
		for (const job of open.reverse()) {
			await jobs.cancel(bob, String(job.id)).catch((error) => {
				expect(error).toMatchObject({ status: 409, message: 'This job has already succeeded; there is nothing to cancel.' });
				finished.add(job.id);
			});
		}
		expect(finished.size).toBeLessThan(open.length);
		// One of them may have been running: it stops (and says so) within a second.
		await until(async () => (await jobs.list(bob, { limit: 100 })).items.every((job) => job.state === (finished.has(job.id) ? 'succeeded' : 'cancelled')), 5_000);
	});
});

describe('a dead worker', () => {
	it("loses its job after the lease: it runs again from the start, or fails after the last attempt", async () => {
		const { db } = runtime().store;
		const stale = Date.now() - 60_000;
		const params = JSON.stringify({ from: Date.now() - DAY, to: Date.now(), metric: ['signins'], region: null, channel: null, format: 'csv' });
		const orphan = (attempts: number) =>
			db
				.insertInto('jobs')
				.values({ owner_id: ana.id, kind: 'export', params, state: 'running', created_at: stale, started_at: stale, heartbeat_at: stale, attempts, worker: 'dead' })
				.returning('id')
				.executeTakeFirstOrThrow();
		const again = await orphan(1);
		const last = await orphan(MAX_ATTEMPTS);
		const view = (id: number) => jobs.get(ana, String(id));
		await until(async () => (await view(again.id)).state === 'succeeded' && (await view(last.id)).state === 'failed', 15_000);
		expect(await view(again.id)).toMatchObject({ attempts: 2, error: null });
		expect((await view(again.id)).output?.records).toBeGreaterThan(0);
		expect((await view(last.id)).error).toBe(`The server running it stopped ${MAX_ATTEMPTS} times while it ran; it is not tried again.`);
		const texts = (await eventsOf(again.id)).filter((e) => e.type === 'log').map((e) => (e.data as { text: string }).text);
		expect(texts[0]).toMatch(/stopped; it waits in the queue to run again/);
		expect(texts).toContain(`Started again from the beginning (run 2 of at most ${MAX_ATTEMPTS}).`);
		expect((await eventsOf(last.id)).at(-1)).toMatchObject({ type: 'completed', data: { state: 'failed', success: false } });
		expect(existsSync(scratchDir()) && readdirSync(scratchDir())).toEqual([]);
	});
});

// The jobs service: submit, list, look at, cancel and follow one's own jobs; the pool (pool.ts) runs them.
import type { Job, JobEvents, JobPage } from '$lib/shared/jobs';
import type { SseContext, SseMessage, TextItem } from '$lib/stream/server';
import { HttpError } from '../errors';
import { runtime } from '../runtime';
import * as events from './events';
import { KINDS, kindOf } from './kinds';
import * as log from './log';
import * as table from './table';

export { startJobs, JobPool } from './pool';

/** Who is asking (routes pass `locals.user`). */
export type Owner = { id: number };

/** Unfinished jobs one user may have at once. */
export const MAX_OPEN_PER_USER = 20;
const PAGE_SIZE = 20;
/** How long a cancel waits for a running job to stop. */
const CANCEL_WAIT_MS = 5000;

/** The one answer for a job that is missing or someone else's: existence never leaks. */
const notFound = () => new HttpError(404, 'No such job.');

/** A job id from a URL; 404 when it is not one. */
function idOf(raw: string): number {
	if (!/^[1-9]\d{0,14}$/.test(raw)) throw notFound();
	return Number(raw);
}

function pool() {
	const jobs = runtime().jobs;
	if (!jobs) throw new HttpError(503, 'Jobs are not running on this server yet; try again in a moment.', 1);
	return jobs;
}

/**
 * Queues a job after checking its kind and parameters (400 with the reason, nothing queued) and
 * the owner's unfinished jobs (429 past MAX_OPEN_PER_USER); returns it, queued.
 * @example const job = await jobs.submit(locals.user, { kind: 'export', params: { format: 'csv' } });
 */
export async function submit(owner: Owner, input: { kind?: unknown; params?: unknown }): Promise<Job> {
	const rt = runtime();
	const kind = kindOf(input.kind);
	const params = KINDS[kind].params(input.params, Date.now());
	const workers = pool();
	if ((await table.openCount(rt.store.db, owner.id)) >= MAX_OPEN_PER_USER) {
		throw new HttpError(429, `You have ${MAX_OPEN_PER_USER} jobs waiting or running; cancel one or wait for one to finish.`, 5);
	}
	const row = await table.insert(rt.store.db, { ownerId: owner.id, kind, params, now: Date.now() });
	await log.append(row.id, `Queued: ${KINDS[kind].label.toLowerCase()}.`);
	workers.wake();
	return table.view(row);
}

/** A page of the owner's jobs, newest first. */
export async function list(owner: Owner, options: { before?: number; limit?: number } = {}): Promise<JobPage> {
	const limit = Math.min(Math.max(options.limit ?? PAGE_SIZE, 1), 100);
	const rows = await table.page(runtime().store.db, owner.id, options.before, limit + 1);
	const items = rows.slice(0, limit).map(table.view);
	return { items, nextBefore: rows.length > limit ? items[items.length - 1].id : null };
}

/** One of the owner's jobs; 404 for anyone else's. */
export async function get(owner: Owner, rawId: string): Promise<Job> {
	const row = await table.byOwner(runtime().store.db, owner.id, idOf(rawId));
	if (!row) throw notFound();
	return table.view(row);
}

/**
 * Cancels one of the owner's jobs: a queued one leaves the queue at once; a running one is stopped
 * (its partial file removed), on whichever instance runs it, and this resolves once it has. Cancelling a cancelled job changes
 * nothing; one that already succeeded or failed is 409.
 */
export async function cancel(owner: Owner, rawId: string): Promise<Job> {
	const { db } = runtime().store;
	const job = await get(owner, rawId);
	if (job.state === 'queued' && (await table.cancelQueued(db, job.id, Date.now()))) {
		await log.append(job.id, 'Cancelled before it started.', 'warn');
		const cancelled = await get(owner, rawId);
		await events.publish(job.id, 'completed', events.completedOf(cancelled));
		pool().wake();
		return cancelled;
	}
	await Promise.race([pool().cancel(job.id, CANCEL_WAIT_MS), new Promise((resolve) => setTimeout(resolve, CANCEL_WAIT_MS).unref())]);
	const now = await get(owner, rawId);
	if (now.state === 'succeeded' || now.state === 'failed') throw new HttpError(409, `This job has already ${now.state}; there is nothing to cancel.`);
	if (now.state !== 'cancelled') throw new HttpError(409, 'This job is still stopping; try again in a moment.');
	return now;
}

/** The owner's job's status stream (see events.stream); 404 for anyone else's. */
export async function stream(owner: Owner, rawId: string, ctx: SseContext): Promise<AsyncIterable<SseMessage<JobEvents>> | null> {
	return events.stream(await get(owner, rawId), ctx);
}

/** The owner's job's log as text, following it until it ends; 404 for anyone else's. */
export async function logText(owner: Owner, rawId: string, signal: AbortSignal): Promise<AsyncIterable<TextItem>> {
	const job = await get(owner, rawId);
	return log.follow(job.id, signal);
}


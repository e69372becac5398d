// The worker pool: claims queued jobs (at most JOB_CONCURRENCY at once), runs them, keeps their leases, recovers dead ones.
import { randomBytes } from 'node:crypto';
import { readdir, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { Job } from '$lib/shared/jobs';
import * as analytics from '../analytics';
import * as notifications from '../notifications';
import { inBackground, type Runtime } from '../runtime';
import { JobContext, scratchDir } from './context';
import { estimate, mean, type Estimation } from './estimate';
import * as events from './events';
import { failureMessage, successNotice } from './outcome';
import { KINDS } from './kinds';
import * as log from './log';
import * as table from './table';

/** How often a worker renews the leases of its running jobs (and sweeps for dead ones). */
export const HEARTBEAT_MS = 1000;
/** A running job whose lease is older than this lost its worker: it is run again (or failed). */
export const LEASE_MS = 5000;
/** Runs a job may start; a job whose server died this many times under it fails instead. */
export const MAX_ATTEMPTS = 3;
/** Recent successful runs of a kind its average duration is taken over. */
const AVERAGE_OF = 5;

/** One job running here. */
interface Run {
	job: Job;
	ownerId: number;
	controller: AbortController;
	done: Promise<void>;
}

/**
 * This instance's worker pool; one per runtime (on `rt.jobs`, so SvelteKit's bundle and server.ts
 * share it). Claims are single atomic UPDATEs, so several pools on one store never run a job twice.
 */
export class JobPool {
	/** This instance's name in `jobs.worker`. */
	readonly worker = randomBytes(9).toString('hex');
	#rt: Runtime;
	#runs = new Map<number, Run>();
	#filling: Promise<void> | null = null;
	#fillAgain = false;
	#estimating = false;
	#estimateAgain = false;
	#sent = new Map<number, Estimation>();
	#timer: ReturnType<typeof setInterval> | undefined;
	#stopped = false;

	constructor(rt: Runtime) {
		this.#rt = rt;
	}

	/**
	 * Recovers dead workers' jobs, removes partial files of runs that are over, and starts claiming.
	 * The SQLite store belongs to one process, so a job it finds running was its previous life's: it
	 * goes back to the queue at once; with a shared store, only once its lease has run out.
	 */
	async start(): Promise<void> {
		await this.#sweep(this.#rt.store.dialect === 'sqlite' ? Infinity : LEASE_MS);
		await this.#removeOrphans();
		this.#timer = setInterval(() => inBackground(this.#rt, 'job heartbeat', this.#tick()), HEARTBEAT_MS);
		this.#timer.unref();
		this.#rt.closing.addEventListener('abort', () => this.#shutdown(), { once: true });
		this.wake();
	}

	/** Claims what the free slots can take and re-publishes estimations: call after the queue changed. */
	wake(): void {
		inBackground(this.#rt, 'job claims', this.#fill());
	}

	/** Ids of the jobs running here. */
	running(): number[] {
		return [...this.#runs.keys()];
	}

	/** Stops a job running here (its partial file is removed); resolves once it has stopped, null when it does not run here. */
	cancel(id: number): Promise<void> | null {
		const run = this.#runs.get(id);
		if (!run) return null;
		run.controller.abort('cancelled');
		return run.done;
	}

	/** Every queued job's estimation now. */
	async estimations(): Promise<Map<number, Estimation>> {
		const { db } = this.#rt.store;
		const { queued, running } = await table.queueState(db);
		const averages = new Map<string, number>();
		for (const kind of new Set([...queued, ...running].map((job) => job.kind))) {
			const average = mean(await table.recentDurations(db, kind, AVERAGE_OF));
			if (average !== null) averages.set(kind, average);
		}
		const now = Date.now();
		const progress = running.map((row) => ({
			kind: row.kind,
			elapsedMs: now - Number(row.started_at ?? now),
			fraction: row.progress === null ? null : (table.view(row).progress?.fraction ?? null)
		}));
		return estimate({ queued, running: progress, averages, concurrency: this.#rt.config.jobConcurrency });
	}

	async #fill(): Promise<void> {
		if (this.#filling) {
			this.#fillAgain = true;
			return this.#filling;
		}
		const { db, dialect } = this.#rt.store;
		this.#filling = (async () => {
			do {
				this.#fillAgain = false;
				while (!this.#stopped && this.#runs.size < this.#rt.config.jobConcurrency) {
					const row = await table.claim(db, dialect, this.worker, Date.now());
					if (!row) break;
					this.#launch(row);
				}
			} while (this.#fillAgain && !this.#stopped);
		})().finally(() => (this.#filling = null));
		await this.#filling;
		this.#publishEstimations();
	}

	#launch(row: table.Row): void {
		const job = table.view(row);
		const run: Run = { job, ownerId: row.owner_id, controller: new AbortController(), done: Promise.resolve() };
		this.#runs.set(job.id, run);
		this.#sent.delete(job.id);
		run.done = this.#execute(run)
			.catch((error: unknown) => this.#rt.log.error({ err: error, job: job.id }, 'job run failed to finish'))
			.finally(() => {
				this.#runs.delete(job.id);
				if (!this.#stopped) this.wake();
			});
		inBackground(this.#rt, `job ${job.id}`, run.done);
	}

	async #execute(run: Run): Promise<void> {
		const { job, controller } = run;
		const { db } = this.#rt.store;
		const ctx = new JobContext(job, run.ownerId, controller.signal, this.worker);
		const queued = (await table.queueState(db)).queued.length;
		await events.publish(job.id, 'estimation', { rank: 0, queueSize: queued, etaMs: 0 });
		await ctx.log(job.attempts > 1 ? `Started again from the beginning (run ${job.attempts} of at most ${MAX_ATTEMPTS}).` : 'Started.');
		let outcome: table.Outcome;
		try {
			outcome = { state: 'succeeded', output: await KINDS[job.kind].run(ctx) };
		} catch (error) {
			const reason = controller.signal.aborted ? controller.signal.reason : null;
			if (reason === 'lost') return void this.#rt.log.warn({ job: job.id }, 'job taken over by another worker; this run stopped');
			if (reason === 'shutdown') {
				await ctx.log('Interrupted: the server is shutting down. It runs again from the start when the server is back.', 'warn');
				await table.requeue(db, job.id, this.worker);
				return;
			}
			outcome = reason === 'cancelled' ? { state: 'cancelled' } : { state: 'failed', error: failureMessage(error, this.#rt.log) };
		}
		const seconds = ((Date.now() - (job.started ?? Date.now())) / 1000).toFixed(1);
		if (outcome.state === 'succeeded') await ctx.log(`Done in ${seconds} s: ${outcome.output.name} is in Files.`);
		else if (outcome.state === 'failed') await ctx.log(`Failed after ${seconds} s: ${outcome.error}`, 'error');
		else await ctx.log('Cancelled while running; the partial file was removed.', 'warn');
		if (!(await table.finish(db, job.id, this.worker, outcome, Date.now()))) return;
		const finished = table.view((await table.byId(db, job.id))!);
		await events.publish(job.id, 'completed', events.completedOf(finished));
		if (outcome.state === 'cancelled') return;
		void analytics.track({ metric: 'jobs', value: (finished.finished ?? 0) - (finished.started ?? 0), userId: run.ownerId });
		if (outcome.state === 'succeeded') await notifications.send(run.ownerId, { type: 'job', ...successNotice(finished, outcome.output) });
	}

	/** Renews the leases of the jobs running here (a job whose lease is gone stops), then sweeps for dead workers' jobs. */
	async #tick(): Promise<void> {
		if (this.#stopped) return;
		const ids = this.running();
		const held = new Set(await table.heartbeat(this.#rt.store.db, this.worker, ids, Date.now()));
		for (const id of ids) if (!held.has(id)) this.#runs.get(id)?.controller.abort('lost');
		await this.#sweep();
		this.#publishEstimations();
	}

	/** Jobs whose worker died (no lease renewed for `leaseMs`): back in the queue to run again from the start, or failed after MAX_ATTEMPTS runs. */
	async #sweep(leaseMs = LEASE_MS): Promise<void> {
		const now = Date.now();
		const reason = `The server running it stopped ${MAX_ATTEMPTS} times while it ran; it is not tried again.`;
		const cutoff = leaseMs === Infinity ? Number.MAX_SAFE_INTEGER : now - leaseMs;
		const { failed, requeued } = await table.recoverStale(this.#rt.store.db, cutoff, MAX_ATTEMPTS, reason, now);
		for (const row of requeued) {
			await log.append(row.id, 'The server running this job stopped; it waits in the queue to run again from the start.', 'warn');
		}
		for (const row of failed) {
			await log.append(row.id, `Failed: ${reason}`, 'error');
			await events.publish(row.id, 'completed', events.completedOf(table.view(row)));
		}
		// The dead runs' partial files: at start they still counted as running (a shared store's
		// lease had not run out yet), so nothing else removes them.
		if (requeued.length || failed.length) await this.#removeOrphans();
		if (requeued.length) this.wake();
	}

	/** Publishes each queued job's estimation when it changed (rank, queue size, or the ETA by 10% and at least half a second). */
	#publishEstimations(): void {
		if (this.#estimating) {
			this.#estimateAgain = true;
			return;
		}
		this.#estimating = true;
		const publishing = (async () => {
			do {
				this.#estimateAgain = false;
				const estimations = await this.estimations();
				for (const [id, estimation] of estimations) {
					if (!changed(this.#sent.get(id), estimation)) continue;
					this.#sent.set(id, estimation);
					await events.publish(id, 'estimation', estimation);
				}
				for (const id of this.#sent.keys()) if (!estimations.has(id)) this.#sent.delete(id);
			} while (this.#estimateAgain && !this.#stopped);
		})().finally(() => (this.#estimating = false));
		inBackground(this.#rt, 'job estimations', publishing);
	}

	/** Partial files whose run is over (the server died under it) are removed at start. */
	async #removeOrphans(): Promise<void> {
		const names = await readdir(scratchDir()).catch(() => [] as string[]);
		const { running } = await table.queueState(this.#rt.store.db);
		const live = new Set(running.map((row) => `${row.id}-${row.worker}.`));
		for (const name of names) {
			if (!name.endsWith('.partial') || [...live].some((prefix) => name.startsWith(prefix))) continue;
			await unlink(join(scratchDir(), name)).catch(() => {});
		}
	}

	#shutdown(): void {
		this.#stopped = true;
		clearInterval(this.#timer);
		for (const run of this.#runs.values()) run.controller.abort('shutdown');
	}
}

function changed(last: Estimation | undefined, next: Estimation): boolean {
	if (!last || last.rank !== next.rank || last.queueSize !== next.queueSize) return true;
	if (last.etaMs === null || next.etaMs === null) return last.etaMs !== next.etaMs;
	return Math.abs(last.etaMs - next.etaMs) >= Math.max(500, last.etaMs * 0.1);
}

/**
 * Starts the pool of a runtime.
 * @example rt.jobs = await startJobs(rt);
 */
export async function startJobs(rt: Runtime): Promise<JobPool> {
	const pool = new JobPool(rt);
	await pool.start();
	return pool;
}

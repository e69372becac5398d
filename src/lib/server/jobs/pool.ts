// The worker pool: claims queued jobs (at most JOB_CONCURRENCY at once), runs them, keeps their leases, recovers dead ones.
import { randomBytes } from 'node:crypto';
import { readdir, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Job } from '$lib/shared/jobs';
import * as analytics from '../analytics';
import * as notifications from '../notifications';
import { inBackground, type Runtime } from '../runtime';
import { JobContext, scratchDir } from './context';
import type { Estimation } from './estimate';
import { EstimationPublisher, estimateQueue } from './estimations';
import * as events from './events';
import { failureMessage, successNotice } from './outcome';
import { KINDS } from './kinds';
import * as log from './log';
import * as table from './table';
import * as workers from './workers';

/** How often a worker renews the leases of its running jobs (and sweeps for dead ones). */
export const HEARTBEAT_MS = 1000;
/** A running job whose lease is older than this lost its worker: it is run again (or failed). */
export const LEASE_MS = 5000;
/** Runs a job may start; a job whose server died this many times under it fails instead. */
export const MAX_ATTEMPTS = 3;
/** The bus topic on which a cancel that reached another instance is announced to the one running the job. */
const CANCELS = 'jobs:cancel';
/** How often a cancel of a job running elsewhere looks whether it has stopped. */
const CANCEL_POLL_MS = 50;

/** One job running here. */
interface Run {
	job: Job;
	ownerId: number;
	controller: AbortController;
	done: Promise<void>;
}

/**
 * This instance's worker pool; one per runtime (on `rt.jobs`, so SvelteKit's bundle and server.ts
 * share it). Claims are single atomic UPDATEs, so several pools on one store never run a job twice;
 * each pool is listed in job_workers, so the queue's ETA counts every instance's slots.
 */
export class JobPool {
	/** This instance's name in `jobs.worker`. */
	readonly worker = randomBytes(9).toString('hex');
	#rt: Runtime;
	#runs = new Map<number, Run>();
	#filling: Promise<void> | null = null;
	#fillAgain = false;
	#estimations: EstimationPublisher;
	#timer: ReturnType<typeof setInterval> | undefined;
	#stopped = false;

	constructor(rt: Runtime) {
		this.#rt = rt;
		this.#estimations = new EstimationPublisher(rt, LEASE_MS, () => this.#stopped);
	}

	/**
	 * Recovers dead workers' jobs, removes partial files of runs that are over, and starts claiming.
	 * The SQLite store belongs to one process, so a job it finds running was its previous life's: it
	 * goes back to the queue at once; with a shared store, only once its lease has run out.
	 */
	async start(): Promise<void> {
		const { db, dialect } = this.#rt.store;
		const alone = dialect === 'sqlite';
		await workers.forgetWorkers(db, alone ? Number.MAX_SAFE_INTEGER : Date.now() - LEASE_MS);
		await workers.seeWorker(db, this.worker, this.#rt.config.jobConcurrency, Date.now());
		await this.#sweep(alone ? Infinity : LEASE_MS);
		await this.#removeOrphans();
		this.#timer = setInterval(() => inBackground(this.#rt, 'job heartbeat', this.#tick()), HEARTBEAT_MS);
		this.#timer.unref();
		this.#rt.closing.addEventListener('abort', () => this.#shutdown(), { once: true });
		// Not in rt.background (which tests await for the demo data): it ends when `closing` aborts.
		void this.#listenForCancels();
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

	/**
	 * Stops a running job (its partial file is removed): at once when it runs here; when it runs on
	 * another instance, by marking its row (that instance's heartbeat sees it) and telling it on the
	 * bus. Resolves once it no longer runs, or after `waitMs`.
	 */
	async cancel(id: number, waitMs: number): Promise<void> {
		const run = this.#runs.get(id);
		if (run) {
			run.controller.abort('cancelled');
			return run.done;
		}
		const { db } = this.#rt.store;
		if (!(await table.requestCancel(db, id, Date.now()))) return;
		await this.#rt.bus.publish(CANCELS, { type: 'cancel', data: { id } }).catch((error: unknown) => {
			this.#rt.log.warn({ err: error, job: id }, 'could not announce a job cancel on the bus; its worker sees it at its next heartbeat');
		});
		const deadline = Date.now() + waitMs;
		while (Date.now() < deadline && (await table.stateOf(db, id)) === 'running') await sleep(CANCEL_POLL_MS);
	}

	/** Every queued job's estimation now. */
	async estimations(): Promise<Map<number, Estimation>> {
		return (await estimateQueue(this.#rt, LEASE_MS)).estimations;
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
		this.#estimations.publish();
	}

	#launch(row: table.Row): void {
		const job = table.view(row);
		const run: Run = { job, ownerId: row.owner_id, controller: new AbortController(), done: Promise.resolve() };
		this.#runs.set(job.id, run);
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

	/**
	 * Says this pool is alive and renews the leases of the jobs running here (a job whose lease is
	 * gone stops; one whose cancel reached another instance too), then sweeps for dead workers' jobs.
	 */
	async #tick(): Promise<void> {
		if (this.#stopped) return;
		const { db } = this.#rt.store;
		const now = Date.now();
		await workers.seeWorker(db, this.worker, this.#rt.config.jobConcurrency, now);
		await workers.forgetWorkers(db, now - 10 * LEASE_MS);
		const ids = this.running();
		const held = new Map((await table.heartbeat(db, this.worker, ids, now)).map((row) => [row.id, row.cancelRequested]));
		for (const id of ids) {
			const cancelRequested = held.get(id);
			if (cancelRequested !== false) this.#runs.get(id)?.controller.abort(cancelRequested ? 'cancelled' : 'lost');
		}
		await this.#sweep();
		this.#estimations.publish();
	}

	/** Jobs whose worker died (no lease renewed for `leaseMs`): back in the queue to run again from the start, or failed after MAX_ATTEMPTS runs. */
	async #sweep(leaseMs = LEASE_MS): Promise<void> {
		const now = Date.now();
		const reason = `The server running it stopped ${MAX_ATTEMPTS} times while it ran; it is not tried again.`;
		const cutoff = leaseMs === Infinity ? Number.MAX_SAFE_INTEGER : now - leaseMs;
		const { cancelled, failed, requeued } = await table.recoverStale(this.#rt.store.db, cutoff, MAX_ATTEMPTS, reason, now);
		for (const row of cancelled) {
			await log.append(row.id, 'Cancelled: the server running it stopped before it could.', 'warn');
			await events.publish(row.id, 'completed', events.completedOf(table.view(row)));
		}
		for (const row of requeued) {
			await log.append(row.id, 'The server running this job stopped; it waits in the queue to run again from the start.', 'warn');
		}
		for (const row of failed) {
			await log.append(row.id, `Failed: ${reason}`, 'error');
			await events.publish(row.id, 'completed', events.completedOf(table.view(row)));
		}
		// The dead runs' partial files: at start they still counted as running (a shared store's
		// lease had not run out yet), so nothing else removes them.
		if (requeued.length || failed.length || cancelled.length) await this.#removeOrphans();
		if (requeued.length) this.wake();
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

	/** Stops jobs running here when another instance got their cancel (the heartbeat is the fallback). */
	async #listenForCancels(): Promise<void> {
		const { bus, closing, log } = this.#rt;
		while (!this.#stopped) {
			try {
				for await (const event of bus.subscribe(CANCELS, { signal: closing })) {
					this.#runs.get(Number((event.data as { id: number }).id))?.controller.abort('cancelled');
				}
			} catch (error) {
				if (!this.#stopped) log.warn({ err: error }, 'job cancel requests: listening again in a second');
			}
			await sleep(1000, undefined, { signal: closing }).catch(() => undefined);
		}
	}

	#shutdown(): void {
		this.#stopped = true;
		clearInterval(this.#timer);
		for (const run of this.#runs.values()) run.controller.abort('shutdown');
		inBackground(this.#rt, 'job worker leaving', workers.forgetWorkers(this.#rt.store.db, 0, this.worker));
	}
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

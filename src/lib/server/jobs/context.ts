// What a running job gets: its job, a cancellation signal, and ways to report progress and log lines.
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Job, JobProgress, LogLevel } from '$lib/shared/jobs';
import { runtime } from '../runtime';
import { publish } from './events';
import * as log from './log';
import * as table from './table';

/** Progress goes out at most this often (the last one always does, by flush()). */
const PROGRESS_EVERY_MS = 250;

/** The folder of exports being written (DATA_DIR/jobs); published ones move to Files. */
export function scratchDir(): string {
	return join(runtime().config.dataDir, 'jobs');
}

/**
 * One run of a job, as its kind's runner sees it. `signal` aborts with a reason: `cancelled` (the
 * owner), `shutdown` (the server stops) or `lost` (another instance took the job over).
 */
export class JobContext {
	#pending: JobProgress | null = null;
	#sentAt = 0;

	constructor(
		readonly job: Job,
		/** Who submitted it: their Files get the output. */
		readonly ownerId: number,
		readonly signal: AbortSignal,
		readonly worker: string
	) {}

	/** Throws the abort reason once the run should stop: call it between pages of work. */
	checkpoint(): void {
		this.signal.throwIfAborted();
	}

	/** Waits `ms`, or less when the run is stopped (then throws like checkpoint()). */
	async pause(ms: number): Promise<void> {
		if (ms <= 0) return this.checkpoint();
		await new Promise<void>((resolve) => {
			const done = () => {
				clearTimeout(timer);
				this.signal.removeEventListener('abort', done);
				resolve();
			};
			const timer = setTimeout(done, ms);
			this.signal.addEventListener('abort', done, { once: true });
		});
		this.checkpoint();
	}

	/** Reports progress: stored and published at most every 250 ms (flush() sends the last one). */
	async progress(progress: JobProgress): Promise<void> {
		this.#pending = progress;
		if (Date.now() - this.#sentAt >= PROGRESS_EVERY_MS) await this.flush();
	}

	/** Sends progress not sent yet. */
	async flush(): Promise<void> {
		const progress = this.#pending;
		if (!progress) return;
		this.#pending = null;
		this.#sentAt = Date.now();
		await table.saveProgress(runtime().store.db, this.job.id, this.worker, progress, this.#sentAt);
		await publish(this.job.id, 'progress', progress);
	}

	/** Adds a line to the job's log. */
	async log(text: string, level: LogLevel = 'info'): Promise<void> {
		await log.append(this.job.id, text, level);
	}

	/** A path to write this run's output to before it is published (the folder is made if needed). */
	async scratchPath(extension: string): Promise<string> {
		await mkdir(scratchDir(), { recursive: true });
		return join(scratchDir(), `${this.job.id}-${this.worker}.${extension}.partial`);
	}
}

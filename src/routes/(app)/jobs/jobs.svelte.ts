import { downloadFileById } from '$lib/api/files.api';
import { deleteJob, getJob, getJobs, openJobEvents, postJobs, readJobLog } from '$lib/api/jobs.api';
import type { ExportRequest, Job, JobEvents, JobState } from '$lib/shared/jobs';
import { isFinished } from '$lib/shared/jobs';
import type { EventStream, TextStream } from '$lib/stream/client';
import { PagedList, type Page } from '$lib/state/paged-list.svelte';

/** Where the log panel of a job is. */
export type LogStatus = 'closed' | 'loading' | 'live' | 'ended' | 'error';

/** Most log text kept in the page (the oldest goes first past it). */
const LOG_LIMIT = 200_000;

/** One of my jobs, kept live by its status stream while it is not finished; its log and download on demand. */
export class JobItem {
	job = $state<Job>() as Job;
	/** Place in the queue while queued: rank (1 is next), queue size, and when it is expected to start (Unix ms). */
	queue = $state<{ rank: number; size: number; startsAt: number | null } | null>(null);
	/** The newest log line, shown under the job. */
	lastLine = $state<string | null>(null);
	log = $state('');
	logStatus = $state<LogStatus>('closed');
	download = $state<{ received: number; total: number | null } | null>(null);
	error = $state<string | null>(null);
	cancelling = $state(false);

	#events: EventStream<JobEvents> | null = null;
	#log: TextStream | null = null;

	constructor(job: Job) {
		this.job = job;
	}

	/** Follows the job's status stream until it is finished. */
	watch(): void {
		if (this.#events || isFinished(this.job.state)) return;
		const events = (this.#events = openJobEvents(String(this.job.id)));
		events.onMessage('estimation', ({ rank, queueSize, etaMs }) => {
			if (rank === 0) {
				this.queue = null;
				this.#set({ state: 'running', started: this.job.started ?? Date.now() });
				return;
			}
			this.queue = { rank, size: queueSize, startsAt: etaMs === null ? null : Date.now() + etaMs };
			if (this.job.state !== 'queued') this.#set({ state: 'queued', progress: null });
		});
		events.onMessage('progress', (progress) => this.#set({ state: 'running', progress }));
		events.onMessage('log', ({ text }) => (this.lastLine = text));
		events.onMessage('heartbeat', ({ state }) => this.#sync(state));
		events.onMessage('completed', ({ state, output, error }) => {
			this.queue = null;
			this.#set({ state, output, error, finished: Date.now() });
			this.stop();
		});
		events.onReset(() => void this.reload());
	}

	/** Stops following (the log too). */
	stop(): void {
		this.#events?.close();
		this.#events = null;
	}

	/** Loads the job again (after a reset, or a heartbeat saying it moved on). */
	async reload(): Promise<void> {
		try {
			this.job = await getJob(String(this.job.id));
			if (isFinished(this.job.state)) this.stop();
		} catch (error) {
			this.error = (error as Error).message;
		}
	}

	/** Opens the log (its whole text, then live lines until the job ends) or closes it. */
	toggleLog(): void {
		if (this.logStatus !== 'closed') {
			this.#log?.abort();
			this.#log = null;
			this.logStatus = 'closed';
			return;
		}
		this.log = '';
		this.logStatus = 'loading';
		this.#log = readJobLog(String(this.job.id), {
			onText: (text) => {
				this.logStatus = 'live';
				this.log = (this.log + text).slice(-LOG_LIMIT);
			},
			onComplete: () => (this.logStatus = 'ended'),
			onError: (error) => {
				this.logStatus = 'error';
				this.error = `The log stopped: ${error.message}`;
			}
		});
	}

	/** Cancels the job (a running one has stopped when this resolves). */
	async cancel(): Promise<void> {
		this.cancelling = true;
		this.error = null;
		try {
			this.job = await deleteJob(String(this.job.id));
			this.queue = null;
			this.stop();
		} catch (error) {
			this.error = (error as Error).message;
		} finally {
			this.cancelling = false;
		}
	}

	/** Downloads the finished file with progress (verified by its SHA-256) and hands it to the browser. */
	async save(): Promise<void> {
		const output = this.job.output;
		if (!output || this.download) return;
		this.download = { received: 0, total: output.size };
		this.error = null;
		try {
			const blob = await downloadFileById(output.fileId, { onProgress: (p) => (this.download = p) });
			const url = URL.createObjectURL(blob);
			Object.assign(document.createElement('a'), { href: url, download: output.name }).click();
			setTimeout(() => URL.revokeObjectURL(url), 10_000);
		} catch (error) {
			this.error = `Download failed: ${(error as Error).message}`;
		} finally {
			this.download = null;
		}
	}

	/** Closes every stream of this job. */
	dispose(): void {
		this.stop();
		this.#log?.abort();
	}

	#set(patch: Partial<Job>): void {
		this.job = { ...this.job, ...patch };
	}

	#sync(state: JobState): void {
		if (state !== this.job.state) void this.reload();
	}
}

/** My jobs, newest first, each live; the export form's submit. */
export class JobList extends PagedList<JobItem, number> {
	submitting = $state(false);
	submitError = $state<string | null>(null);
	/** Ticks every second, for the "starts in" countdowns. */
	now = $state(Date.now());

	#timer: ReturnType<typeof setInterval> | undefined;
	protected readonly loadError = 'Could not load your jobs.';

	/** Loads the first page and follows the unfinished jobs. */
	start(): void {
		this.#timer = setInterval(() => (this.now = Date.now()), 1000);
		void this.reload();
	}

	stop(): void {
		clearInterval(this.#timer);
		for (const item of this.items) item.dispose();
	}

	/** A page of my jobs, each the item already shown for it or a new one. */
	protected async fetchPage(before: number | undefined): Promise<Page<JobItem, number>> {
		const page = await getJobs(before === undefined ? {} : { before });
		const known = new Map(this.items.map((item) => [item.job.id, item]));
		return { items: page.items.map((job) => known.get(job.id) ?? new JobItem(job)), nextBefore: page.nextBefore };
	}

	protected key(item: JobItem): number {
		return item.job.id;
	}

	protected isNewer(item: JobItem, top: JobItem | undefined): boolean {
		return item.job.id > (top?.job.id ?? 0);
	}

	/** Items that left the list stop following; the others (and the new) follow their job. */
	protected override pageMerged(_page: Page<JobItem, number>, before: JobItem[]): void {
		for (const item of before) if (!this.items.includes(item)) item.dispose();
		for (const item of this.items) item.watch();
	}

	/** Queues an export; 400s come back as `submitError`. */
	async submit(params: ExportRequest): Promise<boolean> {
		this.submitting = true;
		this.submitError = null;
		try {
			const item = new JobItem(await postJobs({ kind: 'export', params }));
			this.items = [item, ...this.items.filter((other) => other.job.id !== item.job.id)];
			item.watch();
			return true;
		} catch (error) {
			this.submitError = (error as Error).message;
			return false;
		} finally {
			this.submitting = false;
		}
	}
}

// The jobs tables: every query the service runs, dialect-neutral (each state change is one conditional UPDATE).
import type { Kysely, Selectable } from 'kysely';
import type { ExportParams, Job, JobKind, JobLogLine, JobOutput, JobProgress, JobState, LogLevel } from '$lib/shared/jobs';
import type { Database, Dialect } from '../db';
import type { JobsTable } from '../db/schema';

type Db = Kysely<Database>;

/** A stored job. */
export type Row = Selectable<JobsTable>;

/** A row as its owner sees it (PostgreSQL returns bigint as text, hence the Number()s). */
export function view(row: Row): Job {
	return {
		id: Number(row.id),
		kind: row.kind as JobKind,
		params: JSON.parse(row.params) as ExportParams,
		state: row.state,
		created: Number(row.created_at),
		started: row.started_at === null ? null : Number(row.started_at),
		finished: row.finished_at === null ? null : Number(row.finished_at),
		attempts: Number(row.attempts),
		progress: row.progress === null ? null : (JSON.parse(row.progress) as JobProgress),
		output: row.output === null ? null : (JSON.parse(row.output) as JobOutput),
		error: row.error
	};
}

/** Stores a new queued job. */
export function insert(db: Db, values: { ownerId: number; kind: JobKind; params: unknown; now: number }): Promise<Row> {
	return db
		.insertInto('jobs')
		.values({ owner_id: values.ownerId, kind: values.kind, params: JSON.stringify(values.params), state: 'queued', created_at: values.now, attempts: 0 })
		.returningAll()
		.executeTakeFirstOrThrow();
}

/** One job of one owner. */
export function byOwner(db: Db, ownerId: number, id: number): Promise<Row | undefined> {
	return db.selectFrom('jobs').selectAll().where('id', '=', id).where('owner_id', '=', ownerId).executeTakeFirst();
}

/** One job. */
export function byId(db: Db, id: number): Promise<Row | undefined> {
	return db.selectFrom('jobs').selectAll().where('id', '=', id).executeTakeFirst();
}

/** A page of an owner's jobs, newest first, older than `before` when given. */
export function page(db: Db, ownerId: number, before: number | undefined, limit: number): Promise<Row[]> {
	let query = db.selectFrom('jobs').selectAll().where('owner_id', '=', ownerId);
	if (before !== undefined) query = query.where('id', '<', before);
	return query.orderBy('id', 'desc').limit(limit).execute();
}

/** How many of an owner's jobs are queued or running. */
export async function openCount(db: Db, ownerId: number): Promise<number> {
	const row = await db
		.selectFrom('jobs')
		.select((eb) => eb.fn.countAll<number | string>().as('n'))
		.where('owner_id', '=', ownerId)
		.where('state', 'in', ['queued', 'running'])
		.executeTakeFirstOrThrow();
	return Number(row.n);
}

/**
 * Takes the oldest queued job for `worker` in one atomic UPDATE … WHERE state = 'queued', so two
 * workers can never both get it; PostgreSQL also skips rows another claim holds locked.
 */
export function claim(db: Db, dialect: Dialect, worker: string, now: number): Promise<Row | undefined> {
	return db
		.updateTable('jobs')
		.set((eb) => ({ state: 'running', worker, started_at: now, heartbeat_at: now, attempts: eb('attempts', '+', 1), progress: null, cancel_requested_at: null, estimation: null }))
		.where('id', '=', (eb) => {
			const oldest = eb.selectFrom('jobs').select('id').where('state', '=', 'queued').orderBy('id').limit(1);
			return dialect === 'postgres' ? oldest.forUpdate().skipLocked() : oldest;
		})
		.where('state', '=', 'queued')
		.returningAll()
		.executeTakeFirst();
}

/** How a run ended, as `finish` stores it. */
export type Outcome =
	| { state: 'succeeded'; output: JobOutput }
	| { state: 'failed'; error: string }
	| { state: 'cancelled' };

/** Records how `worker`'s run of a job ended; false when the job is no longer that worker's to finish. */
export async function finish(db: Db, id: number, worker: string, outcome: Outcome, now: number): Promise<boolean> {
	const result = await db
		.updateTable('jobs')
		.set({
			state: outcome.state,
			finished_at: now,
			worker: null,
			heartbeat_at: null,
			output: outcome.state === 'succeeded' ? JSON.stringify(outcome.output) : null,
			output_file_id: outcome.state === 'succeeded' ? outcome.output.fileId : null,
			error: outcome.state === 'failed' ? outcome.error : null
		})
		.where('id', '=', id)
		.where('state', '=', 'running')
		.where('worker', '=', worker)
		.executeTakeFirst();
	return Number(result.numUpdatedRows) === 1;
}

/** Puts `worker`'s running job back in the queue (a shutdown interrupted it); false when it was not that worker's. */
export async function requeue(db: Db, id: number, worker: string): Promise<boolean> {
	const result = await db
		.updateTable('jobs')
		.set({ state: 'queued', worker: null, started_at: null, heartbeat_at: null, progress: null, estimation: null })
		.where('id', '=', id)
		.where('state', '=', 'running')
		.where('worker', '=', worker)
		.executeTakeFirst();
	return Number(result.numUpdatedRows) === 1;
}

/** Cancels a job that is still queued; false when it had already left the queue. */
export async function cancelQueued(db: Db, id: number, now: number): Promise<boolean> {
	const result = await db
		.updateTable('jobs')
		.set({ state: 'cancelled', finished_at: now })
		.where('id', '=', id)
		.where('state', '=', 'queued')
		.executeTakeFirst();
	return Number(result.numUpdatedRows) === 1;
}

/** Renews `worker`'s lease on its running jobs; returns those it still holds, and whether a cancel was asked for each. */
export async function heartbeat(db: Db, worker: string, ids: number[], now: number): Promise<{ id: number; cancelRequested: boolean }[]> {
	if (ids.length === 0) return [];
	const rows = await db
		.updateTable('jobs')
		.set({ heartbeat_at: now })
		.where('id', 'in', ids)
		.where('state', '=', 'running')
		.where('worker', '=', worker)
		.returning(['id', 'cancel_requested_at'])
		.execute();
	return rows.map((row) => ({ id: Number(row.id), cancelRequested: row.cancel_requested_at !== null }));
}

/** Asks whichever instance runs a job to stop it; false when it is not running. */
export async function requestCancel(db: Db, id: number, now: number): Promise<boolean> {
	const result = await db
		.updateTable('jobs')
		.set({ cancel_requested_at: now })
		.where('id', '=', id)
		.where('state', '=', 'running')
		.executeTakeFirst();
	return Number(result.numUpdatedRows) === 1;
}

/** Stores a running job's latest progress (and renews its lease). */
export async function saveProgress(db: Db, id: number, worker: string, progress: JobProgress, now: number): Promise<void> {
	await db
		.updateTable('jobs')
		.set({ progress: JSON.stringify(progress), heartbeat_at: now })
		.where('id', '=', id)
		.where('worker', '=', worker)
		.execute();
}

/**
 * Running jobs whose worker stopped renewing its lease before `cutoff` (it died): those whose
 * owner asked to cancel them are cancelled, those already started `maxAttempts` times fail with
 * `error`, the others go back to the queue. Each is one conditional UPDATE, so a job is recovered
 * once however many instances sweep.
 */
export async function recoverStale(
	db: Db,
	cutoff: number,
	maxAttempts: number,
	error: string,
	now: number
): Promise<{ cancelled: Row[]; failed: Row[]; requeued: Row[] }> {
	const cancelled = await db
		.updateTable('jobs')
		.set({ state: 'cancelled', finished_at: now, worker: null, heartbeat_at: null })
		.where('state', '=', 'running')
		.where('heartbeat_at', '<', cutoff)
		.where('cancel_requested_at', 'is not', null)
		.returningAll()
		.execute();
	const failed = await db
		.updateTable('jobs')
		.set({ state: 'failed', finished_at: now, worker: null, heartbeat_at: null, error })
		.where('state', '=', 'running')
		.where('heartbeat_at', '<', cutoff)
		.where('attempts', '>=', maxAttempts)
		.returningAll()
		.execute();
	const requeued = await db
		.updateTable('jobs')
		.set({ state: 'queued', worker: null, started_at: null, heartbeat_at: null, progress: null, estimation: null })
		.where('state', '=', 'running')
		.where('heartbeat_at', '<', cutoff)
		.returningAll()
		.execute();
	return { cancelled, failed, requeued };
}

/** A queued job as estimations see it: `estimation` is the JSON last published for it. */
export type QueuedJob = { id: number; kind: string; estimation: string | null };

/** The queue in order, and the running jobs: what estimations are made of. */
export async function queueState(db: Db): Promise<{ queued: QueuedJob[]; running: Row[] }> {
	const queued = await db.selectFrom('jobs').select(['id', 'kind', 'estimation']).where('state', '=', 'queued').orderBy('id').execute();
	const running = await db.selectFrom('jobs').selectAll().where('state', '=', 'running').orderBy('id').execute();
	return { queued: queued.map((row) => ({ id: Number(row.id), kind: row.kind, estimation: row.estimation })), running };
}

/** Stores a queued job's new estimation if the stored one is still `previous`: true for the one instance that swapped it. */
export async function swapEstimation(db: Db, id: number, previous: string | null, next: string): Promise<boolean> {
	const result = await db
		.updateTable('jobs')
		.set({ estimation: next })
		.where('id', '=', id)
		.where('state', '=', 'queued')
		.where('estimation', previous === null ? 'is' : '=', previous)
		.executeTakeFirst();
	return Number(result.numUpdatedRows) === 1;
}

/** How long the last `limit` successful runs of a kind took (ms), newest first. */
export async function recentDurations(db: Db, kind: string, limit: number): Promise<number[]> {
	const rows = await db
		.selectFrom('jobs')
		.select(['started_at', 'finished_at'])
		.where('kind', '=', kind)
		.where('state', '=', 'succeeded')
		.orderBy('finished_at', 'desc')
		.limit(limit)
		.execute();
	return rows.map((row) => Number(row.finished_at) - Number(row.started_at));
}

/** A job's state now (undefined when it is gone). */
export async function stateOf(db: Db, id: number): Promise<JobState | undefined> {
	return (await db.selectFrom('jobs').select('state').where('id', '=', id).executeTakeFirst())?.state;
}

/** Appends a line to a job's log and returns it with its number. */
export function appendLog(db: Db, jobId: number, level: LogLevel, text: string, now: number): Promise<JobLogLine> {
	return db.transaction().execute(async (trx) => {
		const last = await trx
			.selectFrom('job_logs')
			.select((eb) => eb.fn.max('line').as('line'))
			.where('job_id', '=', jobId)
			.executeTakeFirst();
		const line = Number(last?.line ?? 0) + 1;
		await trx.insertInto('job_logs').values({ job_id: jobId, line, time: now, level, text }).execute();
		return { line, time: now, level, text };
	});
}

/** Up to `limit` log lines of a job after line `after`, in order. */
export async function logAfter(db: Db, jobId: number, after: number, limit: number): Promise<JobLogLine[]> {
	const rows = await db
		.selectFrom('job_logs')
		.select(['line', 'time', 'level', 'text'])
		.where('job_id', '=', jobId)
		.where('line', '>', after)
		.orderBy('line')
		.limit(limit)
		.execute();
	return rows.map((row) => ({ line: Number(row.line), time: Number(row.time), level: row.level, text: row.text }));
}

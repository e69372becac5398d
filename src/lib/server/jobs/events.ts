// A job's bus topic and its SSE status stream.
import { isFinished, type Job, type JobEvents, type JobState } from '$lib/shared/jobs';
import type { SseContext, SseMessage } from '$lib/stream/server';
import { follow, resumeAfter } from '../bus/follow';
import { runtime } from '../runtime';
import * as table from './table';
import { view } from './table';

/** The bus topic of one job's events. */
export const topic = (jobId: number) => `job:${jobId}`;

/** Publishes one event on a job's topic. */
export function publish<K extends keyof JobEvents>(jobId: number, type: K, data: JobEvents[K]): Promise<string> {
	return runtime().bus.publish(topic(jobId), { type, data });
}

/** The `completed` message of a finished job. */
export function completedOf(job: Job): JobEvents['completed'] {
	const state = job.state as JobEvents['completed']['state'];
	return { state, success: state === 'succeeded', output: job.output, error: job.error };
}

type Message = SseMessage<JobEvents>;

/** What a fresh client needs to know first: where the job is now. */
async function snapshot(jobId: number): Promise<Message[]> {
	const row = await table.byId(runtime().store.db, jobId);
	if (!row) return [];
	const job = view(row);
	if (isFinished(job.state)) return [{ event: 'completed', data: completedOf(job) }];
	const estimations = await runtime().jobs?.estimations();
	if (job.state === 'queued') {
		const estimation = estimations?.get(job.id);
		return estimation ? [{ event: 'estimation', data: estimation }] : [];
	}
	const started: Message = { event: 'estimation', data: { rank: 0, queueSize: estimations?.size ?? 0, etaMs: 0 } };
	return job.progress ? [started, { event: 'progress', data: job.progress }] : [started];
}

const TICK = Symbol('tick');

/** The messages of `source`, with a `heartbeat` (never stored, so without an id) every `everyMs`. */
async function* withHeartbeats(source: AsyncIterable<Message>, everyMs: number, beat: () => Promise<Message>): AsyncGenerator<Message> {
	const iterator = source[Symbol.asyncIterator]();
	let due = Date.now() + everyMs;
	try {
		// One next() at a time, asked for only once the last message was taken: a return() never waits on it.
		for (let next = iterator.next(); ; ) {
			let timer: ReturnType<typeof setTimeout> | undefined;
			const tick = new Promise<typeof TICK>((resolve) => (timer = setTimeout(resolve, Math.max(0, due - Date.now()), TICK)));
			const result = await Promise.race([next, tick]);
			clearTimeout(timer);
			if (result === TICK) {
				due = Date.now() + everyMs;
				yield await beat();
				continue;
			}
			if (result.done) return;
			yield result.value;
			next = iterator.next();
		}
	} finally {
		// Not awaited: a next() may still be pending (after a heartbeat); ctx.signal ends the subscription anyway.
		void Promise.resolve(iterator.return?.()).catch(() => {});
	}
}

/**
 * A job's status stream for its owner: for a fresh client, where the job stands (its estimation,
 * progress or `completed`); then what came after the client's Last-Event-ID, replayed, and live
 * events, with a `heartbeat` every SSE heartbeat interval; it ends after `completed`. A client
 * that already has the `completed` of a finished job gets null (204: do not reconnect).
 * @example sse<JobEvents>(request, (ctx) => events.stream(job, ctx));
 */
export async function stream(job: Job, ctx: SseContext): Promise<AsyncIterable<Message> | null> {
	const rt = runtime();
	const name = topic(job.id);
	if (isFinished(job.state) && ctx.lastEventId !== null) {
		const after = await resumeAfter(name, ctx.lastEventId);
		// Ids are opaque (numbers in-process, `ms-seq` on Redis): nothing comes after `completed`, the head.
		if (after === (await rt.bus.head(name))) return null;
	}
	const messages = await follow<JobEvents>(name, ctx, { prelude: ctx.lastEventId === null ? () => snapshot(job.id) : undefined });
	const beat = async (): Promise<Message> => {
		const state: JobState = (await table.stateOf(rt.store.db, job.id)) ?? job.state;
		return { event: 'heartbeat', data: { time: Date.now(), state } };
	};
	return (async function* () {
		for await (const message of withHeartbeats(messages, rt.config.sseHeartbeatMs, beat)) {
			yield message;
			if (message.event === 'completed') return;
		}
	})();
}

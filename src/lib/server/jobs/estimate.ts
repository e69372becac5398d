// Queue estimations: each queued job's rank, and how long until it starts, from what is known now.
import type { JobEvents } from '$lib/shared/jobs';

/** One `estimation` message. */
export type Estimation = JobEvents['estimation'];

/** What an estimate is made of. */
export interface QueueSnapshot {
	/** Queued jobs, first in line first. */
	queued: { id: number; kind: string }[];
	/** Running jobs: how long they have run and how far they are (0 to 1; null: no progress yet). */
	running: { kind: string; elapsedMs: number; fraction: number | null }[];
	/** Per kind, the moving average of its recent durations (ms), when it has run before. */
	averages: Map<string, number>;
	/** Jobs run at once. */
	concurrency: number;
}

/** A running job's progress below this says too little to project its length from. */
const MIN_FRACTION = 0.05;

/** The mean of `values`, or null for none. */
export const mean = (values: number[]): number | null => (values.length ? values.reduce((a, b) => a + b, 0) / values.length : null);

/** How much longer a running job takes: projected from its own progress, else its kind's average; null when neither says. */
function remaining(job: QueueSnapshot['running'][number], averages: Map<string, number>): number | null {
	if (job.fraction !== null && job.fraction >= MIN_FRACTION) return Math.max(0, job.elapsedMs / job.fraction - job.elapsedMs);
	const average = averages.get(job.kind);
	return average === undefined ? null : Math.max(0, average - job.elapsedMs);
}

/**
 * Each queued job's estimation: `rank` (1 is next) of `queueSize`, and `etaMs` until it starts,
 * by playing the queue forward: every slot frees when its running job is projected to end, and
 * each job takes a slot for its kind's average duration (or, before a kind has one, for what its
 * running jobs project). An unknown length makes that ETA and every later one null.
 * @example estimate({ queued: [{ id: 2, kind: 'export' }], running: [], averages: new Map(), concurrency: 1 }).get(2) // { rank: 1, queueSize: 1, etaMs: 0 }
 */
export function estimate(snapshot: QueueSnapshot): Map<number, Estimation> {
	const { queued, running, averages, concurrency } = snapshot;
	const projected = new Map<string, number[]>();
	for (const job of running) {
		if (job.fraction === null || job.fraction < MIN_FRACTION) continue;
		projected.set(job.kind, [...(projected.get(job.kind) ?? []), job.elapsedMs / job.fraction]);
	}
	const durationOf = (kind: string) => averages.get(kind) ?? mean(projected.get(kind) ?? []);
	// When each slot frees up (ms from now); null: not known.
	const slots: (number | null)[] = running.map((job) => remaining(job, averages));
	while (slots.length < concurrency) slots.push(0);
	const estimations = new Map<number, Estimation>();
	queued.forEach((job, i) => {
		// It starts when the first slot frees; a slot whose end is unknown might be that one.
		const soonest = slots.includes(null) ? null : Math.min(...(slots as number[]));
		estimations.set(job.id, { rank: i + 1, queueSize: queued.length, etaMs: soonest === null ? null : Math.round(soonest) });
		if (soonest === null) return;
		const duration = durationOf(job.kind);
		slots[slots.indexOf(soonest)] = duration === null ? null : soonest + duration;
	});
	return estimations;
}

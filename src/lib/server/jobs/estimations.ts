// What the queue tells waiting jobs: their rank, the queue's size and an ETA, published when it changes.
import { inBackground, type Runtime } from '../runtime';
import { estimate, mean, type Estimation } from './estimate';
import * as events from './events';
import * as table from './table';
import * as workers from './workers';

/** Recent successful runs of a kind its average duration is taken over. */
const AVERAGE_OF = 5;

/**
 * The queue (with each job's last published estimation) and its estimations, over every
 * instance's slots (workers seen within `leaseMs`).
 */
export async function estimateQueue(rt: Runtime, leaseMs: number): Promise<{ queued: table.QueuedJob[]; estimations: Map<number, Estimation> }> {
	const { db } = rt.store;
	const { queued, running } = await table.queueState(db);
	const slots = Math.max(rt.config.jobConcurrency, await workers.capacity(db, Date.now() - leaseMs));
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
	return { queued, estimations: estimate({ queued, running: progress, averages, concurrency: slots }) };
}

/**
 * Publishes each queued job's estimation when it changed from the one last published (rank,
 * queue size, or the ETA by 10% and at least half a second): every instance estimates, and the
 * one that swaps the stored estimation publishes it, so a change goes out once. One pass at a
 * time; a call during a pass asks for one more after it.
 */
export class EstimationPublisher {
	#rt: Runtime;
	#leaseMs: number;
	#stopped: () => boolean;
	#running = false;
	#again = false;

	constructor(rt: Runtime, leaseMs: number, stopped: () => boolean) {
		this.#rt = rt;
		this.#leaseMs = leaseMs;
		this.#stopped = stopped;
	}

	publish(): void {
		if (this.#running) {
			this.#again = true;
			return;
		}
		this.#running = true;
		const publishing = (async () => {
			do {
				this.#again = false;
				const { db } = this.#rt.store;
				const { queued, estimations } = await estimateQueue(this.#rt, this.#leaseMs);
				for (const job of queued) {
					const estimation = estimations.get(job.id)!;
					const last = job.estimation === null ? undefined : (JSON.parse(job.estimation) as Estimation);
					if (!changed(last, estimation)) continue;
					if (await table.swapEstimation(db, job.id, job.estimation, JSON.stringify(estimation))) await events.publish(job.id, 'estimation', estimation);
				}
			} while (this.#again && !this.#stopped());
		})().finally(() => (this.#running = false));
		inBackground(this.#rt, 'job estimations', publishing);
	}
}

function changed(last: Estimation | undefined, next: Estimation): boolean {
	if (!last || last.rank !== next.rank || last.queueSize !== next.queueSize) return true;
	if (last.etaMs === null || next.etaMs === null) return last.etaMs !== next.etaMs;
	return Math.abs(last.etaMs - next.etaMs) >= Math.max(500, last.etaMs * 0.1);
}

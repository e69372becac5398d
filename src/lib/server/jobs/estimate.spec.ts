import { describe, expect, it } from 'vitest';
import { estimate, type QueueSnapshot } from './estimate';

const queue = (...ids: number[]) => ids.map((id) => ({ id, kind: 'export' }));
const snapshot = (over: Partial<QueueSnapshot>): QueueSnapshot => ({ queued: [], running: [], averages: new Map(), concurrency: 1, ...over });

describe('estimate', () => {
	it('ranks the queue from 1 and plays it forward on the average duration', () => {
		const result = estimate(
			snapshot({ queued: queue(5, 6, 7), running: [{ kind: 'export', elapsedMs: 4000, fraction: null }], averages: new Map([['export', 10_000]]) })
		);
		expect([...result]).toEqual([
			[5, { rank: 1, queueSize: 3, etaMs: 6000 }],
			[6, { rank: 2, queueSize: 3, etaMs: 16_000 }],
			[7, { rank: 3, queueSize: 3, etaMs: 26_000 }]
		]);
	});

	it("projects a running job's end from its own progress, which wins over the average", () => {
		const result = estimate(
			snapshot({ queued: queue(2), running: [{ kind: 'export', elapsedMs: 3000, fraction: 0.25 }], averages: new Map([['export', 60_000]]) })
		);
		expect(result.get(2)).toEqual({ rank: 1, queueSize: 1, etaMs: 9000 });
	});

	it('uses the projection of running jobs before a kind has an average, and null when nothing is known', () => {
		const running = [{ kind: 'export', elapsedMs: 2000, fraction: 0.5 }];
		expect([...estimate(snapshot({ queued: queue(2, 3), running })).values()].map((e) => e.etaMs)).toEqual([2000, 6000]);
		const early = [{ kind: 'export', elapsedMs: 100, fraction: 0.01 }];
		expect([...estimate(snapshot({ queued: queue(2, 3), running: early })).values()].map((e) => e.etaMs)).toEqual([null, null]);
	});

	it('fills free slots at once and shares the queue among several slots', () => {
		const averages = new Map([['export', 1000]]);
		const result = estimate(snapshot({ queued: queue(1, 2, 3, 4), running: [{ kind: 'export', elapsedMs: 700, fraction: null }], averages, concurrency: 2 }));
		expect([...result.values()].map((e) => e.etaMs)).toEqual([0, 300, 1000, 1300]);
	});

	it('shrinks as the running job moves on', () => {
		const etas = [0.1, 0.3, 0.6, 0.9].map(
			(fraction) => estimate(snapshot({ queued: queue(9), running: [{ kind: 'export', elapsedMs: fraction * 10_000, fraction }] })).get(9)!.etaMs!
		);
		expect(etas).toEqual([9000, 7000, 4000, 1000]);
	});
});

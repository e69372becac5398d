import { describe, expect, it } from 'vitest';
import type { AnalyticsLine, AnalyticsRecord, Metric } from '$lib/shared/analytics';
import { Aggregate, LATEST } from './aggregate';

let id = 0;
const record = (time: number, metric: Metric, value = 1, region = 'eu-west', channel = 'web'): AnalyticsRecord =>
	({ kind: 'record', cursor: `r.${time}.${++id}`, id, time, metric, region, channel, value }) as AnalyticsRecord;

describe('the dashboard aggregate', () => {
	it('folds records into totals, buckets and breakdowns, whatever the chunking', () => {
		const lines: AnalyticsLine[] = [
			{ kind: 'meta', mode: 'raw', bucket: null, from: 0, to: null, metrics: ['page_views', 'latency'], region: null, channel: null, total: 5, resumed: false, follow: true, seeding: null },
			record(1_000, 'page_views'),
			record(59_999, 'latency', 40, 'ap-south', 'mobile'),
			record(60_000, 'latency', 80),
			record(130_000, 'page_views'),
			record(130_001, 'downloads', 5000),
			{ kind: 'live' },
			record(150_000, 'page_views', 1, 'us-east', 'api')
		];
		const whole = new Aggregate(0, 60_000, ['page_views', 'latency']);
		whole.add(lines);
		const pieces = new Aggregate(0, 60_000, ['page_views', 'latency']);
		for (const line of lines) pieces.add([line]);
		for (const aggregate of [whole, pieces]) {
			expect(aggregate.records).toBe(5); // downloads is not a selected metric
			expect(aggregate.value('page_views')).toBe(3);
			expect(aggregate.value('latency')).toBe(60);
			expect(aggregate.series('page_views', 180_000)).toEqual([[0, 60, 120], [1, 0, 2]]);
			expect(aggregate.series('latency', 180_000)).toEqual([[0, 60, 120], [40, 80, null]]);
			expect(aggregate.byRegion.get('ap-south')).toBe(1);
			expect(aggregate.byChannel.get('web')).toBe(3);
			expect(aggregate.latest.map((r) => r.time)).toEqual([150_000, 130_000, 60_000, 59_999, 1_000]);
		}
	});

	it('keeps only the newest records for the table', () => {
		const aggregate = new Aggregate(0, 60_000, ['signins']);
		for (let i = 0; i < 5; i++) aggregate.add(Array.from({ length: 7 }, (_, j) => record(i * 7 + j, 'signins')));
		expect(aggregate.latest).toHaveLength(LATEST);
		expect(aggregate.latest[0].time).toBe(34);
		expect(aggregate.latest[LATEST - 1].time).toBe(34 - LATEST + 1);
	});
});

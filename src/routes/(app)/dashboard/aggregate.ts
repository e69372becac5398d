// What the dashboard draws, folded from the records stream as it arrives: cheap per record, no record kept but the latest few.
import { DIMENSIONS, METRICS, type AnalyticsLine, type AnalyticsRecord, type Metric } from '$lib/shared/analytics';

/** How many of the newest records the table keeps. */
export const LATEST = 12;

/** Per metric: the events and the sum of their values, overall and per time bucket. */
interface MetricTotals {
	count: number;
	sum: number;
	counts: number[];
	sums: number[];
}

/** Folds analytics records into totals, per-bucket series, dimension breakdowns and the latest records. */
export class Aggregate {
	readonly totals = new Map<Metric, MetricTotals>();
	readonly byRegion = new Map<string, number>(DIMENSIONS.region.map((r) => [r, 0]));
	readonly byChannel = new Map<string, number>(DIMENSIONS.channel.map((c) => [c, 0]));
	/** Newest first. */
	latest: AnalyticsRecord[] = [];
	records = 0;
	/** Buckets with data so far (the series run up to here). */
	buckets = 0;

	/**
	 * @param from the window's start (Unix ms); bucket 0 starts here.
	 * @param bucketMs the width of a series bucket.
	 */
	constructor(
		readonly from: number,
		readonly bucketMs: number,
		readonly metrics: readonly Metric[]
	) {
		for (const metric of metrics) this.totals.set(metric, { count: 0, sum: 0, counts: [], sums: [] });
	}

	/** Adds a batch of stream lines; anything but records is ignored. */
	add(lines: readonly AnalyticsLine[]): void {
		let newest: AnalyticsRecord[] | null = null;
		for (const line of lines) {
			if (line.kind !== 'record') continue;
			const totals = this.totals.get(line.metric);
			if (!totals) continue;
			this.records += 1;
			totals.count += 1;
			totals.sum += line.value;
			const index = Math.max(0, Math.floor((line.time - this.from) / this.bucketMs));
			if (index >= this.buckets) this.#grow(index + 1);
			totals.counts[index] += 1;
			totals.sums[index] += line.value;
			this.byRegion.set(line.region, (this.byRegion.get(line.region) ?? 0) + 1);
			this.byChannel.set(line.channel, (this.byChannel.get(line.channel) ?? 0) + 1);
			(newest ??= []).push(line);
		}
		if (newest) this.latest = newest.slice(-LATEST).reverse().concat(this.latest).slice(0, LATEST);
	}

	/** The metric's headline number: its count, sum or mean, as the metric aggregates. */
	value(metric: Metric): number {
		const totals = this.totals.get(metric);
		if (!totals) return 0;
		const kind = METRICS[metric].aggregate;
		if (kind === 'count') return totals.count;
		if (kind === 'sum') return totals.sum;
		return totals.count ? totals.sum / totals.count : 0;
	}

	/**
	 * The metric per bucket up to `until` (Unix ms): x in seconds (bucket starts, for uPlot), y as
	 * the metric aggregates (a mean is null in an empty bucket).
	 */
	series(metric: Metric, until: number): [number[], (number | null)[]] {
		const totals = this.totals.get(metric);
		const length = Math.max(this.buckets, Math.ceil((until - this.from) / this.bucketMs));
		const x = Array.from({ length }, (_, i) => (this.from + i * this.bucketMs) / 1000);
		if (!totals) return [x, x.map(() => null)];
		const kind = METRICS[metric].aggregate;
		const y = x.map((_, i) => {
			const count = totals.counts[i] ?? 0;
			if (kind === 'count') return count;
			if (kind === 'sum') return totals.sums[i] ?? 0;
			return count ? totals.sums[i] / count : null;
		});
		return [x, y];
	}

	#grow(length: number): void {
		for (const totals of this.totals.values()) {
			for (let i = this.buckets; i < length; i++) {
				totals.counts[i] = 0;
				totals.sums[i] = 0;
			}
		}
		this.buckets = length;
	}
}

import { readAnalyticsStream } from '$lib/api/analytics.api';
import { METRIC_NAMES, type AnalyticsLine, type Channel, type Metric, type Region } from '$lib/shared/analytics';
import type { RecordStream } from '$lib/stream/client';
import { Aggregate } from './aggregate';

/** The time ranges the dashboard offers, with the width of a chart bucket for each. */
export const RANGES = {
	'1h': { label: 'Last hour', ms: 3_600_000, bucketMs: 60_000 },
	'24h': { label: 'Last 24 hours', ms: 86_400_000, bucketMs: 15 * 60_000 },
	'7d': { label: 'Last 7 days', ms: 7 * 86_400_000, bucketMs: 3_600_000 },
	'30d': { label: 'Last 30 days', ms: 30 * 86_400_000, bucketMs: 6 * 3_600_000 },
	'90d': { label: 'Last 90 days', ms: 90 * 86_400_000, bucketMs: 12 * 3_600_000 }
} as const;
export type RangeKey = keyof typeof RANGES;

/** Where the stream stands: history loading, live, or failed. */
export type DashboardStatus = 'loading' | 'live' | 'error';

/**
 * The dashboard's stream and what it has folded so far. Filters restart the stream (the old one
 * is aborted). Records are folded as each network chunk arrives; what the page reads is
 * refreshed once per animation frame (`version`), so a million records keep the page responsive.
 */
export class Dashboard {
	range = $state<RangeKey>('24h');
	metrics = $state<Metric[]>([...METRIC_NAMES]);
	region = $state<Region | ''>('');
	channel = $state<Channel | ''>('');

	status = $state<DashboardStatus>('loading');
	error = $state<string | null>(null);
	/** Records the window held when the stream started (the progress bar's end). */
	total = $state<number | null>(null);
	received = $state(0);
	/** The demo history still being generated on the server: 0 to 1. */
	seeding = $state<number | null>(null);
	/** How long the history took to arrive, once it has (ms). */
	loadedIn = $state<number | null>(null);
	/** Bumped once per frame when new records were folded: read it to redraw. */
	version = $state(0);
	/** The folded data; not reactive itself (see `version`). */
	data = $state.raw(new Aggregate(0, 60_000, []));

	#stream: RecordStream<AnalyticsLine> | null = null;
	#frame = 0;
	#started = 0;

	/** (Re)starts the stream with the current filters. */
	start(): void {
		this.stop();
		const range = RANGES[this.range];
		const from = Date.now() - range.ms;
		const metrics = [...this.metrics];
		this.data = new Aggregate(from, range.bucketMs, metrics);
		this.status = 'loading';
		this.error = null;
		this.total = null;
		this.received = 0;
		this.seeding = null;
		this.loadedIn = null;
		this.#started = performance.now();
		if (!metrics.length) {
			this.status = 'live';
			this.total = 0;
			return;
		}
		const data = this.data;
		this.#stream = readAnalyticsStream(
			{
				from,
				follow: 1,
				metric: metrics.length === METRIC_NAMES.length ? undefined : metrics,
				region: this.region ? [this.region] : undefined,
				channel: this.channel ? [this.channel] : undefined
			},
			{
				cursor: 'cursor',
				onChunk: (lines) => {
					if (data !== this.data) return;
					data.add(lines);
					for (const line of lines) {
						if (line.kind === 'meta' && !line.resumed) {
							this.total = line.total;
							this.seeding = line.seeding;
						} else if (line.kind === 'live' && this.status !== 'live') {
							this.status = 'live';
							this.loadedIn = performance.now() - this.#started;
						}
					}
					this.#schedule();
				},
				onError: (error) => {
					if (data !== this.data) return;
					this.status = 'error';
					this.error = error.message || 'The analytics stream failed.';
				}
			}
		);
	}

	/** Stops the stream (leaving the page, or before a restart). */
	stop(): void {
		this.#stream?.abort();
		this.#stream = null;
		if (this.#frame) cancelAnimationFrame(this.#frame);
		this.#frame = 0;
	}

	/** Turns a metric on or off, and restarts. */
	toggleMetric(metric: Metric): void {
		this.metrics = this.metrics.includes(metric) ? this.metrics.filter((m) => m !== metric) : METRIC_NAMES.filter((m) => m === metric || this.metrics.includes(m));
		this.start();
	}

	#schedule(): void {
		if (this.#frame) return;
		this.#frame = requestAnimationFrame(() => {
			this.#frame = 0;
			this.received = this.data.records;
			this.version += 1;
		});
	}
}

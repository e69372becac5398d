// Analytics as both ends see it: the metrics, their dimensions, and the lines of the records stream.

/** How a metric's values add up on a tile or a chart. */
export type MetricAggregate = 'count' | 'sum' | 'avg';

/** What the dashboard knows about a metric. */
export interface MetricInfo {
	label: string;
	/** count: how many events; sum: total of the values; avg: mean of the values. */
	aggregate: MetricAggregate;
	/** Unit of the value (after aggregation), for labels. */
	unit: '' | 'B' | 'ms' | 'chars';
}

/** Every metric, in display order. */
export const METRICS = {
	page_views: { label: 'Page views', aggregate: 'count', unit: '' },
	signins: { label: 'Sign-ins', aggregate: 'count', unit: '' },
	messages: { label: 'Chat messages', aggregate: 'count', unit: '' },
	downloads: { label: 'Downloaded', aggregate: 'sum', unit: 'B' },
	uploads: { label: 'Uploaded', aggregate: 'sum', unit: 'B' },
	jobs: { label: 'Jobs run', aggregate: 'count', unit: '' },
	latency: { label: 'Latency', aggregate: 'avg', unit: 'ms' }
} as const satisfies Record<string, MetricInfo>;

export type Metric = keyof typeof METRICS;
export const METRIC_NAMES = Object.keys(METRICS) as Metric[];

/** The dimensions every event has, and the values each can take. */
export const DIMENSIONS = {
	region: ['eu-west', 'us-east', 'us-west', 'ap-south', 'sa-east'],
	channel: ['web', 'mobile', 'api']
} as const;

export type Dimension = keyof typeof DIMENSIONS;
export type Region = (typeof DIMENSIONS.region)[number];
export type Channel = (typeof DIMENSIONS.channel)[number];
export const DIMENSION_NAMES = Object.keys(DIMENSIONS) as Dimension[];

/** Rollup bucket sizes and their length in ms. */
export const BUCKETS = { '1m': 60_000, '1h': 3_600_000, '1d': 86_400_000 } as const;
export type Bucket = keyof typeof BUCKETS;

/** The first line of every analytics stream: what is coming. */
export interface AnalyticsMeta {
	kind: 'meta';
	/** Records one by one, or rollups per bucket. */
	mode: 'raw' | 'rollup';
	bucket: Bucket | null;
	/** The window, Unix ms; `to` is null when following live. */
	from: number;
	to: number | null;
	metrics: Metric[];
	region: Region[] | null;
	channel: Channel[] | null;
	/** Records (raw mode) the whole window holds when the stream started; null when unknown (rollups). */
	total: number | null;
	/** True when this stream resumes after a cursor. */
	resumed: boolean;
	/** After history, the stream stays open with live records. */
	follow: boolean;
	/** The demo history still being generated: how far along (0 to 1), else null. */
	seeding: number | null;
}

/** One analytics event. */
export interface AnalyticsRecord {
	kind: 'record';
	/** Resume with `after=<cursor>`. */
	cursor: string;
	id: number;
	time: number;
	metric: Metric;
	region: Region;
	channel: Channel;
	value: number;
}

/**
 * A rollup: the events of one metric in one bucket. Live ones (`live: true`) hold one new event
 * each and add to the bucket they fall in.
 */
export interface AnalyticsBucket {
	kind: 'bucket';
	cursor: string;
	/** The bucket's start, Unix ms. */
	time: number;
	metric: Metric;
	count: number;
	sum: number;
	min: number;
	max: number;
	live?: true;
}

/** In a followed stream: the history is all sent; what comes next is live. */
export interface AnalyticsLive {
	kind: 'live';
}

/** A line of `GET /api/analytics/stream`. */
export type AnalyticsLine = AnalyticsMeta | AnalyticsRecord | AnalyticsBucket | AnalyticsLive;

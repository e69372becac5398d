// The demo analytics history: deterministic for a seed, realistic enough to look at.
import type { Channel, Metric, Region } from '$lib/shared/analytics';

export const DAY_MS = 86_400_000;

/** One generated event, before it has an id. */
export interface SeedEvent {
	time: number;
	metric: Metric;
	region: Region;
	channel: Channel;
	value: number;
}

/** mulberry32: a small, fast, seedable PRNG giving floats in [0, 1). */
export function prng(seed: number): () => number {
	let a = seed >>> 0;
	return () => {
		a = (a + 0x6d2b79f5) >>> 0;
		let t = a;
		t = Math.imul(t ^ (t >>> 15), t | 1);
		t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
		return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
	};
}

/** Picks a key of `weights` with probability proportional to its weight. */
function picker<K extends string>(weights: Record<K, number>): (r: number) => K {
	const keys = Object.keys(weights) as K[];
	const total = keys.reduce((sum, k) => sum + weights[k], 0);
	const cumulative = keys.map(((sum) => (k: K) => (sum += weights[k] / total))(0));
	return (r) => keys[cumulative.findIndex((c) => r < c)] ?? keys[keys.length - 1];
}

const pickMetric = picker<Metric>({ page_views: 52, latency: 14, messages: 18, downloads: 7, signins: 5, uploads: 3, jobs: 1 });
const pickRegion = picker<Region>({ 'eu-west': 35, 'us-east': 30, 'us-west': 15, 'ap-south': 12, 'sa-east': 8 });
const pickChannel = picker<Channel>({ web: 60, mobile: 32, api: 8 });

/** Hourly activity (UTC), peaking in the European afternoon. */
const HOURS = [3, 2, 2, 2, 3, 4, 6, 9, 12, 14, 15, 15, 14, 15, 16, 16, 15, 13, 11, 10, 8, 7, 5, 4];
const pickHour = picker(Object.fromEntries(HOURS.map((w, h) => [String(h), w])) as Record<string, number>);

/** A log-normal draw around `median` (spread `sigma`) from two uniforms. */
function logNormal(median: number, sigma: number, r1: number, r2: number): number {
	const normal = Math.sqrt(-2 * Math.log(1 - r1)) * Math.cos(2 * Math.PI * r2);
	return median * Math.exp(sigma * normal);
}

const LATENCY_BY_REGION: Record<Region, number> = { 'eu-west': 45, 'us-east': 70, 'us-west': 85, 'ap-south': 160, 'sa-east': 130 };

/** A plausible value for an event of `metric`. */
function valueOf(metric: Metric, region: Region, random: () => number): number {
	switch (metric) {
		case 'latency':
			return Math.round(logNormal(LATENCY_BY_REGION[region], 0.45, random(), random()) * 10) / 10;
		case 'messages':
			return Math.max(1, Math.round(logNormal(48, 0.8, random(), random())));
		case 'downloads':
			return Math.round(logNormal(2_500_000, 1.2, random(), random()));
		case 'uploads':
			return Math.round(logNormal(4_000_000, 1.1, random(), random()));
		default:
			return 1;
	}
}

/** How many events each day gets: `total` spread over `days` with growth, weekly rhythm and noise; sums to `total` exactly. */
export function dailyCounts(total: number, days: number, firstDay: number, seed: number): number[] {
	const random = prng(seed ^ 0x9e3779b9);
	const weights = Array.from({ length: days }, (_, d) => {
		const weekday = new Date(firstDay + d * DAY_MS).getUTCDay();
		const weekend = weekday === 0 || weekday === 6 ? 0.62 : 1;
		const growth = 0.75 + 0.5 * (d / Math.max(1, days - 1));
		return weekend * growth * (0.85 + 0.3 * random());
	});
	const sum = weights.reduce((a, b) => a + b, 0);
	let carried = 0;
	let given = 0;
	return weights.map((w) => {
		carried += (w / sum) * total;
		const count = Math.round(carried) - given;
		given += count;
		return count;
	});
}

/**
 * The events of the 24 hours from `dayStart` (day `index` of the history), in time order; the
 * same arguments give the same events. `dayStart` need not be midnight: hours follow UTC.
 */
export function eventsOfDay(dayStart: number, count: number, seed: number, index: number): SeedEvent[] {
	const random = prng((seed * 7919 + index * 104_729) >>> 0);
	const startHour = new Date(dayStart).getUTCHours();
	const events: SeedEvent[] = [];
	for (let i = 0; i < count; i++) {
		const hour = (Number(pickHour(random())) - startHour + 24) % 24;
		const time = dayStart + hour * 3_600_000 + Math.floor(random() * 3_600_000);
		const metric = pickMetric(random());
		const region = pickRegion(random());
		const channel = metric === 'latency' || metric === 'page_views' ? pickChannel(random()) : pickChannel(random() * 0.92);
		events.push({ time, metric, region, channel, value: valueOf(metric, region, random) });
	}
	return events.sort((a, b) => a.time - b.time);
}

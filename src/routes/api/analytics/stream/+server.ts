import type { RequestHandler } from '@sveltejs/kit';
import * as analytics from '$lib/server/analytics';
import { handleErrors } from '$lib/server/http';
import { runtime } from '$lib/server/runtime';
import type { AnalyticsLine, Bucket, Channel, Metric, Region } from '$lib/shared/analytics';
import { ndjson } from '$lib/stream/server';

export type Query = {
	/** Unix ms or an ISO date; default: 24 hours before `to`. */
	from?: number | string;
	/** Unix ms or an ISO date, exclusive; default: now. Not with `follow`. */
	to?: number | string;
	metric?: Metric[];
	region?: Region[];
	channel?: Channel[];
	/** Rollups per bucket instead of raw records. */
	bucket?: Bucket;
	/** Resume after this cursor. */
	after?: string;
	/** After history, stay open with live records. */
	follow?: 0 | 1;
};

/**
 * Analytics as NDJSON: a `meta` line (with the total), then records or rollups (`bucket`) of the
 * window, each with a cursor (`after` resumes), then live ones with `follow=1`. 400 for a bad filter.
 */
export const GET = (({ request, url }) =>
	handleErrors(async () => {
		const wanted = analytics.readStreamRequest(url.searchParams, Date.now());
		return ndjson<AnalyticsLine>(request, ({ signal }) => analytics.stream(wanted, signal), {
			onError: (error) => runtime().log.error({ err: error }, 'analytics stream failed')
		});
	})) satisfies RequestHandler;

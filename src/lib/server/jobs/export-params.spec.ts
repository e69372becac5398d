import { describe, expect, it } from 'vitest';
import { HttpError } from '../errors';
import { exportParams } from './export-params';

const NOW = Date.UTC(2026, 10, 21, 12);
const DAY = 86_400_000;

function refusal(input: unknown): string {
	try {
		exportParams(input, NOW);
	} catch (error) {
		expect(error).toBeInstanceOf(HttpError);
		expect((error as HttpError).status).toBe(400);
		return (error as Error).message;
	}
	return expect.unreachable('expected a 400');
}

describe('exportParams', () => {
	it('defaults to the last 24 hours, every value, CSV', () => {
		expect(exportParams(undefined, NOW)).toEqual({ from: NOW - DAY, to: NOW, metric: null, region: null, channel: null, format: 'csv' });
		expect(exportParams({}, NOW)).toEqual(exportParams(null, NOW));
	});

	it('reads times as Unix ms or ISO dates and lists as arrays or single names, and keeps `to` at now at most', () => {
		const params = exportParams(
			{ from: '2026-11-01T00:00:00Z', to: NOW + 5 * DAY, metric: ['signins', 'page_views', 'signins'], region: 'eu-west', channel: ['api'], format: 'ndjson' },
			NOW
		);
		expect(params).toEqual({
			from: Date.UTC(2026, 10, 1),
			to: NOW,
			metric: ['signins', 'page_views'],
			region: ['eu-west'],
			channel: ['api'],
			format: 'ndjson'
		});
	});

	it('refuses anything else with the reason', () => {
		expect(refusal([])).toBe('"params" must be an object such as {"from": …, "format": "csv"}.');
		expect(refusal({ bucket: '1h' })).toBe('Unknown export parameter "bucket": use from, to, metric, region, channel, format.');
		expect(refusal({ format: 'xlsx' })).toBe('"format" must be one of csv, ndjson.');
		expect(refusal({ metric: ['signins', 'nope'] })).toBe('Unknown metric "nope": use one of page_views, signins, messages, downloads, uploads, jobs, latency.');
		expect(refusal({ region: 3 })).toBe('"region" must be a name or a list of names.');
		expect(refusal({ from: { at: 1 } })).toBe('"from" must be Unix milliseconds or an ISO date.');
		expect(refusal({ from: 'yesterday' })).toMatch(/^"from" must be a time: Unix milliseconds or an ISO date/);
		expect(refusal({ from: NOW - DAY, to: NOW - 2 * DAY })).toMatch(/^"from" \(.*\) is after "to"/);
		expect(refusal({ from: NOW + DAY })).toBe('"from" must be before "to" and not in the future: the window is empty.');
		expect(refusal({ from: NOW - 93 * DAY })).toBe('An export covers at most 92 days; narrow "from" and "to".');
		expect(refusal({ from: 0 })).toBe('An export covers at most 92 days; narrow "from" and "to".');
	});
});

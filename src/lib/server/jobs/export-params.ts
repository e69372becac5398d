// An export's parameters from a request body, checked like the analytics stream's filters (same reasons, 400).
import { EXPORT_FORMATS, type ExportFormat, type ExportParams } from '$lib/shared/jobs';
import { METRIC_NAMES } from '$lib/shared/analytics';
import { readStreamRequest, MAX_WINDOW_DAYS } from '../analytics/window';
import { HttpError } from '../errors';

const DAY = 86_400_000;
const KEYS = ['from', 'to', 'metric', 'region', 'channel', 'format'];

/** A JSON value as the query parameter readStreamRequest reads: lists joined with ",". */
function asParam(name: string, value: unknown): string {
	const isTime = name === 'from' || name === 'to';
	if (isTime && typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) return String(value);
	if (typeof value === 'string') return value;
	if (!isTime && Array.isArray(value) && value.every((item) => typeof item === 'string')) return value.join(',');
	throw new HttpError(400, `"${name}" must be ${isTime ? 'Unix milliseconds or an ISO date' : 'a name or a list of names'}.`);
}

/** readStreamRequest, its "too large for buckets" reason told the way an export needs it. */
function readWindow(search: URLSearchParams, now: number) {
	try {
		return readStreamRequest(search, now);
	} catch (error) {
		if ((error as Error).name === 'HttpError' && /^A window of \d+ days/.test((error as Error).message)) throw tooLarge();
		throw error;
	}
}

const tooLarge = () => new HttpError(400, `An export covers at most ${MAX_WINDOW_DAYS.raw} days; narrow "from" and "to".`);

/**
 * Checks an export's parameters (`from`, `to`, `metric`, `region`, `channel`, `format`) and
 * resolves them: `to` defaults to now and is never later than now (an export is a snapshot),
 * `from` to 24 hours before `to`; the window is at most MAX_WINDOW_DAYS.raw days. A 400 HttpError
 * names what is wrong.
 * @example exportParams({ from: '2026-11-01', metric: ['signins'], format: 'csv' }, Date.now());
 */
export function exportParams(input: unknown, now: number): ExportParams {
	input ??= {};
	if (typeof input !== 'object' || input === null || Array.isArray(input)) throw new HttpError(400, '"params" must be an object such as {"from": …, "format": "csv"}.');
	const unknown = Object.keys(input).find((key) => !KEYS.includes(key));
	if (unknown) throw new HttpError(400, `Unknown export parameter "${unknown.slice(0, 40)}": use ${KEYS.join(', ')}.`);
	const { format = 'csv', ...filters } = input as Record<string, unknown>;
	if (!(EXPORT_FORMATS as readonly unknown[]).includes(format)) {
		throw new HttpError(400, `"format" must be one of ${EXPORT_FORMATS.join(', ')}.`);
	}
	const search = new URLSearchParams();
	for (const [name, value] of Object.entries(filters)) if (value !== undefined && value !== null) search.set(name, asParam(name, value));
	// Day buckets accept the widest window, so the reader checks the filters and times; the limit is ours.
	search.set('bucket', '1d');
	const window = readWindow(search, now);
	const end = Math.min(window.to ?? now, now);
	if (window.from >= end) throw new HttpError(400, '"from" must be before "to" and not in the future: the window is empty.');
	if (end - window.from > MAX_WINDOW_DAYS.raw * DAY) throw tooLarge();
	return {
		from: window.from,
		to: end,
		metric: window.metrics.length === METRIC_NAMES.length ? null : window.metrics,
		region: window.region,
		channel: window.channel,
		format: format as ExportFormat
	};
}

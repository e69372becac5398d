// The `export` job: the analytics records matching its filters, written page by page to a CSV or NDJSON file in Files.
import { createHash } from 'node:crypto';
import { open, unlink } from 'node:fs/promises';
import { METRIC_NAMES } from '$lib/shared/analytics';
import type { ExportParams, JobOutput, JobProgress } from '$lib/shared/jobs';
import { countWindow, eventsAfter, type EventRow } from '../analytics/events';
import type { Window } from '../analytics/window';
import * as files from '../files';
import { runtime } from '../runtime';
import type { JobContext } from './context';

/** Records one store query reads and one write takes. */
export const PAGE = 2000;

const CSV_HEADER = 'id,time,metric,region,channel,value\n';
const TYPES = { csv: 'text/csv', ndjson: 'application/x-ndjson' } as const;
const number = new Intl.NumberFormat('en');

/** A CSV field: quoted when it holds a comma, quote or line break. */
const field = (text: string) => (/[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text);

/** A page of records as file text: CSV (time as ISO 8601) or NDJSON (time as Unix ms). */
export function encodePage(rows: EventRow[], format: ExportParams['format']): string {
	let text = '';
	if (format === 'csv') {
		for (const r of rows) text += `${r.id},${new Date(r.time).toISOString()},${field(r.metric)},${field(r.region)},${field(r.channel)},${r.value}\n`;
	} else {
		for (const r of rows) text += JSON.stringify({ id: r.id, time: r.time, metric: r.metric, region: r.region, channel: r.channel, value: r.value }) + '\n';
	}
	return text;
}

/** The file's name: what it covers, e.g. `analytics-2026-11-14-to-2026-11-21.csv`. */
export function exportName(params: ExportParams): string {
	const day = (time: number) => new Date(time).toISOString().slice(0, 10);
	const metric = params.metric?.length === 1 ? `-${params.metric[0]}` : '';
	return `analytics${metric}-${day(params.from)}-to-${day(params.to)}.${params.format}`;
}

/** The filters in words, for the log. */
function describe(params: ExportParams): string {
	const list = (values: string[] | null, all: string) => (values ? values.join(', ') : all);
	return `${list(params.metric, 'all metrics')}; ${list(params.region, 'all regions')}; ${list(params.channel, 'all channels')}; ${new Date(params.from).toISOString()} to ${new Date(params.to).toISOString()}`;
}

/** The three steps, and the whole weighed by the time each takes (writing is nearly all of it). */
function progressOf(counted: boolean, written: number, total: number, published: boolean): JobProgress {
	const write = total > 0 ? Math.min(1, written / total) : counted && published ? 1 : 0;
	const steps = [
		{ name: 'count', index: counted ? 1 : 0, length: 1, unit: 'query', fraction: counted ? 1 : 0 },
		{ name: 'write', index: written, length: total, unit: 'records', fraction: write },
		{ name: 'publish', index: published ? 1 : 0, length: 1, unit: 'file', fraction: published ? 1 : 0 }
	];
	return { steps, fraction: 0.02 * steps[0].fraction + 0.96 * write + 0.02 * steps[2].fraction };
}

/**
 * Runs an export: counts the matching records, writes them a page at a time (checking for
 * cancellation between pages) while hashing them, then publishes the file into the owner's Files.
 * Any failure or stop removes the partial file.
 */
export async function runExport(ctx: JobContext): Promise<JobOutput> {
	const rt = runtime();
	const { db } = rt.store;
	const params = ctx.job.params;
	const window: Window = { from: params.from, to: params.to, metrics: params.metric ?? METRIC_NAMES, region: params.region, channel: params.channel };
	await ctx.log(`Exporting ${describe(params)} as ${params.format.toUpperCase()}.`);
	const total = await countWindow(db, { ...window, to: params.to });
	await ctx.progress(progressOf(true, 0, total, false));
	await ctx.log(`${number.format(total)} records match.`);

	const path = await ctx.scratchPath(params.format);
	const handle = await open(path, 'w');
	const hash = createHash('sha256');
	let size = 0;
	let written = 0;
	try {
		// One write in flight while the next page is read and encoded.
		let writing: Promise<unknown> = Promise.resolve();
		const write = async (text: string) => {
			const bytes = Buffer.from(text);
			hash.update(bytes);
			size += bytes.length;
			await writing;
			writing = handle.write(bytes);
			// Awaited with the next page; until then a failure must not count as unhandled.
			writing.catch(() => {});
		};
		if (params.format === 'csv') await write(CSV_HEADER);
		let after: EventRow | null = null;
		let reported = 0;
		for (;;) {
			ctx.checkpoint();
			const rows: EventRow[] = await eventsAfter(db, window, after, PAGE);
			if (rows.length) await write(encodePage(rows, params.format));
			written += rows.length;
			await ctx.progress(progressOf(true, written, total, false));
			const quarter = total ? Math.floor((written / total) * 4) : 0;
			if (quarter > reported && quarter < 4) {
				reported = quarter;
				await ctx.log(`Wrote ${number.format(written)} of ${number.format(total)} records.`);
			}
			if (rows.length < PAGE) break;
			after = rows[rows.length - 1];
			await ctx.pause(rt.config.jobPageDelayMs);
		}
		await writing;
		await handle.close();
		ctx.checkpoint();
		await ctx.log(`Wrote ${number.format(written)} records (${number.format(size)} bytes); publishing the file.`);
		const file = await files.create({
			ownerId: ctx.ownerId,
			name: exportName(params),
			size,
			sha256: hash.digest('hex'),
			type: TYPES[params.format],
			fromPath: path
		});
		await ctx.progress(progressOf(true, written, total, true));
		await ctx.flush();
		return { fileId: file.id, name: file.name, size, type: file.type, records: written };
	} catch (error) {
		await handle.close().catch(() => {});
		await unlink(path).catch(() => {});
		throw error;
	}
}

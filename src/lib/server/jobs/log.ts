// A job's log: lines stored in job_logs (all of them, for the text stream) and published as `log` events.
import { isFinished, type JobLogLine, type LogLevel } from '$lib/shared/jobs';
import { batch, type TextItem } from '$lib/stream/server';
import { runtime } from '../runtime';
import { publish, topic } from './events';
import * as table from './table';

/** Lines one store query reads. */
const PAGE = 500;

/** Stores a line of a job's log and publishes it on the job's topic. */
export async function append(jobId: number, text: string, level: LogLevel = 'info'): Promise<JobLogLine> {
	const line = await table.appendLog(runtime().store.db, jobId, level, text, Date.now());
	await publish(jobId, 'log', line);
	return line;
}

/** One log line as text: `2026-11-21T10:00:00.000Z INFO  text`. */
export function format(line: JobLogLine): string {
	return `${new Date(line.time).toISOString()} ${line.level.toUpperCase().padEnd(5)} ${line.text.replace(/\r?\n/g, ' ')}\n`;
}

/** Every stored line after `after`, a page at a time. */
async function* stored(jobId: number, after: number): AsyncGenerator<JobLogLine[]> {
	for (;;) {
		const lines = await table.logAfter(runtime().store.db, jobId, after, PAGE);
		if (lines.length) yield lines;
		if (lines.length < PAGE) return;
		after = lines[lines.length - 1].line;
	}
}

/**
 * A job's whole log as text, then its new lines as they come, until the job has ended: the bus
 * position is taken before the stored lines are read, so no line falls between the two, and lines
 * seen twice are skipped by number. When the bus can't replay that far, it reads the store again.
 * @example return text(request, ({ signal }) => log.follow(job.id, signal));
 */
export async function* follow(jobId: number, signal: AbortSignal): AsyncGenerator<TextItem> {
	const rt = runtime();
	let last = 0;
	for (;;) {
		const head = await rt.bus.head(topic(jobId));
		for await (const lines of stored(jobId, last)) {
			last = lines[lines.length - 1].line;
			yield batch(lines.map(format));
		}
		// Its last lines are stored before the job's end is: once ended, the store had them all.
		const state = await table.stateOf(rt.store.db, jobId);
		if (state === undefined || isFinished(state)) {
			for await (const lines of stored(jobId, last)) yield batch(lines.map(format));
			return;
		}
		try {
			for await (const event of rt.bus.subscribe(topic(jobId), { after: head, signal })) {
				if (event.type === 'completed') return;
				const line = event.data as JobLogLine;
				if (event.type !== 'log' || line.line <= last) continue;
				last = line.line;
				yield format(line);
			}
			return;
		} catch (error) {
			// By name: the bus may come from the other bundle's copy of its module (see runtime.ts).
			const name = (error as Error)?.name;
			if (name !== 'ReplayError' && name !== 'OverflowError') throw error;
		}
	}
}

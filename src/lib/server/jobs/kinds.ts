// The kinds of job: how each checks its parameters and how it runs.
import type { ExportParams, JobKind, JobOutput } from '$lib/shared/jobs';
import { HttpError } from '../errors';
import type { JobContext } from './context';
import { runExport } from './export';
import { exportParams } from './export-params';

/** What a kind of job is made of. */
export interface KindSpec {
	/** For people: "Export". */
	label: string;
	/** Checks and resolves the parameters sent with a job (400 HttpError otherwise). */
	params(input: unknown, now: number): ExportParams;
	/** Does the work; throws to fail, stops when `ctx.signal` aborts. */
	run(ctx: JobContext): Promise<JobOutput>;
}

/** Every kind of job. */
export const KINDS: Record<JobKind, KindSpec> = {
	export: { label: 'Export', params: exportParams, run: runExport }
};

/** Checks a job's `kind`; 400 naming the kinds there are otherwise. */
export function kindOf(value: unknown): JobKind {
	if (typeof value === 'string' && Object.hasOwn(KINDS, value)) return value as JobKind;
	throw new HttpError(400, `"kind" must be one of ${Object.keys(KINDS).join(', ')}.`);
}

import type { RequestHandler } from '@sveltejs/kit';
import { handleErrors, intParam, readJson } from '$lib/server/http';
import * as jobs from '$lib/server/jobs';
import type { ExportRequest, JobKind } from '$lib/shared/jobs';
import { json } from '$lib/stream/server';

export type Query = { before?: number; limit?: number };
export type Body = { kind: JobKind; params?: ExportRequest };

/** A page of my jobs, newest first. */
export const GET = (({ url, locals }) =>
	handleErrors(async () => {
		const before = intParam(url, 'before', 1);
		const limit = intParam(url, 'limit', 1, 100);
		return json(await jobs.list(locals.user!, { before, limit }));
	})) satisfies RequestHandler;

/** Queues a job, such as `{"kind": "export", "params": {"from": …, "format": "csv"}}`: 202 with it; 400 for bad parameters. */
export const POST = (({ request, locals }) =>
	handleErrors(async () => {
		const body = await readJson(request);
		return json(await jobs.submit(locals.user!, body), { status: 202 });
	})) satisfies RequestHandler;

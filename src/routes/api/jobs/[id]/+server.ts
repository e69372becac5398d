import type { RequestHandler } from '@sveltejs/kit';
import { handleErrors } from '$lib/server/http';
import * as jobs from '$lib/server/jobs';
import { json } from '$lib/stream/server';

/** One of my jobs; 404 otherwise. */
export const GET = (({ params, locals }) => handleErrors(async () => json(await jobs.get(locals.user!, params.id!)))) satisfies RequestHandler;

/** Cancels one of my jobs (a running one has stopped when this answers); 409 when it already finished. */
export const DELETE = (({ params, locals }) =>
	handleErrors(async () => json(await jobs.cancel(locals.user!, params.id!)))) satisfies RequestHandler;

import type { RequestHandler } from '@sveltejs/kit';
import { handleErrors } from '$lib/server/http';
import * as files from '$lib/server/files';
import { json } from '$lib/stream/server';

/** A file I may see, with the rooms of mine it was shared into; 404 otherwise. */
export const GET = (({ params, locals }) =>
	handleErrors(async () => json(await files.get(locals.user!, params.id!)))) satisfies RequestHandler;

/** Deletes my file (owner only): 200 with its id; 404 for anyone else. */
export const DELETE = (({ params, locals }) =>
	handleErrors(async () => {
		await files.remove(locals.user!, params.id!);
		return json({ id: params.id!, deleted: true });
	})) satisfies RequestHandler;

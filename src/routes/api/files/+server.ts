import type { RequestHandler } from '@sveltejs/kit';
import { handleErrors, intParam } from '$lib/server/http';
import * as files from '$lib/server/files';
import { json } from '$lib/stream/server';

export type Query = { before?: string; limit?: number };

/** A page of the files I may see (mine, shared into my rooms, public), newest first. */
export const GET = (({ url, locals }) =>
	handleErrors(async () => {
		const before = url.searchParams.get('before') ?? undefined;
		const limit = intParam(url, 'limit', 1, 100);
		return json(await files.list(locals.user!, { before, limit }));
	})) satisfies RequestHandler;

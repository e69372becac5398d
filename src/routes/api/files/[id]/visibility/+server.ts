import type { RequestHandler } from '@sveltejs/kit';
import { HttpError } from '$lib/server/errors';
import { handleErrors, readJson } from '$lib/server/http';
import * as files from '$lib/server/files';
import { json } from '$lib/stream/server';

export type Body = { public: boolean };

/** Makes my file public (every signed-in user may see it) or not; owner only. */
export const POST = (({ request, params, locals }) =>
	handleErrors(async () => {
		const body = await readJson(request);
		if (typeof body.public !== 'boolean') throw new HttpError(400, 'Send "public" as true or false.');
		return json(await files.setPublic(locals.user!, params.id!, body.public));
	})) satisfies RequestHandler;

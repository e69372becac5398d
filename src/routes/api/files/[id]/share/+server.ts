import type { RequestHandler } from '@sveltejs/kit';
import { handleErrors, readJson } from '$lib/server/http';
import * as files from '$lib/server/files';
import { json } from '$lib/stream/server';

export type Body = { roomId: number };

/** Shares my file into a room I am in (idempotent); 404 for a file not mine or a room not mine to use. */
export const POST = (({ request, params, locals }) =>
	handleErrors(async () => {
		const body = await readJson(request);
		return json(await files.share(locals.user!, params.id!, { roomId: files.roomIdOf(body.roomId) }));
	})) satisfies RequestHandler;

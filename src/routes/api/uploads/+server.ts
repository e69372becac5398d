import type { RequestHandler } from '@sveltejs/kit';
import { handleErrors, readJson } from '$lib/server/http';
import * as uploads from '$lib/server/uploads';
import { json } from '$lib/stream/server';

export type Body = { name: string; size: number; sha256: string; type?: string };

/** Starts a resumable upload of a declared size and SHA-256: 201 with its id, offset 0 and a chunk size. */
export const POST = (({ request, locals }) =>
	handleErrors(async () => {
		const body = await readJson(request);
		const upload = await uploads.start(locals.user!.id, body);
		return json(upload, { status: 201, headers: { location: `/api/uploads/${upload.id}`, 'upload-offset': '0' } });
	})) satisfies RequestHandler;

import type { RequestHandler } from '@sveltejs/kit';
import { handleErrors } from '$lib/server/http';
import * as files from '$lib/server/files';
import { file } from '$lib/stream/server';

// Not `@client downloadFile`: that name is the stream client's helper, which the generated file imports unaliased.
/**
 * Downloads a file I may see: Range, ETag, If-Range and Repr-Digest; 404 otherwise.
 * @client downloadFileById
 */
export const GET = (({ request, params, locals }) =>
	handleErrors(async () => file(request, await files.open(locals.user!, params.id!)))) satisfies RequestHandler;

/** The download's headers without its bytes. */
export const HEAD = (({ request, params, locals }) =>
	handleErrors(async () => file(request, await files.open(locals.user!, params.id!)))) satisfies RequestHandler;

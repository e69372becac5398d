import type { RequestHandler } from '@sveltejs/kit';
import { handleErrors } from '$lib/server/http';
import * as files from '$lib/server/files';
import { file } from '$lib/stream/server';

// The production server answers these itself (src/lib/server/node-level.ts) with the same
// files.openForDownload() and file(); this route serves dev and anything that reaches SvelteKit.
// Not `@client downloadFile`: that name is the stream client's helper, which the generated file imports unaliased.
/**
 * Downloads a file I may see: Range, ETag, If-Range and Repr-Digest; 404 otherwise.
 * @client downloadFileById
 */
export const GET = (({ request, params, locals }) =>
	handleErrors(async () => file(request, await files.openForDownload(locals.user!, params.id!, request)))) satisfies RequestHandler;

/** The download's headers without its bytes. */
export const HEAD = (({ request, params, locals }) =>
	handleErrors(async () => file(request, await files.openForDownload(locals.user!, params.id!, request)))) satisfies RequestHandler;

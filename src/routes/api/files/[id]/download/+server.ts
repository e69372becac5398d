import type { RequestHandler } from '@sveltejs/kit';
import * as analytics from '$lib/server/analytics';
import { handleErrors } from '$lib/server/http';
import * as files from '$lib/server/files';
import { file } from '$lib/stream/server';

// Not `@client downloadFile`: that name is the stream client's helper, which the generated file imports unaliased.
/**
 * Downloads a file I may see: Range, ETag, If-Range and Repr-Digest; 404 otherwise.
 * @client downloadFileById
 */
export const GET = (({ request, params, locals }) =>
	handleErrors(async () => {
		const source = await files.open(locals.user!, params.id!);
		// A download that starts at byte 0 counts once; its resumes (later ranges) don't.
		const range = request.headers.get('range');
		if (!range || /^bytes=0-/.test(range)) {
			void analytics.track({ metric: 'downloads', value: source.size, userId: locals.user!.id, userAgent: request.headers.get('user-agent') });
		}
		return file(request, source);
	})) satisfies RequestHandler;

/** The download's headers without its bytes. */
export const HEAD = (({ request, params, locals }) =>
	handleErrors(async () => file(request, await files.open(locals.user!, params.id!)))) satisfies RequestHandler;

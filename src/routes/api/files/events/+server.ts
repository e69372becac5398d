import type { RequestHandler } from '@sveltejs/kit';
import { handleErrors } from '$lib/server/http';
import * as files from '$lib/server/files';
import { sse } from '$lib/stream/server';

/** Live changes to the files I may see: `created`, `shared`, `updated`, `removed` (and `reset`). */
export const GET = (({ request, locals }) =>
	handleErrors(async () => {
		const user = locals.user!;
		return sse<files.FileEvents>(request, (ctx) => files.stream(user, ctx), { limitKey: `user:${user.id}` });
	})) satisfies RequestHandler;

import type { RequestHandler } from '@sveltejs/kit';
import { handleErrors } from '$lib/server/http';
import * as jobs from '$lib/server/jobs';
import { runtime } from '$lib/server/runtime';
import { text } from '$lib/stream/server';

/** My job's log as plain text, from its first line, following it until the job ends. */
export const GET = (({ request, params, locals }) =>
	handleErrors(async () => {
		const user = locals.user!;
		return text(request, ({ signal }) => jobs.logText(user, params.id!, signal), {
			onError: (error) => runtime().log.error({ err: error }, 'job log stream failed')
		});
	})) satisfies RequestHandler;

import type { RequestHandler } from '@sveltejs/kit';
import { handleErrors } from '$lib/server/http';
import * as jobs from '$lib/server/jobs';
import type { JobEvents } from '$lib/shared/jobs';
import { sse } from '$lib/stream/server';

/**
 * My job's status stream: `estimation` while queued, `progress` and `log` while running,
 * `heartbeat`s, and a last `completed`; resumes by Last-Event-ID; 204 once there is nothing more.
 */
export const GET = (({ request, params, locals }) =>
	handleErrors(async () => {
		const user = locals.user!;
		return sse<JobEvents>(request, (ctx) => jobs.stream(user, params.id!, ctx), { limitKey: `user:${user.id}` });
	})) satisfies RequestHandler;

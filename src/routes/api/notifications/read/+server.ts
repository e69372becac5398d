import type { RequestHandler } from '@sveltejs/kit';
import { handleErrors, readJson } from '$lib/server/http';
import * as notifications from '$lib/server/notifications';
import * as validate from '$lib/server/notifications/validate';
import { json } from '$lib/stream/server';

export type Body = { ids: number[] } | { all: true };

/** Marks some or all of my notifications read; answers with the unread count. */
export const POST = (({ request, locals }) =>
	handleErrors(async () => {
		const body = await readJson(request);
		const which = body.all === true ? { all: true as const } : { ids: validate.ids(body.ids) };
		return json(await notifications.markRead(locals.user!.id, which));
	})) satisfies RequestHandler;

import type { RequestHandler } from '@sveltejs/kit';
import { HttpError } from '$lib/server/errors';
import { handleErrors, readJson } from '$lib/server/http';
import * as notifications from '$lib/server/notifications';
import { json } from '$lib/stream/server';

export type Body = { title: string; body: string; link?: string };

/** An admin's system announcement to every user: 201 with how many received it. */
export const POST = (({ request, locals }) =>
	handleErrors(async () => {
		if (locals.user!.role !== 'admin') throw new HttpError(403, 'Only an admin can send announcements.');
		const body = await readJson(request);
		return json({ recipients: await notifications.announce(body as Body) }, { status: 201 });
	})) satisfies RequestHandler;

import type { RequestHandler } from '@sveltejs/kit';
import { handleErrors, intParam, readJson } from '$lib/server/http';
import * as notifications from '$lib/server/notifications';
import { json } from '$lib/stream/server';

export type Query = { before?: number; limit?: number };
export type Body = { title: string; body: string; link?: string };

/** A page of my notifications, newest first. */
export const GET = (({ url, locals }) =>
	handleErrors(async () => {
		const before = intParam(url, 'before', 1);
		const limit = intParam(url, 'limit', 1, 100);
		return json(await notifications.list(locals.user!.id, { before, limit }));
	})) satisfies RequestHandler;

/** Sends a notification to myself (for trying things out): 201 with it. */
export const POST = (({ request, locals }) =>
	handleErrors(async () => {
		const body = await readJson(request);
		return json(await notifications.send(locals.user!.id, { type: 'message', ...body } as never), { status: 201 });
	})) satisfies RequestHandler;

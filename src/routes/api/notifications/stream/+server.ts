import type { RequestHandler } from '@sveltejs/kit';
import { handleErrors } from '$lib/server/http';
import * as notifications from '$lib/server/notifications';
import * as validate from '$lib/server/notifications/validate';
import type { NotificationEvents } from '$lib/shared/notifications';
import { sse } from '$lib/stream/server';

export type Query = { types?: string[] };

/** My live notification stream: the unread count, then `notification`, `read` and `unread` events. */
export const GET = (({ request, url, locals }) =>
	handleErrors(async () => {
		const types = validate.types(url.searchParams.get('types'));
		const userId = locals.user!.id;
		return sse<NotificationEvents>(request, (ctx) => notifications.stream(userId, ctx, types), { limitKey: `user:${userId}` });
	})) satisfies RequestHandler;

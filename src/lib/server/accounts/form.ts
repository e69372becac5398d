import { fail, redirect, type RequestEvent } from '@sveltejs/kit';
import { HttpError } from '../errors';
import * as accounts from './index';
import { safeRedirect, setSessionCookie } from './cookie';

/** Runs a sign-in or sign-up form: on success starts a session and redirects; on a bad input fails with its message. */
export async function submit(
	event: RequestEvent,
	check: (name: unknown, password: unknown, ip: string, userAgent: string | null) => Promise<accounts.SessionUser>
) {
	const form = await event.request.formData();
	const name = form.get('name');
	let user: accounts.SessionUser;
	try {
		user = await check(name, form.get('password'), event.getClientAddress(), event.request.headers.get('user-agent'));
	} catch (error) {
		if (error instanceof HttpError) return fail(error.status, { name: typeof name === 'string' ? name : '', error: error.message });
		throw error;
	}
	const session = await accounts.createSession(user.id);
	setSessionCookie(event.cookies, event.url, session.token, session.expires);
	redirect(303, safeRedirect(event.url.searchParams.get('redirectTo')));
}

import type { RequestHandler } from '@sveltejs/kit';
import * as accounts from '$lib/server/accounts';
import { setSessionCookie } from '$lib/server/accounts/cookie';
import { handleErrors, readJson } from '$lib/server/http';
import { json } from '$lib/stream/server';

export type Body = { name: string; password: string };

/** Creates an account and signs it in: 201 with the user and the session cookie. */
export const POST = (({ request, cookies, url }) =>
	handleErrors(async () => {
		const body = await readJson(request);
		const user = await accounts.signUp(body.name, body.password);
		const session = await accounts.createSession(user.id);
		setSessionCookie(cookies, url, session.token, session.expires);
		return json({ user }, { status: 201 });
	})) satisfies RequestHandler;

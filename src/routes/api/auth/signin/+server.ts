import type { RequestHandler } from '@sveltejs/kit';
import * as accounts from '$lib/server/accounts';
import { setSessionCookie } from '$lib/server/accounts/cookie';
import { handleErrors, readJson } from '$lib/server/http';
import { json } from '$lib/stream/server';

export type Body = { name: string; password: string };

/** Signs in: 200 with the user and the session cookie; 400, 401 or 429 with a reason. */
export const POST = (({ request, cookies, url, getClientAddress }) =>
	handleErrors(async () => {
		const body = await readJson(request);
		const user = await accounts.signIn(body.name, body.password, getClientAddress(), request.headers.get('user-agent'));
		const session = await accounts.createSession(user.id);
		setSessionCookie(cookies, url, session.token, session.expires);
		return json({ user });
	})) satisfies RequestHandler;

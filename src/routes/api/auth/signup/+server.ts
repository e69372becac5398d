import type { RequestHandler } from './$types';
import * as accounts from '$lib/server/accounts';
import { setSessionCookie } from '$lib/server/accounts/cookie';
import { handleErrors, readJson } from '$lib/server/http';

/** Creates an account and signs it in: 201 with the user and the session cookie. */
export const POST: RequestHandler = ({ request, cookies, url }) =>
	handleErrors(async () => {
		const body = await readJson(request);
		const user = await accounts.signUp(body.name, body.password);
		const session = await accounts.createSession(user.id);
		setSessionCookie(cookies, url, session.token, session.expires);
		return Response.json({ user }, { status: 201 });
	});

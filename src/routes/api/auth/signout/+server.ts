import type { RequestHandler } from './$types';
import * as accounts from '$lib/server/accounts';
import { clearSessionCookie } from '$lib/server/accounts/cookie';

/** Ends the session (and closes its sockets): 204, signed in or not. */
export const POST: RequestHandler = async ({ cookies, url }) => {
	await accounts.signOut(cookies.get(accounts.SESSION_COOKIE));
	clearSessionCookie(cookies, url);
	return new Response(null, { status: 204 });
};

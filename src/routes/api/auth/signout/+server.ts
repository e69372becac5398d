import type { RequestHandler } from '@sveltejs/kit';
import * as accounts from '$lib/server/accounts';
import { clearSessionCookie } from '$lib/server/accounts/cookie';
import { json } from '$lib/stream/server';

/** Ends the session (and closes its sockets); succeeds signed in or not. */
export const POST = (async ({ cookies, url }) => {
	await accounts.signOut(cookies.get(accounts.SESSION_COOKIE));
	clearSessionCookie(cookies, url);
	return json({ signedOut: true });
}) satisfies RequestHandler;

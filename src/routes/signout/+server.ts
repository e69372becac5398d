import { redirect } from '@sveltejs/kit';
import type { RequestHandler } from './$types';
import * as accounts from '$lib/server/accounts';
import { clearSessionCookie } from '$lib/server/accounts/cookie';

/** The header's sign-out form: ends the session and goes to the sign-in page. */
export const POST: RequestHandler = async ({ cookies, url }) => {
	await accounts.signOut(cookies.get(accounts.SESSION_COOKIE));
	clearSessionCookie(cookies, url);
	redirect(303, '/signin?signedOut=1');
};

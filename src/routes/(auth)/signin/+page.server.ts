import { redirect } from '@sveltejs/kit';
import type { Actions, PageServerLoad } from './$types';
import * as accounts from '$lib/server/accounts';
import { safeRedirect } from '$lib/server/accounts/cookie';
import { submit } from '$lib/server/accounts/form';
import { runtime } from '$lib/server/runtime';
import { DEMO_USER } from '$lib/server/seed';

export const load: PageServerLoad = ({ locals, url }) => {
	if (locals.user) redirect(303, safeRedirect(url.searchParams.get('redirectTo')));
	return {
		signedOut: url.searchParams.has('signedOut'),
		demo: runtime().config.demoData ? DEMO_USER : null
	};
};

export const actions: Actions = {
	default: (event) => submit(event, accounts.signIn)
};

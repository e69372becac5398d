import { redirect } from '@sveltejs/kit';
import type { Actions, PageServerLoad } from './$types';
import * as accounts from '$lib/server/accounts';
import { submit } from '$lib/server/accounts/form';

export const load: PageServerLoad = ({ locals }) => {
	if (locals.user) redirect(303, '/');
};

export const actions: Actions = {
	default: (event) => submit(event, (name, password) => accounts.signUp(name, password))
};

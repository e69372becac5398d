import { test as base, expect, type APIRequestContext, type Page } from '@playwright/test';
import { startServer, type AppServer } from './server';

export { expect };

/** `app` is a fresh production server per test (`serverEnv` adds to its environment); `baseURL` points at it. */
export const test = base.extend<{ app: AppServer; serverEnv: Record<string, string> }>({
	serverEnv: [{}, { option: true }],
	app: async ({ serverEnv }, use) => {
		const app = await startServer({ env: serverEnv });
		await use(app);
		await app.stop();
	},
	baseURL: async ({ app }, use) => use(app.url)
});

let counter = 0;

/** A user name unique within the run. */
export function uniqueName(prefix = 'user'): string {
	return `${prefix}${process.pid % 1000}${Date.now() % 100000}${counter++}`;
}

/** Signs up through the JSON API; the request context (or page) keeps the session cookie. */
export async function signUpApi(request: APIRequestContext, name = uniqueName(), password = 'password-123') {
	const response = await request.post('/api/auth/signup', { data: { name, password } });
	expect(response.status(), await response.text()).toBe(201);
	return { name, password };
}

/** Signs in through the form on /signin. */
export async function signInUi(page: Page, name: string, password: string) {
	await page.goto('/signin');
	await page.getByLabel('User name').fill(name);
	await page.getByLabel('Password').fill(password);
	await page.getByRole('button', { name: 'Sign in' }).click();
	await expect(page.getByTestId('current-user')).toHaveText(name);
}

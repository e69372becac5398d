import { expect, signInUi, test, uniqueName } from './support/fixtures';

const PAGES = [
	{ link: 'Chat', heading: 'Chat', path: '/chat' },
	{ link: 'Dashboard', heading: 'Dashboard', path: '/dashboard' },
	{ link: 'Files', heading: 'Files', path: '/files' },
	{ link: 'Jobs', heading: 'Jobs', path: '/jobs' },
	{ link: 'Notifications', heading: 'Notifications', path: '/notifications' }
];

test('sign up, sign out, sign in, visit every page, sign out', async ({ page }) => {
	const name = uniqueName('ana');
	await page.goto('/');
	await expect(page).toHaveURL(/\/signin$/);
	await page.getByRole('link', { name: 'Create an account' }).click();
	await expect(page.getByRole('heading', { name: 'Create an account' })).toBeVisible();
	await page.getByLabel('User name').fill(name);
	await page.getByLabel('Password').fill('a-good-password');
	await page.getByRole('button', { name: 'Create account' }).click();
	await expect(page.getByTestId('current-user')).toHaveText(name);
	await expect(page.getByRole('heading', { name: `Welcome, ${name}` })).toBeVisible();

	await page.getByRole('button', { name: 'Sign out' }).click();
	await expect(page).toHaveURL(/\/signin\?signedOut=1$/);
	await expect(page.getByText('You are signed out.')).toBeVisible();

	await signInUi(page, name, 'a-good-password');
	for (const { link, heading, path } of PAGES) {
		const navLink = page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: link });
		await navLink.click();
		await expect(page).toHaveURL(new RegExp(`${path}$`));
		await expect(page.getByRole('heading', { level: 1, name: heading })).toBeVisible();
		await expect(navLink).toHaveAttribute('aria-current', 'page');
	}

	await page.getByRole('button', { name: 'Sign out' }).click();
	await expect(page).toHaveURL(/\/signin/);
	await page.goto('/files');
	await expect(page).toHaveURL(/\/signin\?redirectTo=%2Ffiles$/);
});

test('the demo user signs in and lands where they were going', async ({ page }) => {
	await page.goto('/jobs');
	await expect(page).toHaveURL(/redirectTo=%2Fjobs/);
	await page.getByLabel('User name').fill('demo');
	await page.getByLabel('Password').fill('runnel-demo');
	await page.getByRole('button', { name: 'Sign in' }).click();
	await expect(page).toHaveURL(/\/jobs$/);
	await expect(page.getByTestId('current-user')).toHaveText('demo');
});

test('bad input gets a clear message on the form and keeps the name', async ({ page }) => {
	await page.goto('/signup');
	const nameField = page.getByLabel('User name');
	const submit = page.getByRole('button', { name: 'Create account' });

	await nameField.fill('ab');
	await page.getByLabel('Password').fill('a-good-password');
	await submit.click();
	await expect(page.getByRole('alert')).toHaveText('The user name must be at least 3 characters.');
	await expect(nameField).toHaveValue('ab');

	await nameField.fill('x'.repeat(40));
	await submit.click();
	await expect(page.getByRole('alert')).toHaveText('The user name must be at most 32 characters.');

	await nameField.fill('bad name!');
	await submit.click();
	await expect(page.getByRole('alert')).toContainText('letters, digits');

	await nameField.fill('fresh-user');
	await page.getByLabel('Password').fill('short');
	await submit.click();
	await expect(page.getByRole('alert')).toHaveText('The password must be at least 8 characters.');

	await nameField.fill('DEMO');
	await page.getByLabel('Password').fill('a-good-password');
	await submit.click();
	await expect(page.getByRole('alert')).toHaveText('The name "DEMO" is taken. Choose another.');

	await page.goto('/signin');
	await page.getByLabel('User name').fill('demo');
	await page.getByLabel('Password').fill('not-the-password');
	await page.getByRole('button', { name: 'Sign in' }).click();
	await expect(page.getByRole('alert')).toHaveText('Wrong user name or password.');
	await expect(page.getByLabel('User name')).toHaveValue('demo');
});

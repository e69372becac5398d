import { expect, signUpApi, test } from './support/fixtures';

test('two tabs of one user see a notification live; marking read in one updates the other', async ({ page, context }) => {
	await signUpApi(page.request);
	const other = await context.newPage();
	await page.goto('/notifications');
	await other.goto('/chat');
	// Both streams are live: a notification stored before one had started would be listed, not toasted.
	for (const tab of [page, other]) await expect(tab.locator('[data-live="yes"]')).toHaveCount(1);
	await expect(page.getByText('You are all caught up')).toBeVisible();
	await expect(page.getByTestId('unread-badge')).toHaveCount(0);

	const response = await page.request.post('/api/notifications', { data: { title: 'Build finished', body: 'All green.', link: '/jobs' } });
	expect(response.status()).toBe(201);

	// The toast first: it goes away by itself after a few seconds.
	await expect(other.getByRole('status').filter({ hasText: 'Build finished' })).toBeVisible();
	for (const tab of [page, other]) await expect(tab.getByTestId('unread-badge')).toHaveText('1');
	const item = page.getByTestId('notification').filter({ hasText: 'Build finished' });
	await expect(item).toContainText('All green.');
	// The list shows it already: no toast on the Notifications page itself.
	await expect(page.getByRole('status').filter({ hasText: 'Build finished' })).toHaveCount(0);

	await item.getByRole('button', { name: /Mark read/ }).click();
	await expect(page.getByTestId('unread-badge')).toHaveCount(0);
	await expect(other.getByTestId('unread-badge')).toHaveCount(0);
});

test('the notifications page pages through history and marks all read', async ({ page }) => {
	await signUpApi(page.request);
	for (let i = 1; i <= 25; i++) {
		await page.request.post('/api/notifications', { data: { title: `Note ${i}`, body: `Body ${i}` } });
	}
	await page.goto('/notifications');
	await expect(page.getByTestId('unread-badge')).toHaveText('25');
	await expect(page.getByTestId('notification')).toHaveCount(20);
	await expect(page.getByTestId('notification').first()).toContainText('Note 25');
	await page.getByRole('button', { name: 'Load older' }).click();
	await expect(page.getByTestId('notification')).toHaveCount(25);
	await expect(page.getByTestId('notification').last()).toContainText('Note 1');
	await expect(page.getByRole('button', { name: 'Load older' })).toHaveCount(0);

	await page.getByRole('button', { name: 'Mark all read' }).click();
	await expect(page.getByTestId('unread-badge')).toHaveCount(0);
	await expect(page.getByRole('button', { name: 'Mark all read' })).toBeDisabled();
});

test('an admin announcement reaches every signed-in user live', async ({ page, browser, baseURL }) => {
	await signUpApi(page.request);
	await page.goto('/');
	await expect(page.locator('[data-live="yes"]')).toHaveCount(1);
	const admin = await browser.newContext({ baseURL });
	const adminPage = await admin.newPage();
	const signin = await adminPage.request.post('/api/auth/signin', { data: { name: 'demo', password: 'runnel-demo' } });
	expect(signin.status()).toBe(200);
	await adminPage.goto('/notifications');
	await adminPage.getByText('Send a test notification').click();
	await adminPage.getByLabel('Title').fill('Maintenance tonight');
	await adminPage.getByLabel('Message').fill('From 22:00 to 22:15.');
	await adminPage.getByLabel('Announce to everyone').check();
	await adminPage.getByRole('button', { name: 'Send' }).click();
	await expect(adminPage.getByText(/Announced to \d+ users/)).toBeVisible();

	await expect(page.getByTestId('unread-badge')).toHaveText('1');
	await expect(page.getByRole('status').filter({ hasText: 'Maintenance tonight' })).toBeVisible();

	const denied = await page.request.post('/api/notifications/announce', { data: { title: 'x', body: 'y' } });
	expect(denied.status()).toBe(403);
	await admin.close();
});

test('the generated stream helper resumes after the server is killed and restarted', async ({ browser }) => {
	const { freePort } = await import('./support/clients');
	const { startServer } = await import('./support/server');
	const env = { PORT: String(await freePort()) };
	let app = await startServer({ env });
	const dataDir = app.dataDir;
	try {
		const context = await browser.newContext({ baseURL: app.url });
		const page = await context.newPage();
		await signUpApi(page.request);
		await page.goto('/notifications');
		await expect(page.locator('[data-live="yes"]')).toHaveCount(1);
		await page.request.post('/api/notifications', { data: { title: 'Before the crash', body: '' } });
		await expect(page.getByTestId('unread-badge')).toHaveText('1');
		// Shown before the crash: a miss after the restart then points at the resume, not the first load.
		await expect(page.getByTestId('notification')).toHaveText([/Before the crash/]);

		app.process.kill('SIGKILL');
		await new Promise((resolve) => app.process.once('exit', resolve));
		await expect(page.getByText('Live updates paused')).toBeVisible();
		app = await startServer({ dataDir, env });
		for (const title of ['After one', 'After two']) {
			expect((await page.request.post('/api/notifications', { data: { title, body: '' } })).status()).toBe(201);
		}
		await expect(page.getByTestId('unread-badge')).toHaveText('3', { timeout: 20_000 });
		await expect(page.getByText('Live updates paused')).toHaveCount(0);
		await expect(page.getByTestId('notification')).toHaveText([/After two/, /After one/, /Before the crash/]);
		await context.close();
	} finally {
		await app.stop();
		(await import('node:fs')).rmSync(dataDir, { recursive: true, force: true });
	}
});

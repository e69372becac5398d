import { signUp } from './support/clients';
import { expect, signInUi, test, uniqueName } from './support/fixtures';

test('the dashboard streams the history with progress, draws its charts, then goes live', async ({ page, browser, app }) => {
	await signInUi(page, 'demo', 'runnel-demo');
	await page.goto('/dashboard');
	const status = page.getByTestId('stream-status');
	await expect(status).toHaveAttribute('data-status', 'live', { timeout: 30_000 });

	// The counter ends at the total the stream announced, and each selected metric has a tile and a chart.
	const counter = await page.getByTestId('loaded-in').textContent();
	expect(Number(counter!.replace(/,/g, '').match(/^(\d+) records/)![1])).toBeGreaterThan(1000);
	await expect(page.locator('[data-testid^="kpi-"]')).toHaveCount(7);
	await expect(page.locator('.chart canvas')).toHaveCount(7);
	await expect(page.getByTestId('latest-records').locator('tr')).toHaveCount(12);
	const signinsBefore = await page.getByTestId('kpi-signins').locator('.kpi-value').textContent();

	// A sign-in in another browser context shows up live.
	const other = await browser.newContext({ baseURL: app.url, userAgent: 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) Mobile' });
	const name = uniqueName('dash');
	await signUp(app.url, name);
	const otherPage = await other.newPage();
	await signInUi(otherPage, name, 'password-123');
	const row = page.getByTestId('latest-records').locator('tr').first();
	await expect(row).toContainText('Sign-ins');
	await expect(row).toContainText('mobile');
	await expect(page.getByTestId('kpi-signins').locator('.kpi-value')).not.toHaveText(signinsBefore!);
	await other.close();
});

test('filters restart the stream and every record shown matches them', async ({ page }) => {
	await signInUi(page, 'demo', 'runnel-demo');
	await page.goto('/dashboard');
	await expect(page.getByTestId('stream-status')).toHaveAttribute('data-status', 'live', { timeout: 30_000 });
	const all = Number((await page.getByTestId('loaded-in').textContent())!.replace(/,/g, '').match(/^(\d+)/)![1]);

	await page.getByLabel('Region').selectOption('ap-south');
	await page.getByRole('button', { name: 'Page views' }).click();
	await expect(page.getByTestId('stream-status')).toHaveAttribute('data-status', 'live', { timeout: 30_000 });
	const filtered = Number((await page.getByTestId('loaded-in').textContent())!.replace(/,/g, '').match(/^(\d+)/)![1]);
	expect(filtered).toBeGreaterThan(0);
	expect(filtered).toBeLessThan(all / 3);
	await expect(page.locator('[data-testid^="kpi-"]')).toHaveCount(6);
	const rows = page.getByTestId('latest-records').locator('tr');
	for (const text of await rows.allTextContents()) {
		expect(text).toContain('ap-south');
		expect(text).not.toContain('Page views');
	}

	// No metric at all: a clear empty state rather than empty charts.
	for (const label of ['Sign-ins', 'Chat messages', 'Downloaded', 'Uploaded', 'Jobs run', 'Latency']) {
		await page.getByRole('button', { name: label, exact: true }).click();
	}
	await expect(page.getByRole('heading', { name: 'No metric selected' })).toBeVisible();
});

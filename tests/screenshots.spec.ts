import { mkdirSync } from 'node:fs';
import { expect, signInUi, test } from './support/fixtures';

// Pictures to look at after a UI change: .test-output/screenshots/; `DOCS_SCREENSHOTS=1` also refreshes docs/.
const SIZES = { desktop: { width: 1280, height: 800 }, phone: { width: 390, height: 844 } };
const DIR = '.test-output/screenshots';
mkdirSync(DIR, { recursive: true });

for (const [size, viewport] of Object.entries(SIZES)) {
	test(`screenshots on ${size}: sign-in and the signed-in layout`, async ({ page }) => {
		await page.setViewportSize(viewport);
		await page.goto('/signin');
		await expect(page.getByRole('heading', { name: 'Sign in' })).toBeVisible();
		await page.screenshot({ path: `${DIR}/signin-${size}.png` });

		await signInUi(page, 'demo', 'runnel-demo');
		await expect(page.getByRole('heading', { name: 'Welcome, demo' })).toBeVisible();
		await page.screenshot({ path: `${DIR}/home-${size}.png` });
		if (process.env.DOCS_SCREENSHOTS === '1' && size === 'desktop') await page.screenshot({ path: 'docs/screenshot.png' });

		for (const area of ['chat', 'files']) {
			await page.goto(`/${area}`);
			await page.screenshot({ path: `${DIR}/${area}-${size}.png` });
		}

		await page.goto('/notifications');
		await expect(page.getByText('You are all caught up')).toBeVisible();
		const notes = [
			{ title: 'Welcome to Runnel', body: 'Everything here updates live.', link: '/' },
			{ title: 'Export ready', body: 'analytics-2026-11.csv (12.4 MB) is ready to download.', link: '/files' },
			{ title: 'ana mentioned you in #general', body: '@demo can you look at the dashboard numbers?', link: '/chat' }
		];
		for (const data of notes) await page.request.post('/api/notifications', { data });
		await expect(page.getByTestId('notification')).toHaveCount(3);
		await page.getByTestId('notification').nth(2).getByRole('button', { name: /Mark read/ }).click();
		await expect(page.getByTestId('unread-badge')).toHaveText('2');
		await page.screenshot({ path: `${DIR}/notifications-${size}.png` });

		await page.goto('/files');
		await page.getByLabel('Choose files to upload').setInputFiles([
			{ name: 'quarterly-report.pdf', mimeType: 'application/pdf', buffer: Buffer.alloc(180_000, 7) },
			{ name: 'team-photo.jpg', mimeType: 'image/jpeg', buffer: Buffer.alloc(420_000, 3) }
		]);
		await expect(page.getByTestId('upload').getByText('Uploaded')).toHaveCount(2, { timeout: 30_000 });
		await expect(page.getByTestId('file')).toHaveCount(2);
		await page.getByTestId('file').first().getByRole('button', { name: 'Make public' }).click();
		await expect(page.getByTestId('file').first().getByText('Public')).toBeVisible();
		await page.screenshot({ path: `${DIR}/files-${size}.png`, fullPage: true });
	});
}

import { mkdirSync } from 'node:fs';
import { chatSocket, must } from './support/chat';
import { signUp } from './support/clients';
import { expect, signInUi, test } from './support/fixtures';

// Pictures to look at after a UI change: .test-output/screenshots/; `DOCS_SCREENSHOTS=1` also refreshes docs/.
const SIZES = { desktop: { width: 1280, height: 800 }, phone: { width: 390, height: 844 } };
const DIR = '.test-output/screenshots';
mkdirSync(DIR, { recursive: true });

// Slow pages make the jobs page show a running and a queued export (nothing else runs jobs).
test.use({ serverEnv: { JOB_PAGE_DELAY_MS: '400' } });

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

		await page.goto('/dashboard');
		await expect(page.getByTestId('stream-status')).toHaveAttribute('data-status', 'live', { timeout: 30_000 });
		await expect(page.locator('.chart canvas').first()).toBeVisible();
		await page.screenshot({ path: `${DIR}/dashboard-${size}.png`, fullPage: true });

		await page.goto('/files');
		await page.screenshot({ path: `${DIR}/files-empty-${size}.png` });

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

		await page.goto('/jobs');
		await expect(page.getByRole('heading', { name: 'No jobs yet' })).toBeVisible();
		await page.screenshot({ path: `${DIR}/jobs-empty-${size}.png` });
		const week = { from: Date.now() - 7 * 86_400_000, format: 'csv' };
		await page.request.post('/api/jobs', { data: { kind: 'export', params: { ...week, metric: 'signins', region: 'eu-west' } } });
		await page.reload();
		await expect(page.getByTestId('job').first().getByTestId('job-state')).toHaveText('Done', { timeout: 30_000 });
		await page.request.post('/api/jobs', { data: { kind: 'export', params: week } });
		await page.request.post('/api/jobs', { data: { kind: 'export', params: { ...week, format: 'ndjson', channel: 'mobile' } } });
		await page.reload();
		await expect(page.getByTestId('job').nth(1).getByTestId('job-state')).toHaveText('Running');
		await expect(page.getByTestId('job').first().getByTestId('job-queue')).toContainText('starts in about');
		await page.getByTestId('job').nth(1).getByRole('button', { name: 'Show log' }).click();
		await expect(page.getByTestId('job').nth(1).getByTestId('job-log')).toContainText('records match');
		await page.screenshot({ path: `${DIR}/jobs-${size}.png`, fullPage: true });
	});

	test(`screenshots on ${size}: chat`, async ({ page, app }) => {
		await page.setViewportSize(viewport);
		await signInUi(page, 'demo', 'runnel-demo');
		await page.goto('/chat');
		await expect(page.getByTestId('room').first()).toBeVisible();
		await page.screenshot({ path: `${DIR}/chat-rooms-${size}.png` });

		// Ana, another user, talks in #general over a socket of her own.
		const cookie = await signUp(app.url, 'ana');
		const ana = chatSocket(app.url, cookie);
		try {
			const general = (await must(ana, 'rooms:list')).rooms.find((r) => r.name === 'general')!;
			await must(ana, 'room:join', { roomId: general.id });
			const say = (clientId: string, text: string) => must(ana, 'message:send', { roomId: general.id, clientId, text });
			await say('s1', 'Morning! The release notes draft is up: https://example.com/notes/2026-11');
			await say('s2', '@demo could you check the numbers on the dashboard before lunch?');

			await page.getByTestId('room').filter({ hasText: 'general' }).click();
			await expect(page.getByTestId('message')).toHaveCount(2);
			const composer = page.getByRole('textbox', { name: 'Message #general' });
			await composer.fill('Sure, looking now.');
			await composer.press('Enter');
			await expect(page.getByTestId('message').filter({ hasText: 'Sure, looking now.' })).toHaveAttribute('data-state', 'sent');
			await composer.fill('Numbers look right.\nShipping notes at 3?');
			await composer.press('Enter');
			await say('s3', 'Perfect, thanks!');
			// Typing signals are volatile (one that meets a busy connection is dropped): type until it shows.
			await expect(async () => {
				ana.volatile.emit('typing:start', { roomId: general.id });
				await expect(page.getByTestId('typing')).toHaveText('ana is typing…', { timeout: 1500 });
			}).toPass({ timeout: 10_000 });
			await expect(page.getByTestId('message')).toHaveCount(5);
			// The mention's toast sits under the header, clear of the composer.
			const toast = page.getByRole('status').filter({ has: page.getByRole('button', { name: 'Dismiss' }) });
			await expect(toast).toBeVisible();
			const [toastBox, composerBox] = [await toast.boundingBox(), await composer.boundingBox()];
			expect(toastBox!.y + toastBox!.height, 'the toast ends above the composer').toBeLessThan(composerBox!.y);
			await page.screenshot({ path: `${DIR}/chat-toast-${size}.png` });
			await page.getByRole('button', { name: 'Dismiss' }).click();
			await page.screenshot({ path: `${DIR}/chat-${size}.png` });
			if (size === 'phone') {
				await page.getByRole('button', { name: 'Members' }).click();
				await expect(page.getByTestId('member')).toHaveCount(2);
				await page.screenshot({ path: `${DIR}/chat-members-${size}.png` });
			}
		} finally {
			ana.close();
		}
	});
}

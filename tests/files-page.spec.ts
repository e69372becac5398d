import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { expect, signUpApi, test } from './support/fixtures';

test('upload a file with the picker, watch progress, download it: the bytes match', async ({ page, browser, baseURL }) => {
	await signUpApi(page.request);
	const bytes = randomBytes(3 * 1024 * 1024 + 17);
	await page.goto('/files');
	await expect(page.getByText('No files yet')).toBeVisible();

	await page.getByLabel('Choose files to upload').setInputFiles({ name: 'report "Q3" ü.bin', mimeType: 'application/octet-stream', buffer: bytes });
	const row = page.getByTestId('upload').filter({ hasText: 'report "Q3" ü.bin' });
	await expect(row.getByRole('progressbar')).toBeVisible();
	await expect(row.getByText('Uploaded')).toBeVisible({ timeout: 30_000 });
	const file = page.getByTestId('file').filter({ hasText: 'report "Q3" ü.bin' });
	await expect(file).toContainText('3.0 MB');

	const downloading = page.waitForEvent('download');
	await file.getByRole('button', { name: /Download/ }).click();
	const download = await downloading;
	expect(download.suggestedFilename()).toMatch(/^report .Q3. ü\.bin$/); // Chromium swaps the quotes for _
	const saved = readFileSync((await download.path())!);
	expect(createHash('sha256').update(saved).digest('hex')).toBe(createHash('sha256').update(bytes).digest('hex'));

	// Another user does not see it until it is made public; then their list updates live.
	const other = await browser.newContext({ baseURL });
	const otherPage = await other.newPage();
	await signUpApi(otherPage.request);
	await otherPage.goto('/files');
	await expect(otherPage.getByText('No files yet')).toBeVisible();
	await file.getByRole('button', { name: 'Make public' }).click();
	await expect(file.getByText('Public')).toBeVisible();
	await expect(otherPage.getByTestId('file').filter({ hasText: 'report "Q3" ü.bin' })).toBeVisible();
	// Made private again, it leaves their list live, without a reload.
	await file.getByRole('button', { name: 'Make private' }).click();
	await expect(file.getByText('Public', { exact: true })).toHaveCount(0);
	await expect(otherPage.getByTestId('file').filter({ hasText: 'report "Q3" ü.bin' })).toHaveCount(0);
	await expect(otherPage.getByText('No files yet')).toBeVisible();
	await other.close();
});

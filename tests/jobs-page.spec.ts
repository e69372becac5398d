import { readFileSync } from 'node:fs';
import { until } from './support/clients';
import { expect, signInUi, test } from './support/fixtures';

// Each page of 2,000 records waits 1.5 s, so an export runs long enough to watch: the first test's
// filters match one page (with 150 ms a CI run saw it go from Queued to Done between two looks).
test.use({ serverEnv: { JOB_PAGE_DELAY_MS: '1500' } });

test('submit an export, watch its progress and log, download the file: it holds exactly what the filters asked for', async ({ page, app }) => {
	await until(() => app.output().includes('analytics: demo history ready'), 30_000, 'the demo history');
	await signInUi(page, 'demo', 'runnel-demo');
	await page.goto('/jobs');
	await expect(page.getByRole('heading', { name: 'No jobs yet' })).toBeVisible();

	const form = page.getByRole('form', { name: 'New export' });
	await form.getByRole('button', { name: '7d' }).click();
	for (const label of ['Chat messages', 'Downloaded', 'Uploaded', 'Jobs run', 'Latency']) {
		await form.getByRole('button', { name: label, exact: true }).click();
	}
	await form.getByLabel('Region').selectOption('eu-west');
	await form.getByLabel('CSV').check();
	await form.getByRole('button', { name: 'Start export' }).click();

	const job = page.getByTestId('job').first();
	await expect(job.getByTestId('job-state')).toHaveText('Running');
	await expect(job.getByRole('progressbar')).toBeVisible();
	await expect(job.getByTestId('job-steps')).toContainText(/Write\s*[\d,]+ \/ [\d,]+ records/i);
	await job.getByRole('button', { name: 'Show log' }).click();
	const log = job.getByTestId('job-log');
	await expect(log).toContainText(/Exporting page_views, signins; eu-west; all channels/);
	await expect(log).toContainText(/[\d,]+ records match\./);

	await expect(job.getByTestId('job-state')).toHaveText('Done', { timeout: 30_000 });
	await expect(log).toContainText(/is in Files\.\n?$/);
	const records = Number((await job.getByTestId('job-output').textContent())!.match(/([\d,]+) records/)![1].replace(/,/g, ''));
	expect(records).toBeGreaterThan(100);

	const [download] = await Promise.all([page.waitForEvent('download'), job.getByRole('button', { name: /^Download/ }).click()]);
	expect(download.suggestedFilename()).toMatch(/^analytics-\d{4}-\d\d-\d\d-to-\d{4}-\d\d-\d\d\.csv$/);
	const [header, ...rows] = readFileSync((await download.path())!, 'utf8').trimEnd().split('\n');
	expect(header).toBe('id,time,metric,region,channel,value');
	expect(rows).toHaveLength(records);
	// One check over all rows (an expect per row would trace thousands of steps): every row matches the filters.
	const weekAgo = Date.now() - 7 * 86_400_000 - 120_000;
	const wrong = rows.filter((row) => {
		const [id, time, metric, region, channel, value] = row.split(',');
		const fits = Number(id) > 0 && Date.parse(time) > weekAgo && Date.parse(time) <= Date.now();
		return !fits || !['page_views', 'signins'].includes(metric) || region !== 'eu-west' || !['web', 'mobile', 'api'].includes(channel) || !Number.isFinite(Number(value));
	});
	expect(wrong.slice(0, 5)).toEqual([]);
	expect(new Set(rows.map((row) => row.split(',')[2]))).toEqual(new Set(['page_views', 'signins']));

	// The file is in Files too, and the owner was told.
	await page.goto('/files');
	await expect(page.getByTestId('file').first()).toContainText(download.suggestedFilename());
	await page.goto('/notifications');
	await expect(page.getByTestId('notification').first()).toContainText('Export ready');
});

test('a bad filter is refused with its reason and nothing is queued; a queued export can be cancelled from the page', async ({ page, app }) => {
	await until(() => app.output().includes('analytics: demo history ready'), 30_000, 'the demo history');
	await signInUi(page, 'demo', 'runnel-demo');
	await page.goto('/jobs');
	const form = page.getByRole('form', { name: 'New export' });
	await form.getByLabel('From').fill('2020-01-01T00:00');
	await form.getByRole('button', { name: 'Start export' }).click();
	await expect(form.getByRole('alert')).toHaveText('An export covers at most 92 days; narrow "from" and "to".');
	await expect(page.getByRole('heading', { name: 'No jobs yet' })).toBeVisible();

	await form.getByRole('button', { name: '7d' }).click();
	await form.getByRole('button', { name: 'Start export' }).click();
	await form.getByRole('button', { name: 'Start export' }).click();
	const queued = page.getByTestId('job').first();
	await expect(queued.getByTestId('job-state')).toHaveText('Queued');
	await expect(queued.getByTestId('job-queue')).toContainText(/#1 in the queue of 1/);
	await queued.getByRole('button', { name: /^Cancel/ }).click();
	await expect(queued.getByTestId('job-state')).toHaveText('Cancelled');
	const running = page.getByTestId('job').nth(1);
	await expect(running.getByTestId('job-state')).toHaveText('Running');
	await running.getByRole('button', { name: /^Cancel/ }).click();
	await expect(running.getByTestId('job-state')).toHaveText('Cancelled');
});

import { randomBytes } from 'node:crypto';
import { defineConfig } from '@playwright/test';

const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';

// Names this run's PostgreSQL databases and Redis keys in cluster mode, so its teardown drops only
// its own (the workers inherit it from the main process, which sets it first).
process.env.E2E_RUN_ID ??= randomBytes(3).toString('hex');

// Every test starts its own production server (tests/support/app.ts); nothing is downloaded.
export default defineConfig({
	testDir: 'tests',
	globalTeardown: './tests/support/teardown.ts',
	timeout: 60_000,
	expect: { timeout: 10_000 },
	fullyParallel: true,
	workers: process.env.PW_WORKERS ? Number(process.env.PW_WORKERS) : 2,
	retries: 0,
	// A run on PostgreSQL (E2E_STORE=postgres, see tests/support/server.ts) has a report of its own.
	reporter: [['list'], ['json', { outputFile: process.env.E2E_STORE === 'postgres' ? '.test-output/playwright-postgres.json' : '.test-output/playwright.json' }]],
	use: {
		browserName: 'chromium',
		launchOptions: {
			executablePath: CHROMIUM,
			args: [
				'--no-sandbox',
				'--disable-gpu',
				'--disable-dev-shm-usage',
				'--disable-quic',
				'--disable-background-networking',
				'--disable-component-update',
				'--disable-sync',
				'--no-first-run'
			]
		},
		trace: 'retain-on-failure',
		screenshot: 'only-on-failure'
	}
});

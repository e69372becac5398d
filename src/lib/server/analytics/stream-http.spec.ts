// The analytics endpoint over real HTTP: errors as 400s, and a client going away frees everything.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GET } from '../../../routes/api/analytics/stream/+server';
import { serve, type TestServer } from '$lib/stream/server/test-server';
import { loadConfig } from '../config';
import { testDatabase, type TestDatabase } from '../testing/database';
import { closeRuntime, initRuntime, runtime } from '../runtime';
import { prng } from './generate';
import * as analytics from './index';

const dir = mkdtempSync(join(tmpdir(), 'runnel-analytics-http-'));
let database: TestDatabase;
let server: TestServer;

beforeAll(async () => {
	database = await testDatabase('analytics_http');
	const rt = await initRuntime(loadConfig({ DATA_DIR: dir, ...database.env, LOG_LEVEL: 'silent', ANALYTICS_SEED_EVENTS: '40000', ANALYTICS_SEED_DAYS: '5' }));
	await Promise.all(rt.background);
	server = await serve((request) => GET({ request, url: new URL(request.url) } as Parameters<typeof GET>[0]));
});
afterAll(async () => {
	await server.close();
	await closeRuntime();
	await database.drop();
	rmSync(dir, { recursive: true, force: true });
});

/** Waits (up to 3 s) for `check` to hold. */
async function eventually(check: () => boolean): Promise<void> {
	for (let i = 0; i < 300 && !check(); i++) await new Promise((resolve) => setTimeout(resolve, 10));
	expect(check()).toBe(true);
}

const timers = () => process.getActiveResourcesInfo().filter((kind) => kind === 'Timeout' || kind === 'Immediate').length;

describe('GET /api/analytics/stream over HTTP', () => {
	it('answers a bad filter with 400 and a readable reason, before any stream starts', async () => {
		const response = await fetch(`${server.url}/api/analytics/stream?metric=nope`);
		expect(response.status).toBe(400);
		expect(await response.json()).toEqual({ error: 'Unknown metric "nope": use one of page_views, signins, messages, downloads, uploads, jobs, latency.' });
		expect(analytics.openStreams()).toBe(0);
	});

	it('streams NDJSON: a meta line with the total, then that many records', async () => {
		const response = await fetch(`${server.url}/api/analytics/stream?from=${Date.now() - 6 * 86_400_000}`);
		expect(response.headers.get('content-type')).toBe('application/x-ndjson; charset=utf-8');
		const lines = (await response.text()).trimEnd().split('\n').map((line) => JSON.parse(line));
		expect(lines[0]).toMatchObject({ kind: 'meta', total: 40_000 });
		expect(lines.length).toBe(40_001);
	});

	it('frees the store reads, bus subscription and timers every time a client aborts mid-stream (100 times)', async () => {
		const random = prng(5);
		const before = timers();
		for (let i = 0; i < 100; i++) {
			const follow = i % 2 === 1;
			const query = follow ? 'follow=1&from=' + (Date.now() - 86_400_000) : `bucket=${i % 4 === 0 ? '1m' : ''}&from=${Date.now() - 2 * 86_400_000}`;
			const stop = new AbortController();
			const response = await fetch(`${server.url}/api/analytics/stream?${query}`, { signal: stop.signal });
			const reader = response.body!.getReader();
			const wanted = Math.floor(random() * 200_000);
			let got = 0;
			while (got <= wanted) {
				const { done, value } = await reader.read();
				if (done) break;
				got += value.length;
			}
			stop.abort();
			await reader.cancel().catch(() => {});
			await eventually(() => analytics.openStreams() === 0);
			await eventually(() => runtime().bus.listenerCount('analytics') === 0);
		}
		await eventually(() => timers() <= before);
	}, 60_000);
});

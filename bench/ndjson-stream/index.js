// bench/ndjson-stream: a million analytics records end to end over loopback, runnel's real endpoint
// against bare node:http servers streaming the same rows; then the dashboard loading them in Chromium.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { children, ensureBuild, guard, killAll, median, pinning, removeAtEnd, start } from '../lib/processes.js';

const here = fileURLToPath(new URL('.', import.meta.url));
const root = fileURLToPath(new URL('../..', import.meta.url));
const RECORDS = Number(process.env.BENCH_RECORDS ?? 1_000_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const DEADLINE_MS = 420_000;
guard('ndjson-stream', DEADLINE_MS);
const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';

/** The resident set of a process in bytes, from /proc. */
function rss(pid) {
	const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
	return match ? Number(match[1]) * 1024 : 0;
}

/** One download by the load process, with the server's peak RSS growth sampled meanwhile. */
async function download(pin, server, url, cookie) {
	const before = rss(server.pid);
	let peak = before;
	const sampler = setInterval(() => (peak = Math.max(peak, rss(server.pid))), 5);
	const [command, ...rest] = [...pin.load, process.execPath, join(here, 'load.js'), url, cookie];
	const child = spawn(command, rest, { stdio: ['ignore', 'pipe', 'inherit'] });
	children.add(child);
	let out = '';
	child.stdout.on('data', (chunk) => (out += chunk));
	await new Promise((resolve) => child.once('exit', resolve));
	clearInterval(sampler);
	children.delete(child);
	const result = JSON.parse(out);
	if (result.error) throw new Error(`${url}: ${result.error}`);
	return { ...result, rssGrowth: peak - before };
}


async function main() {
	ensureBuild(root);
	const pin = pinning('servers on core 0, client on core 1');
	console.log(`${RECORDS.toLocaleString('en')} records, ${ROUNDS} rounds, ${pin.note}`);
	const dataDir = removeAtEnd(mkdtempSync(join(tmpdir(), 'runnel-bench-ndjson-')));

	const seeding = performance.now();
	const runnel = await start(
		pin.server,
		[join(root, 'build/server.js')],
		{ PORT: '0', HOST: '127.0.0.1', DATA_DIR: dataDir, LOG_LEVEL: 'info', ANALYTICS_SEED_EVENTS: String(RECORDS), ANALYTICS_SEED_DAYS: '90' },
		/analytics: demo history ready/,
		180_000
	);
	const port = Number(/"port":(\d+)[^\n]*Runnel is listening/.exec(runnel.output())[1]);
	const base = `http://127.0.0.1:${port}`;
	console.log(`seeded ${RECORDS.toLocaleString('en')} records in ${((performance.now() - seeding) / 1000).toFixed(1)} s (server start included)`);
	const signin = await fetch(`${base}/api/auth/signin`, {
		method: 'POST',
		headers: { 'content-type': 'application/json' },
		body: JSON.stringify({ name: 'demo', password: 'runnel-demo' })
	});
	const cookie = /runnel_session=[^;]+/.exec(signin.headers.get('set-cookie') ?? '')?.[0];
	if (!cookie) throw new Error(`sign-in failed: ${signin.status}`);

	const from = Date.now() - 91 * 86_400_000;
	const db = join(dataDir, 'runnel.db');
	const peers = [];
	for (const [name, perWrite] of [
		['bare, 256 per write', 256],
		['bare, 1 per write', 1]
	]) {
		const peer = await start(pin.server, [join(here, 'server-bare.js'), db, String(perWrite)], {}, /\{"port":(\d+)\}/);
		peers.push({ name, child: peer.child, url: `http://127.0.0.1:${peer.match[1]}/?from=${from}` });
	}
	const contenders = [{ name: 'runnel ndjson()', child: runnel.child, url: `${base}/api/analytics/stream?from=${from}`, cookie }, ...peers];

	// A small window first, so each server's first-request costs (JIT, caches) stay out of the rounds.
	for (const contender of contenders) await download(pin, contender.child, contender.url.replace(/from=\d+/, `from=${Date.now() - 3_600_000}`), contender.cookie ?? '');
	const runs = new Map(contenders.map((c) => [c.name, []]));
	for (let round = 0; round < ROUNDS; round++) {
		for (const contender of contenders) runs.get(contender.name).push(await download(pin, contender.child, contender.url, contender.cookie ?? ''));
	}

	const rows = contenders.map(({ name }) => {
		const results = runs.get(name);
		const lines = median(results.map((r) => r.lines));
		return {
			name,
			perSecond: median(results.map((r) => (r.lines / r.ms) * 1000)),
			spread: (Math.max(...results.map((r) => r.lines / r.ms)) - Math.min(...results.map((r) => r.lines / r.ms))) / median(results.map((r) => r.lines / r.ms)),
			ttfb: median(results.map((r) => r.ttfbMs)),
			bytesPerRecord: median(results.map((r) => r.bytes)) / lines,
			lines,
			rssGrowth: Math.max(...results.map((r) => r.rssGrowth))
		};
	});
	const head = ['server', 'records/s', '±', 'TTFB ms', 'B/record', 'lines', 'peak RSS growth MB'];
	const body = rows.map((r) => [
		r.name,
		Math.round(r.perSecond).toLocaleString('en'),
		`${(r.spread * 100).toFixed(0)}%`,
		r.ttfb.toFixed(1),
		r.bytesPerRecord.toFixed(0),
		r.lines.toLocaleString('en'),
		(r.rssGrowth / 1024 / 1024).toFixed(1)
	]);
	const widths = head.map((h, i) => Math.max(h.length, ...body.map((row) => row[i].length)));
	for (const row of [head, ...body]) console.log(row.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]) : cell.padStart(widths[i]))).join('  '));

	const [ours, batched, single] = rows;
	const checks = [
		['records/s vs bare 256 per write', ours.perSecond / batched.perSecond, '>=', 0.9],
		['records/s vs bare 1 per write', ours.perSecond / single.perSecond, '>=', 1.8],
		['time to first byte (ms)', ours.ttfb, '<=', 20],
		['peak server RSS growth (MB)', ours.rssGrowth / 1024 / 1024, '<=', 64]
	];
	let missed = 0;
	console.log('');
	for (const [what, value, op, target] of checks) {
		const ok = op === '>=' ? value >= target : value <= target;
		if (!ok) missed++;
		console.log(`${ok ? 'PASS' : 'MISS'}  ${what}: ${value.toFixed(2)} (target ${op} ${target})`);
	}
	if (ours.lines !== batched.lines) {
		missed++;
		console.log(`MISS  runnel sent ${ours.lines} lines, the peer ${batched.lines}: not the same records`);
	}

	await dashboard(base);
	return missed;
}

/** How long the dashboard takes to show the whole history (90 days) in Chromium. */
async function dashboard(base) {
	if (!existsSync(CHROMIUM)) {
		console.log(`\ndashboard in Chromium: skipped (no browser at ${CHROMIUM}; apt-get install -y chromium)`);
		return;
	}
	const { chromium } = await import('@playwright/test');
	const browser = await chromium.launch({
		executablePath: CHROMIUM,
		args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run']
	});
	try {
		const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
		await page.goto(`${base}/signin`);
		await page.getByLabel('User name').fill('demo');
		await page.getByLabel('Password').fill('runnel-demo');
		await page.getByRole('button', { name: 'Sign in' }).click();
		await page.waitForURL((url) => !url.pathname.startsWith('/signin'));
		await page.goto(`${base}/dashboard`);
		const status = page.getByTestId('stream-status');
		await status.and(page.locator('[data-status="live"]')).waitFor({ timeout: 60_000 });
		const clicked = performance.now();
		await page.getByRole('button', { name: '90d' }).click();
		await status.and(page.locator('[data-status="loading"]')).waitFor({ timeout: 5_000 }).catch(() => {});
		await status.and(page.locator('[data-status="live"]')).waitFor({ timeout: 120_000 });
		const wall = performance.now() - clicked;
		const text = (await page.getByTestId('loaded-in').textContent())?.trim();
		console.log(`\ndashboard in Chromium, 90 days: "${text}"; ${(wall / 1000).toFixed(1)} s from the click to every chart drawn`);
	} finally {
		await browser.close();
	}
}

main().then(
	(missed) => {
		killAll();
		process.exit(missed ? 1 : 0);
	},
	(error) => {
		console.error(error);
		killAll();
		process.exit(1);
	}
);

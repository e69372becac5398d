// bench/jobs: an export of a million analytics records as a real job (queued, paged, hashed, published to
// Files) against a plain SQL-to-file script over the same SQLite file; then the same job with 100 SSE watchers.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { children, ensureBuild, guard, killAll, median, pinning, removeAtEnd, start } from '../lib/processes.js';

const here = fileURLToPath(new URL('.', import.meta.url));
const root = fileURLToPath(new URL('../..', import.meta.url));
const RECORDS = Number(process.env.BENCH_RECORDS ?? 1_000_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const WATCHERS = Number(process.env.BENCH_WATCHERS ?? 100);
const DEADLINE_MS = 600_000;
guard('jobs', DEADLINE_MS);

/** Runs a pinned node script to its end and parses the JSON it prints last. */
function runScript(pin, args) {
	const [command, ...rest] = [...pin, process.execPath, ...args];
	const result = spawnSync(command, rest, { encoding: 'utf8' });
	if (result.status !== 0) throw new Error(`${args[0]} failed: ${result.stderr}`);
	return JSON.parse(result.stdout.trim().split('\n').at(-1));
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function main() {
	ensureBuild(root);
	const pin = pinning('server and SQL script on core 0, watchers on core 1');
	console.log(`${RECORDS.toLocaleString('en')} records, ${ROUNDS} rounds, ${WATCHERS} watchers, ${pin.note}`);
	const dataDir = removeAtEnd(mkdtempSync(join(tmpdir(), 'runnel-bench-jobs-')));
	const seeding = performance.now();
	const runnel = await start(
		pin.server,
		[join(root, 'build/server.js')],
		{ PORT: '0', HOST: '127.0.0.1', DATA_DIR: dataDir, LOG_LEVEL: 'info', ANALYTICS_SEED_EVENTS: String(RECORDS), ANALYTICS_SEED_DAYS: '90', SSE_MAX_STREAMS_PER_USER: String(WATCHERS + 10) },
		/analytics: demo history ready/,
		240_000
	);
	const base = `http://127.0.0.1:${/"port":(\d+)[^\n]*Runnel is listening/.exec(runnel.output())[1]}`;
	console.log(`seeded ${RECORDS.toLocaleString('en')} records in ${((performance.now() - seeding) / 1000).toFixed(1)} s (server start included)`);
	const signin = await fetch(`${base}/api/auth/signin`, {
		method: 'POST',
		headers: { 'content-type': 'application/json' },
		body: JSON.stringify({ name: 'demo', password: 'runnel-demo' })
	});
	const cookie = /runnel_session=[^;]+/.exec(signin.headers.get('set-cookie') ?? '')?.[0];
	if (!cookie) throw new Error(`sign-in failed: ${signin.status}`);
	const api = async (method, path, body) => {
		const response = await fetch(`${base}${path}`, { method, headers: { cookie, 'content-type': 'application/json' }, body: body && JSON.stringify(body) });
		const json = await response.json();
		if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${JSON.stringify(json)}`);
		return json;
	};
	const to = Date.now();
	const from = to - 91 * 86_400_000;
	const whole = { from, to, format: 'csv' };
	const waitFor = async (id) => {
		for (;;) {
			const job = await api('GET', `/api/jobs/${id}`);
			if (job.state === 'succeeded') return job;
			if (job.state !== 'queued' && job.state !== 'running') throw new Error(`job ${id} ${job.state}: ${job.error}`);
			await sleep(50);
		}
	};

	/** One export of the whole history with `watchers` SSE clients on it from before it starts: it waits behind a blocker that is cancelled once they are in. */
	async function exportRun(watchers) {
		const blocker = await api('POST', '/api/jobs', { kind: 'export', params: whole });
		const job = await api('POST', '/api/jobs', { kind: 'export', params: whole });
		let load;
		let summary;
		if (watchers > 0) {
			const [command, ...rest] = [...pin.load, process.execPath, join(here, 'watch.js'), `${base}/api/jobs/${job.id}/events`, cookie, String(watchers)];
			load = spawn(command, rest, { stdio: ['ignore', 'pipe', 'inherit'] });
			children.add(load);
			let out = '';
			let connected;
			const ready = new Promise((resolve) => (connected = resolve));
			summary = new Promise((resolve, reject) => {
				load.stdout.on('data', (chunk) => {
					out += chunk;
					const lines = out.split('\n');
					out = lines.pop();
					for (const line of lines.filter(Boolean).map((text) => JSON.parse(text))) {
						if (line.error) reject(new Error(line.error));
						else if (line.connected) connected();
						else if (line.completed !== undefined) resolve(line);
					}
				});
			});
			summary.catch(() => {});
			await Promise.race([ready, summary]);
		}
		// 409: a small blocker already finished (only with a small BENCH_RECORDS).
		await fetch(`${base}/api/jobs/${blocker.id}`, { method: 'DELETE', headers: { cookie } });
		const done = await waitFor(job.id);
		const watched = summary ? await summary : null;
		if (load) children.delete(load);
		return { records: done.output.records, ms: done.finished - done.started, size: done.output.size, watched };
	}

	// Warm-up: a small export and the script once, so first-run costs (JIT, page cache) stay out of the rounds.
	await waitFor((await api('POST', '/api/jobs', { kind: 'export', params: { from: to - 86_400_000, to, format: 'csv' } })).id);
	const db = join(dataDir, 'runnel.db');
	const out = join(dataDir, 'ceiling.csv');
	runScript(pin.server, [join(here, 'sql-to-file.js'), db, out, String(from), String(to)]);

	const rounds = { ceiling: [], job: [], watched: [] };
	for (let round = 0; round < ROUNDS; round++) {
		rounds.ceiling.push(runScript(pin.server, [join(here, 'sql-to-file.js'), db, out, String(from), String(to)]));
		rounds.job.push(await exportRun(0));
		rounds.watched.push(await exportRun(WATCHERS));
	}

	const row = (name, runs) => {
		const rates = runs.map((r) => (r.records / r.ms) * 1000);
		return {
			name,
			perSecond: median(rates),
			spread: (Math.max(...rates) - Math.min(...rates)) / median(rates),
			seconds: median(runs.map((r) => r.ms)) / 1000,
			records: median(runs.map((r) => r.records)),
			mb: median(runs.map((r) => r.size ?? r.bytes)) / 1024 / 1024
		};
	};
	const rows = [row('SQL to file (ceiling)', rounds.ceiling), row('runnel export job', rounds.job), row(`job + ${WATCHERS} SSE watchers`, rounds.watched)];
	const head = ['run', 'records/s', '±', 'seconds', 'records', 'MB'];
	const body = rows.map((r) => [r.name, Math.round(r.perSecond).toLocaleString('en'), `${(r.spread * 100).toFixed(0)}%`, r.seconds.toFixed(2), r.records.toLocaleString('en'), r.mb.toFixed(1)]);
	const widths = head.map((h, i) => Math.max(h.length, ...body.map((cells) => cells[i].length)));
	for (const cells of [head, ...body]) console.log(cells.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]) : cell.padStart(widths[i]))).join('  '));
	const watched = rounds.watched.map((r) => r.watched);
	console.log(
		`\nwatchers: ${watched.map((w) => `${w.completed}/${WATCHERS} got completed, ${w.minEvents}–${w.maxEvents} events each`).join('; ')}; one stream's events: ${JSON.stringify(watched[0].types)}`
	);

	const [ceiling, job, withWatchers] = rows;
	const checks = [
		['export records/s vs SQL to file', job.perSecond / ceiling.perSecond, '>=', 0.7],
		[`slowdown with ${WATCHERS} watchers (job time ratio)`, withWatchers.seconds / job.seconds, '<=', 1.15]
	];
	let missed = 0;
	console.log('');
	for (const [what, value, op, target] of checks) {
		const ok = op === '>=' ? value >= target : value <= target;
		if (!ok) missed++;
		console.log(`${ok ? 'PASS' : 'MISS'}  ${what}: ${value.toFixed(2)} (target ${op} ${target})`);
	}
	if (job.records !== ceiling.records || withWatchers.records !== ceiling.records) {
		missed++;
		console.log(`MISS  the job wrote ${job.records} records, the script ${ceiling.records}: not the same records`);
	}
	if (watched.some((w) => w.completed !== WATCHERS)) {
		missed++;
		console.log('MISS  not every watcher got `completed`');
	}
	return missed;
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

// bench/sse-fanout: 1,000 SSE clients on loopback; runnel's sse() against bare node:http and better-sse.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { build } from 'esbuild';
import { EVENT_BYTES } from './event.js';
import { call } from './ipc.js';

const here = fileURLToPath(new URL('.', import.meta.url));
const root = fileURLToPath(new URL('../..', import.meta.url));
const buildDir = `${root}bench/.build/sse-fanout/`;

const CLIENTS = Number(process.env.BENCH_CLIENTS ?? 1000);
/** Full speed runs in rounds; the median round counts (runs vary by more than the gaps we look for). */
const FLOOD_ROUNDS = 3;
const FLOOD_MS = Number(process.env.BENCH_FLOOD_MS ?? 2000);
const FLOOD_BATCH = 8;
/**
 * Paced broadcasts for the latency row. Each reaches all 1,000 clients, so one broadcast that meets
 * a GC pause or a scheduling hiccup is 1,000 samples: with 50, p99 was whether one of 50 hit one,
 * and moved several-fold between runs for every server. 200 make p99 the two worst broadcasts'.
 */
const PACED_COUNT = Number(process.env.BENCH_PACED_COUNT ?? 200);
const PACED_INTERVAL_MS = 100;
/** The whole bench is killed past this, children included. */
const DEADLINE_MS = 300_000;
/**
 * gc() before each memory reading; the young generation held at its usual 16 MB semi-spaces from the
 * start, so that RSS does not jump by whatever V8 grows it to while 1,000 clients connect.
 */
const SERVER_FLAGS = ['--expose-gc', '--min-semi-space-size=16', '--max-semi-space-size=16'];
/** USER_HZ of /proc/stat: 100 on every Linux we run on. */
const TICKS_PER_SECOND = 100;

const CONTENDERS = [
	{ name: 'bare node:http', file: `${here}server-bare.js` },
	{ name: 'better-sse', file: `${here}server-better-sse.js` },
	{ name: 'runnel sse()', file: `${buildDir}server-runnel.js`, entry: `${here}server-runnel.js` },
	{ name: 'runnel (bus)', file: `${buildDir}server-runnel-bus.js`, entry: `${here}server-runnel-bus.js` },
	{ name: 'kit floor', file: `${buildDir}server-kit-floor.js`, entry: `${here}server-kit-floor.js` }
].filter((c, i) => i === 0 || !process.env.BENCH_ONLY || process.env.BENCH_ONLY.split(',').includes(c.name));

const children = new Set();
const dataDirs = new Set();
function killAll() {
	for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
	children.clear();
	for (const dir of dataDirs) rmSync(dir, { recursive: true, force: true });
	dataDirs.clear();
}
process.on('exit', killAll);
for (const signal of ['SIGINT', 'SIGTERM']) {
	process.on(signal, () => {
		console.error(`\nsse-fanout: ${signal}, stopping`);
		killAll();
		process.exit(130);
	});
}
setTimeout(() => {
	console.error(`sse-fanout: over ${DEADLINE_MS / 1000} s, giving up`);
	killAll();
	process.exit(1);
}, DEADLINE_MS).unref();

/** Pins to separate cores when taskset works and there are two; otherwise says so and runs unpinned. */
function pinning() {
	const cores = availableParallelism();
	const taskset = spawnSync('taskset', ['-c', '0', 'true']).status === 0;
	if (taskset && cores >= 2) return { server: ['taskset', '-c', '0'], load: ['taskset', '-c', '1'], note: 'server on core 0, clients on core 1' };
	const why = taskset ? `only ${cores} core` : 'taskset not found';
	return { server: [], load: [], note: `NOT pinned (${why}): server and clients share the CPU` };
}

/** Starts a node child with an IPC channel, a raised open-file limit and its CPU pinning. */
function startChild(pin, file, nodeArgs = [], env = {}) {
	const raise = 'ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null; exec "$@"';
	const child = spawn('sh', ['-c', raise, 'sh', ...pin, process.execPath, ...nodeArgs, file], {
		cwd: root,
		env: { ...process.env, ...env },
		stdio: ['ignore', 'inherit', 'inherit', 'ipc']
	});
	children.add(child);
	child.once('exit', () => children.delete(child));
	return child;
}

/** Closes the child's IPC channel (it exits on that), then kills it if it is still there a second later. */
async function stopChild(child) {
	if (child.exitCode !== null || child.signalCode !== null) return;
	const exited = new Promise((resolve) => child.once('exit', resolve));
	if (child.connected) child.disconnect();
	const timer = setTimeout(() => child.kill('SIGKILL'), 1000);
	await exited;
	clearTimeout(timer);
}

/** CPU time (ms) the whole machine has spent busy so far, from /proc/stat; undefined elsewhere. */
function machineBusyMs() {
	try {
		const [user, nice, system, , , irq, softirq, steal] = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
		return ((user + nice + system + irq + softirq + steal) * 1000) / TICKS_PER_SECOND;
	} catch {
		return undefined;
	}
}

async function waitFor(check, what, timeoutMs = 10_000) {
	const end = performance.now() + timeoutMs;
	while (!(await check())) {
		if (performance.now() > end) throw new Error(`timed out waiting for ${what}`);
		await sleep(20);
	}
}

/** Runs every measurement against one contender; both children are gone when it returns. */
async function measure(contender, pin) {
	const dataDir = mkdtempSync(join(tmpdir(), 'runnel-bench-'));
	dataDirs.add(dataDir);
	const server = startChild(pin.server, contender.file, SERVER_FLAGS, { BENCH_DATA_DIR: dataDir });
	const load = startChild(pin.load, `${here}load.js`);
	try {
		const { port } = await call(server, { type: 'ready' });
		const clientsAre = (n) => async () => (await call(server, { type: 'clients' })).count === n;

		// Warm up the code paths on a few clients, then take the baseline with nobody connected.
		await call(load, { type: 'connect', port, count: 100 });
		await call(server, { type: 'flood', ms: 300, batch: FLOOD_BATCH });
		await call(load, { type: 'close' });
		await waitFor(clientsAre(0), 'warm-up clients to leave');
		const before = await call(server, { type: 'memory' });

		// (c) Memory of CLIENTS idle connections.
		const connected = await call(load, { type: 'connect', port, count: CLIENTS });
		if (connected.open !== CLIENTS) throw new Error(`only ${connected.open} of ${CLIENTS} clients connected (${connected.failed} failed)`);
		await waitFor(clientsAre(CLIENTS), 'the server to see every client');
		await sleep(300);
		const idle = await call(server, { type: 'memory' });

		// Warm the broadcast path at full size, unmeasured.
		await call(load, { type: 'start', latency: false });
		const warm = await call(server, { type: 'flood', ms: 1000, batch: FLOOD_BATCH });
		await call(load, { type: 'drain', perClient: warm.sent });

		// (b) Latency at one broadcast every 100 ms.
		await call(load, { type: 'start', latency: true });
		const paced = await call(server, { type: 'paced', count: PACED_COUNT, intervalMs: PACED_INTERVAL_MS });
		const pacedResult = await call(load, { type: 'drain', perClient: paced.sent });

		// (a) Deliveries per second at full speed, counted at the clients.
		const rounds = [];
		for (let round = 0; round < FLOOD_ROUNDS; round++) {
			await call(load, { type: 'start', latency: false });
			const busyBefore = machineBusyMs();
			const flood = await call(server, { type: 'flood', ms: FLOOD_MS, batch: FLOOD_BATCH });
			const window = await call(load, { type: 'stop' });
			// What the rest of the machine used meanwhile: other work on these cores skews everything.
			const othersMs = machineBusyMs() - busyBefore - flood.cpuMs - window.cpuMs;
			const drained = await call(load, { type: 'drain', perClient: flood.sent, quietMs: 2000 });
			rounds.push({ flood, window, othersMs, drained, perSec: window.events / (window.wallMs / 1000) });
		}
		const sum = (pick) => rounds.reduce((total, r) => total + pick(r), 0);
		const wallMs = sum((r) => r.window.wallMs);
		const perSec = rounds.map((r) => r.perSec).sort((a, b) => a - b);
		const worst = rounds.reduce((a, b) => (b.drained.complete < a.drained.complete ? b : a));

		return {
			name: contender.name,
			// RSS outside the young generation, whose resident share swings by up to 32 MB with GC timing.
			rssPerConnKB: (idle.rss - idle.young - (before.rss - before.young)) / CLIENTS / 1024,
			youngPerConnKB: (idle.young - before.young) / CLIENTS / 1024,
			heapPerConnKB: (idle.heapUsed + idle.external - before.heapUsed - before.external) / CLIENTS / 1024,
			p50Ms: pacedResult.latency.p50,
			p99Ms: pacedResult.latency.p99,
			maxMs: pacedResult.latency.max,
			latencySamples: pacedResult.latency.n,
			pacedComplete: pacedResult.complete,
			deliveriesPerSec: perSec[Math.floor(perSec.length / 2)],
			deliveriesSpread: (perSec.at(-1) - perSec[0]) / perSec[Math.floor(perSec.length / 2)],
			bytesPerEvent: sum((r) => r.window.bytes) / Math.max(1, sum((r) => r.window.events)),
			serverCpu: sum((r) => r.flood.cpuMs) / sum((r) => r.flood.wallMs),
			loadCpu: sum((r) => r.window.cpuMs) / wallMs,
			othersCpu: sum((r) => r.othersMs) / wallMs,
			floodSent: worst.flood.sent,
			floodComplete: worst.drained.complete,
			floodOpen: worst.drained.open,
			closedEarly: worst.drained.closedEarly
		};
	} finally {
		await Promise.all([stopChild(server), stopChild(load)]);
		rmSync(dataDir, { recursive: true, force: true });
		dataDirs.delete(dataDir);
	}
}

function table(rows) {
	const head = ['server', 'deliveries/s', '±', 'p50 ms', 'p99 ms', 'max ms', 'RSS KB/conn', 'young KB/conn', 'heap KB/conn', 'B/event', 'srv CPU', 'load CPU', 'other CPU', 'complete'];
	const body = rows.map((r) => [
		r.name,
		Math.round(r.deliveriesPerSec).toLocaleString('en-US'),
		`${Math.round(r.deliveriesSpread * 100)}%`,
		r.p50Ms.toFixed(2),
		r.p99Ms.toFixed(2),
		r.maxMs.toFixed(2),
		r.rssPerConnKB.toFixed(1),
		r.youngPerConnKB.toFixed(1),
		r.heapPerConnKB.toFixed(1),
		r.bytesPerEvent.toFixed(0),
		`${Math.round(r.serverCpu * 100)}%`,
		`${Math.round(r.loadCpu * 100)}%`,
		Number.isNaN(r.othersCpu) ? '?' : `${Math.max(0, Math.round(r.othersCpu * 100))}%`,
		`${Math.min(r.pacedComplete, r.floodComplete)}/${CLIENTS}`
	]);
	const widths = head.map((h, i) => Math.max(h.length, ...body.map((row) => row[i].length)));
	const line = (cells) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
	return [line(head), line(widths.map((w) => '-'.repeat(w))), ...body.map(line)].join('\n');
}

/** The three ratios of `row` against `bare`; with targets, each gets PASS or MISS. */
function ratios(row, bare, withTargets) {
	const checks = [
		{ what: 'deliveries/s ratio', value: row.deliveriesPerSec / bare.deliveriesPerSec, op: '>=', target: 0.85 },
		{ what: 'p99 latency ratio', value: row.p99Ms / bare.p99Ms, op: '<=', target: 1.5 },
		{ what: 'RSS/idle conn ratio', value: row.rssPerConnKB / bare.rssPerConnKB, op: '<=', target: 1.35 }
	];
	return checks.map((c) => {
		const pass = c.op === '>=' ? c.value >= c.target : c.value <= c.target;
		const verdict = withTargets ? `(target ${c.op} ${c.target}) ${pass ? 'PASS' : 'MISS'}` : '(context)';
		return { pass: !withTargets || pass, text: `  ${c.what.padEnd(20)} ${c.value.toFixed(2)} ${verdict}` };
	});
}

const pin = pinning();
console.log(`sse-fanout: ${CLIENTS} clients on 127.0.0.1, ${EVENT_BYTES}-byte events, node ${process.version}, ${pin.note}`);
console.log(`  full speed: median of ${FLOOD_ROUNDS} rounds of ${FLOOD_MS / 1000} s (${FLOOD_BATCH} broadcasts per loop turn, waiting for the slowest client); latency ${PACED_COUNT} broadcasts every ${PACED_INTERVAL_MS} ms; memory with ${CLIENTS} idle clients`);
await build({
	entryPoints: CONTENDERS.filter((c) => c.entry).map((c) => c.entry),
	outdir: buildDir,
	bundle: true,
	platform: 'node',
	format: 'esm',
	target: 'node20',
	packages: 'external',
	alias: { $lib: process.env.BENCH_LIB ?? `${root}src/lib` },
	logLevel: 'warning'
});

const rows = [];
let missed = false;
for (const contender of CONTENDERS) {
	try {
		rows.push(await measure(contender, pin));
		console.log(`  measured ${contender.name}`);
	} catch (error) {
		console.log(`  FAILED ${contender.name}: ${error.message}`);
		missed = true;
		if (contender === CONTENDERS[0]) process.exit(1);
	}
}
console.log();
console.log(table(rows));

const [bare, ...others] = rows;
for (const row of others) {
	const gated = row.name === 'runnel sse()';
	console.log(`\n${row.name} / bare${gated ? '' : ' (context, no target)'}`);
	for (const { pass, text } of ratios(row, bare, gated)) {
		console.log(text);
		if (!pass) missed = true;
	}
}
const lossy = rows.filter((r) => r.floodComplete !== CLIENTS || r.pacedComplete !== CLIENTS || r.closedEarly > 0);
for (const r of lossy) console.log(`\nWARNING ${r.name}: ${r.closedEarly} clients closed early; ${r.floodComplete}/${r.floodOpen} got all ${r.floodSent} full-speed events`);
const contended = rows.filter((r) => r.othersCpu > 0.15);
for (const r of contended) console.log(`\nWARNING ${r.name}: other processes used ${Math.round(r.othersCpu * 100)}% of a core during full speed: rerun on a quiet machine`);
const clientBound = rows.filter((r) => r.loadCpu > 0.9 && r.serverCpu < 0.9);
for (const r of clientBound) console.log(`\nWARNING ${r.name}: the load generator was the bottleneck (${Math.round(r.loadCpu * 100)}% vs server ${Math.round(r.serverCpu * 100)}%)`);
if (missed || lossy.length > 0) process.exitCode = 1;

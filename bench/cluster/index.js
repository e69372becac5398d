// bench/cluster: SSE fan-out and chat throughput on one Runnel instance against two, both on PostgreSQL and Redis.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { build } from 'esbuild';
import { call } from '../sse-fanout/ipc.js';
import { freshStores } from './stores.js';

const here = fileURLToPath(new URL('.', import.meta.url));
const root = fileURLToPath(new URL('../..', import.meta.url));
const buildDir = `${root}bench/.build/cluster/`;

const DATABASE = (process.env.BENCH_DATABASE_URL || process.env.TEST_DATABASE_URL)?.trim();
const REDIS = (process.env.BENCH_REDIS_URL || process.env.TEST_REDIS_URL)?.trim();
const SSE_CLIENTS = Number(process.env.BENCH_SSE_CLIENTS ?? 1000);
const CHAT_CLIENTS = Number(process.env.BENCH_CHAT_CLIENTS ?? 200);
/** Events published at once to the topic every SSE client follows (below SSE_MAX_QUEUE, so nobody is cut off). */
const SSE_BURST = Number(process.env.BENCH_SSE_BURST ?? 300);
/** Chat messages sent in one burst, round-robin from the sockets, over CHAT_BURST_MS. */
const CHAT_BURST = Number(process.env.BENCH_CHAT_BURST ?? 600);
const CHAT_BURST_MS = 500;
const ROUNDS = 3;
/** The paced step, for latency: events or messages a second, for PACED_MS. */
const SSE_PACED_RATE = 20;
const CHAT_PACED_RATE = 50;
const PACED_MS = 2000;
const DEADLINE_MS = 175_000;
/** USER_HZ of /proc/stat. */
const TICKS_PER_SECOND = 100;

if (!DATABASE || !REDIS) {
	console.log('cluster: skipped, needs PostgreSQL and Redis: set TEST_DATABASE_URL (postgres://postgres@127.0.0.1:5432/test) and TEST_REDIS_URL (redis://127.0.0.1:6379)');
	process.exit(0);
}

const children = new Set();
const cleanups = new Set();
/** Kills what is still running, then drops the stores and folders; `code` ends the bench when given. */
async function cleanUp(code) {
	for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
	for (const cleanup of cleanups) await cleanup().catch((error) => console.error(`cluster: cleanup failed: ${error.message}`));
	cleanups.clear();
	if (code !== undefined) process.exit(code);
}
process.on('exit', () => {
	for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
});
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => void cleanUp(130));
setTimeout(() => {
	console.error(`cluster: over ${DEADLINE_MS / 1000} s, giving up`);
	void cleanUp(1);
}, DEADLINE_MS).unref();

/** A node child with an IPC channel and a raised open-file limit (1,000 SSE clients and 200 sockets). */
function startChild(file, env = {}) {
	const raise = 'ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null; exec "$@"';
	const child = spawn('sh', ['-c', raise, 'sh', process.execPath, file], { cwd: root, env: { ...process.env, ...env }, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
	children.add(child);
	child.once('exit', () => children.delete(child));
	return child;
}

/** Closes the IPC channel (the child exits on it), and kills the child if it is still there after 3 s. */
async function stopChild(child) {
	if (child.exitCode !== null || child.signalCode !== null) return;
	const exited = new Promise((resolve) => child.once('exit', resolve));
	if (child.connected) child.disconnect();
	const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
	await exited;
	clearTimeout(timer);
}

/** CPU ms the whole machine has been busy, from /proc/stat (NaN elsewhere). */
function machineBusyMs() {
	try {
		const [user, nice, system, , , irq, softirq, steal] = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
		return ((user + nice + system + irq + softirq + steal) * 1000) / TICKS_PER_SECOND;
	} catch {
		return NaN;
	}
}

async function waitFor(check, what, timeoutMs = 15_000) {
	const end = performance.now() + timeoutMs;
	while (!(await check())) {
		if (performance.now() > end) throw new Error(`timed out waiting for ${what}`);
		await sleep(50);
	}
}

/** Runs `step()` with the CPU it cost the instances, the load generator (`step` returns loadCpuMs) and everything else. */
async function metered(instances, step) {
	await Promise.all(instances.map((i) => call(i, { type: 'cpu' })));
	const busy = machineBusyMs();
	const start = performance.now();
	const result = await step();
	const wallMs = performance.now() - start;
	const instanceMs = (await Promise.all(instances.map((i) => call(i, { type: 'cpu' })))).reduce((sum, c) => sum + c.ms, 0);
	const otherMs = machineBusyMs() - busy - instanceMs - result.loadCpuMs;
	return { ...result, cpu: { instances: instanceMs / wallMs, load: result.loadCpuMs / wallMs, other: Math.max(0, otherMs / wallMs) } };
}

/** The median round (by deliveries/s) and the spread of the rounds (max − min over median). */
function medianRound(rounds) {
	const sorted = [...rounds].sort((x, y) => x.perSec - y.perSec);
	const median = sorted[Math.floor(sorted.length / 2)];
	return { ...median, spread: (sorted.at(-1).perSec - sorted[0].perSec) / median.perSec };
}

/** SSE: the clients split over the instances, the first instance publishes, every client must get every event. */
async function sseRun(instances, ports) {
	const load = startChild(`${root}bench/sse-fanout/load.js`);
	try {
		for (let i = 0; i < ports.length; i++) {
			const { open, failed } = await call(load, { type: 'connect', port: ports[i], count: SSE_CLIENTS / ports.length });
			if (failed) throw new Error(`${failed} SSE clients could not connect (${open} open)`);
		}
		await waitFor(async () => (await Promise.all(instances.map((i) => call(i, { type: 'clients' })))).every((c) => c.streams === SSE_CLIENTS / ports.length), 'every SSE client to be served');
		/** Checks that every client got all `sent` events; a missing one or a client cut off fails the bench. */
		const drain = async (sent) => {
			const drained = await call(load, { type: 'drain', perClient: sent, quietMs: 3000 });
			if (drained.open !== SSE_CLIENTS) throw new Error(`${SSE_CLIENTS - drained.open} SSE clients were cut off`);
			if (drained.complete !== SSE_CLIENTS) throw new Error(`lost SSE events: ${SSE_CLIENTS - drained.complete} clients missed some of ${sent}`);
			return drained;
		};
		const paced = (ms) =>
			metered(instances, async () => {
				await call(load, { type: 'start', latency: true });
				const { sent } = await call(instances[0], { type: 'publish', rate: SSE_PACED_RATE, ms });
				const window = await call(load, { type: 'stop' });
				return { latency: (await drain(sent)).latency, loadCpuMs: window.cpuMs };
			});
		const burst = () =>
			metered(instances, async () => {
				await call(load, { type: 'start', latency: false });
				const start = performance.now();
				const { sent } = await call(instances[0], { type: 'burst', count: SSE_BURST });
				const drained = await drain(sent);
				const window = await call(load, { type: 'stop' });
				return { perSec: drained.events / ((performance.now() - start) / 1000), loadCpuMs: window.cpuMs };
			});
		await paced(1000);
		const latency = await paced(PACED_MS);
		const rounds = [];
		for (let round = 0; round < ROUNDS; round++) rounds.push(await burst());
		return { latency, burst: medianRound(rounds) };
	} finally {
		await stopChild(load);
	}
}

/** Chat: the sockets split over the instances, sending round-robin into one room; every socket must get every message. */
async function chatRun(instances, ports, { roomId, cookies }) {
	const load = startChild(`${root}bench/chat-room/load.js`);
	try {
		const clients = cookies.map((cookie, i) => ({ cookie, port: ports[i % ports.length] }));
		const { open, failed } = await call(load, { type: 'connect', port: ports[0], clients });
		if (open !== CHAT_CLIENTS) throw new Error(`only ${open} of ${CHAT_CLIENTS} sockets connected (${failed} refused)`);
		await waitFor(async () => (await Promise.all(instances.map((i) => call(i, { type: 'clients' })))).reduce((n, c) => n + c.sockets, 0) === CHAT_CLIENTS, 'every socket to be connected');
		const run = (rate, ms) =>
			metered(instances, async () => {
				const result = await call(load, { type: 'run', roomId, rate, ms });
				if (result.failed) throw new Error(`${result.failed} of ${result.sent} messages refused at ${rate}/s: ${result.firstError}`);
				if (result.delivered < result.expected) throw new Error(`lost chat messages: ${result.expected - result.delivered} of ${result.expected} deliveries missing`);
				return { ...result, perSec: result.delivered / (result.wallMs / 1000), loadCpuMs: result.cpuMs };
			});
		await run(CHAT_PACED_RATE, 1000);
		const latency = await run(CHAT_PACED_RATE, PACED_MS);
		const rounds = [];
		for (let round = 0; round < ROUNDS; round++) rounds.push(await run((CHAT_BURST * 1000) / CHAT_BURST_MS, CHAT_BURST_MS));
		return { latency, burst: medianRound(rounds) };
	} finally {
		await stopChild(load);
	}
}

/** One configuration: `count` instances on a fresh database and prefix, SSE then chat, everything removed after. */
async function measure(name, count, file) {
	const stores = await freshStores(DATABASE, REDIS);
	const dataDirs = [];
	const instances = [];
	const cleanup = async () => {
		await Promise.all(instances.map(stopChild));
		for (const dir of dataDirs) rmSync(dir, { recursive: true, force: true });
		await stores.drop();
	};
	cleanups.add(cleanup);
	try {
		const ports = [];
		// One at a time: the first runs the migrations.
		for (let i = 0; i < count; i++) {
			dataDirs.push(mkdtempSync(join(tmpdir(), 'runnel-bench-cluster-')));
			instances.push(startChild(file, { ...stores.env, DATA_DIR: dataDirs.at(-1) }));
			ports.push((await call(instances[i], { type: 'ready' })).port);
		}
		const setup = await call(instances[0], { type: 'setup', count: CHAT_CLIENTS });
		const sse = await sseRun(instances, ports);
		console.log(`  ${name}: SSE ${Math.round(sse.burst.perSec).toLocaleString('en-US')} deliveries/s`);
		await sleep(500);
		const chat = await chatRun(instances, ports, setup);
		console.log(`  ${name}: chat ${Math.round(chat.burst.perSec).toLocaleString('en-US')} deliveries/s`);
		return { name, sse, chat };
	} finally {
		cleanups.delete(cleanup);
		await cleanup();
	}
}

const percent = (value) => (Number.isNaN(value) ? '?' : `${Math.round(value * 100)}%`);

function table(rows) {
	const head = ['run', 'what', 'deliveries/s', '±', 'instances CPU', 'load CPU', 'other CPU', 'p50 ms', 'p99 ms', 'latency at'];
	const body = rows.flatMap((r) =>
		[
			['SSE fan-out', r.sse, `${SSE_PACED_RATE} events/s`],
			['chat', r.chat, `${CHAT_PACED_RATE} msg/s`]
		].map(([what, { burst, latency }, pacedAt]) => [
			r.name,
			what,
			Math.round(burst.perSec).toLocaleString('en-US'),
			`${Math.round(burst.spread * 100)}%`,
			percent(burst.cpu.instances),
			percent(burst.cpu.load),
			percent(burst.cpu.other),
			latency.latency.p50.toFixed(1),
			latency.latency.p99.toFixed(1),
			pacedAt
		])
	);
	const widths = head.map((h, i) => Math.max(h.length, ...body.map((row) => row[i].length)));
	const line = (cells) => cells.map((c, i) => (i < 2 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
	return [line(head), line(widths.map((w) => '-'.repeat(w))), ...body.map(line)].join('\n');
}

const cores = availableParallelism();
console.log(`cluster: one Runnel instance against two, on PostgreSQL and Redis (a fresh database and key prefix each), node ${process.version}, ${cores} cores, nothing pinned`);
console.log(`  SSE: ${SSE_CLIENTS} clients on one bus topic, bursts of ${SSE_BURST} 256-byte events published by the first instance; chat: ${CHAT_CLIENTS} sockets in one room, bursts of ${CHAT_BURST} messages sent round-robin over ${CHAT_BURST_MS} ms`);
console.log(`  deliveries/s: every client gets every event or message, from the burst's start to the last delivery, median of ${ROUNDS} rounds; latency: ${PACED_MS / 1000} s paced; two instances split the clients evenly`);
await build({
	entryPoints: [`${here}instance.js`],
	outdir: buildDir,
	bundle: true,
	platform: 'node',
	format: 'esm',
	target: 'node20',
	packages: 'external',
	alias: { $lib: `${root}src/lib` },
	logLevel: 'warning'
});

const rows = [];
try {
	rows.push(await measure('one instance', 1, `${buildDir}instance.js`));
	rows.push(await measure('two instances', 2, `${buildDir}instance.js`));
} catch (error) {
	console.log(`FAILED: ${error.stack ?? error}`);
	await cleanUp(1);
}
console.log();
console.log(table(rows));

if (rows.length === 2) {
	const [one, two] = rows;
	console.log('\ntwo instances / one (no target; README.md says what they mean on more cores)');
	console.log(`  SSE fan-out deliveries/s   ${(two.sse.burst.perSec / one.sse.burst.perSec).toFixed(2)}`);
	console.log(`  chat deliveries/s          ${(two.chat.burst.perSec / one.chat.burst.perSec).toFixed(2)}`);
	console.log(`  SSE p99 at ${SSE_PACED_RATE} events/s     ${(two.sse.latency.latency.p99 / one.sse.latency.latency.p99).toFixed(2)}`);
	console.log(`  chat p99 at ${CHAT_PACED_RATE} msg/s        ${(two.chat.latency.latency.p99 / one.chat.latency.latency.p99).toFixed(2)}`);
}
if (cores < 4) console.log(`\nNOTE ${cores} cores: the instances, the load generators, PostgreSQL and Redis share them (see the CPU columns)`);
await cleanUp();

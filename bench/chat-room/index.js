// bench/chat-room: 200 socket.io-client clients in one room; runnel's chat against a bare Socket.IO 4.8 relay.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { build } from 'esbuild';
import { call } from '../sse-fanout/ipc.js';

const here = fileURLToPath(new URL('.', import.meta.url));
const root = fileURLToPath(new URL('../..', import.meta.url));
const buildDir = `${root}bench/.build/chat-room/`;

const CLIENTS = Number(process.env.BENCH_CLIENTS ?? 200);
/**
 * Idle clients for the memory reading: V8 grows the heap 256 KB at a time, which is 1.3 KB a
 * connection at 200 and swamps the difference; at 1,000 it is a fifth of that.
 */
const MEMORY_CLIENTS = Math.max(CLIENTS, Number(process.env.BENCH_MEMORY_CLIENTS ?? 1000));
/** Messages per second tried in turn (each is delivered to every client; `BENCH_RATES=200` for one row); a contender stops at its first miss past the 40k row. */
const RATES = process.env.BENCH_RATES?.split(',').map(Number) ?? [50, 100, 150, 200, 250, 300, 350, 400, 500, 600, 700, 800, 1000, 1200, 1500];
const STEP_MS = Number(process.env.BENCH_STEP_MS ?? 2000);
const P99_LIMIT_MS = 100;
/** The rate of the fixed-load row: 40,000 deliveries a second. */
const FIXED_RATE = 40_000 / CLIENTS;
const DEADLINE_MS = 300_000;
/** Tries of a step other than the fixed-load row, only when its first try misses: the median counts. */
const TRIES = 3;
/** Tries of the fixed-load row, always: its p99 is about the 4th-worst of 400 messages, so one stall sets a try. */
const FIXED_TRIES = Number(process.env.BENCH_FIXED_TRIES ?? 5);
/** Memory readings per server (1,000 clients in, read, out): the lower counts, transient buffers only ever add. */
const MEMORY_READINGS = 3;
/** `BENCH_NODE_FLAGS='--cpu-prof --cpu-prof-dir=/tmp/prof'` profiles the servers. */
const SERVER_FLAGS = ['--expose-gc', '--min-semi-space-size=16', '--max-semi-space-size=16', ...(process.env.BENCH_NODE_FLAGS?.split(' ').filter(Boolean) ?? [])];

const CONTENDERS = [
	{ name: 'bare socket.io', file: `${here}server-bare.js` },
	{ name: 'runnel chat', file: `${buildDir}server-runnel.js`, entry: `${here}server-runnel.js` },
	// Context, no target: the bare relay with connection state recovery on, as the app has it (each
	// broadcast gets an offset and stays in memory for the recovery window): what the protocol
	// feature costs, apart from what runnel adds. `BENCH_CONTEXT=0` leaves it out.
	...(process.env.BENCH_CONTEXT === '0' ? [] : [{ name: 'bare + recovery', file: `${here}server-bare.js`, env: { BARE_RECOVERY: '1' } }])
];

const children = new Set();
const dataDirs = new Set();
function killAll() {
	for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
	for (const dir of dataDirs) rmSync(dir, { recursive: true, force: true });
}
process.on('exit', killAll);
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => (killAll(), process.exit(130)));
setTimeout(() => {
	console.error(`chat-room: over ${DEADLINE_MS / 1000} s, giving up`);
	killAll();
	process.exit(1);
}, DEADLINE_MS).unref();

/** Server on core 0, load generator on core 1 when taskset and two cores exist. */
function pinning() {
	const taskset = spawnSync('taskset', ['-c', '0', 'true']).status === 0;
	if (taskset && availableParallelism() >= 2) return { server: ['taskset', '-c', '0'], load: ['taskset', '-c', '1'], note: 'servers on core 0, load generators on core 1' };
	return { server: [], load: [], note: 'NOT pinned: server and clients share the CPU' };
}

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

async function stopChild(child) {
	if (child.exitCode !== null || child.signalCode !== null) return;
	const exited = new Promise((resolve) => child.once('exit', resolve));
	if (child.connected) child.disconnect();
	const timer = setTimeout(() => child.kill('SIGKILL'), 1000);
	await exited;
	clearTimeout(timer);
}

async function waitFor(check, what, timeoutMs = 10_000) {
	const end = performance.now() + timeoutMs;
	while (!(await check())) {
		if (performance.now() > end) throw new Error(`timed out waiting for ${what}`);
		await sleep(20);
	}
}

const complete = (step) => step.delivered >= step.expected && step.failed === 0;
const within = (step) => complete(step) && step.latency.p99 <= P99_LIMIT_MS;

/** Starts a contender's server and load generator (both stay up until the end) and reads what it needs. */
async function start(contender, pin) {
	const dataDir = mkdtempSync(join(tmpdir(), 'runnel-bench-chat-'));
	dataDirs.add(dataDir);
	const server = startChild(pin.server, contender.file, SERVER_FLAGS, { BENCH_DATA_DIR: dataDir, BENCH_CLIENTS: String(MEMORY_CLIENTS), ...contender.env });
	const load = startChild(pin.load, `${here}load.js`);
	const { port, roomId, clients: everyone } = await call(server, { type: 'ready' });
	const clientsAre = (n) => async () => (await call(server, { type: 'clients' })).count === n;
	const connect = async (list) => {
		const connected = await call(load, { type: 'connect', port, clients: list });
		if (connected.open !== list.length) throw new Error(`only ${connected.open} of ${list.length} clients connected (${connected.failed} refused: ${connected.reason})`);
		await waitFor(clientsAre(list.length), 'the server to see every client', 60_000);
	};
	const disconnect = async () => {
		await call(load, { type: 'close' });
		await waitFor(clientsAre(0), 'the clients to leave', 30_000);
	};
	return { ...contender, server, load, dataDir, roomId, everyone, clients: everyone.slice(0, CLIENTS), connect, disconnect };
}

/** RSS and heap per idle connection: MEMORY_CLIENTS in the room against none, after a warm-up; the lower of MEMORY_READINGS. */
async function memory(c) {
	await c.connect(c.clients);
	await call(c.load, { type: 'run', roomId: c.roomId, rate: 100, ms: 1000 });
	await c.disconnect();
	const before = await call(c.server, { type: 'memory' });
	let idle;
	for (let reading = 0; reading < MEMORY_READINGS; reading++) {
		await c.connect(c.everyone);
		await sleep(300);
		const now = await call(c.server, { type: 'memory' });
		if (!idle || now.rss < idle.rss) idle = now;
		await c.disconnect();
	}
	return {
		rssPerConnKB: (idle.rss - before.rss) / MEMORY_CLIENTS / 1024,
		heapPerConnKB: (idle.heapUsed + idle.external - before.heapUsed - before.external) / MEMORY_CLIENTS / 1024
	};
}

/** One try of `rate` messages a second against one contender, with its server's CPU time per message. */
async function oneTry(c, rate) {
	const before = (await call(c.server, { type: 'cpu' })).ms;
	const result = await call(c.load, { type: 'run', roomId: c.roomId, rate, ms: STEP_MS });
	const after = (await call(c.server, { type: 'cpu' })).ms;
	return { rate, ...result, serverUsPerMsg: ((after - before) * 1000) / Math.max(1, result.sent) };
}

/**
 * The sweep, both contenders side by side: at each rate they take turns try by try (the order
 * reversed every round), so a change in what else the machine does hits both alike. A step's
 * result is its median try by p99: the fixed-load row always gets FIXED_TRIES, any other step more
 * tries only when its first misses, up to TRIES. A contender stops at its first miss past the fixed-load row.
 */
async function sweep(contenders) {
	const steps = new Map(contenders.map((c) => [c, []]));
	const going = new Set(contenders);
	for (const rate of RATES) {
		const tries = new Map([...going].map((c) => [c, []]));
		const wantsMore = (c) => {
			const list = tries.get(c);
			if (rate === FIXED_RATE) return list.length < FIXED_TRIES;
			return list.length === 0 || (list.length < TRIES && !within(list[0]));
		};
		for (let round = 0; [...tries.keys()].some(wantsMore); round++) {
			const order = [...tries.keys()];
			if (round % 2) order.reverse();
			for (const c of order) if (wantsMore(c)) tries.get(c).push(await oneTry(c, rate));
		}
		for (const [c, list] of tries) {
			const ranked = [...list].sort((a, b) => complete(b) - complete(a) || a.latency.p99 - b.latency.p99);
			const step = { ...ranked[Math.floor((ranked.length - 1) / 2)], p99s: list.map((t) => t.latency.p99) };
			steps.get(c).push(step);
			if (!within(step) && rate >= FIXED_RATE) going.delete(c);
		}
		if (!going.size) break;
	}
	return steps;
}

async function measureAll(pin) {
	const contenders = [];
	try {
		for (const contender of CONTENDERS) contenders.push(await start(contender, pin));
		// Memory one server at a time (the other has no clients), then the sweep with CLIENTS on each.
		const memories = new Map();
		for (const c of contenders) memories.set(c, await memory(c));
		for (const c of contenders) {
			await c.connect(c.clients);
			// Warm up, then collect what connecting left: otherwise the first try pays for it.
			await call(c.load, { type: 'run', roomId: c.roomId, rate: 100, ms: 1000 });
			await call(c.server, { type: 'gc' });
		}
		const steps = await sweep(contenders);
		return contenders.map((c) => {
			const list = steps.get(c);
			const best = list.filter(within).at(-1);
			return {
				name: c.name,
				steps: list,
				maxRate: best?.rate ?? 0,
				maxP99: best?.latency.p99 ?? NaN,
				capped: best?.rate === RATES.at(-1),
				fixed: list.find((s) => s.rate === FIXED_RATE),
				...memories.get(c)
			};
		});
	} finally {
		await Promise.all(contenders.flatMap((c) => [stopChild(c.server), stopChild(c.load)]));
		for (const c of contenders) {
			rmSync(c.dataDir, { recursive: true, force: true });
			dataDirs.delete(c.dataDir);
		}
	}
}

function table(rows) {
	const head = ['server', 'max msg/s (p99<100ms)', 'deliveries/s', `p50 @${FIXED_RATE}/s`, `p99 @${FIXED_RATE}/s`, `server CPU µs/msg @${FIXED_RATE}/s`, 'RSS KB/conn', 'heap KB/conn', 'load CPU @max', 'complete @max'];
	const body = rows.map((r) => {
		const best = r.steps.find((s) => s.rate === r.maxRate);
		return [
			r.name,
			`${r.maxRate}${r.capped ? '+' : ''}`,
			(r.maxRate * CLIENTS).toLocaleString('en-US'),
			r.fixed ? r.fixed.latency.p50.toFixed(1) : '-',
			r.fixed ? r.fixed.latency.p99.toFixed(1) : '-',
			r.fixed ? r.fixed.serverUsPerMsg.toFixed(0) : '-',
			r.rssPerConnKB.toFixed(1),
			r.heapPerConnKB.toFixed(1),
			best ? `${Math.round((best.cpuMs / best.wallMs) * 100)}%` : '-',
			best ? `${best.delivered}/${best.expected}` : '-'
		];
	});
	const widths = head.map((h, i) => Math.max(h.length, ...body.map((row) => row[i].length)));
	const line = (cells) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
	return [line(head), line(widths.map((w) => '-'.repeat(w))), ...body.map(line)].join('\n');
}

const pin = pinning();
console.log(`chat-room: ${CLIENTS} socket.io-client clients (WebSocket) in one room, node ${process.version}, ${pin.note}`);
console.log(`  each step sends N messages/s for ${STEP_MS / 1000} s round-robin from the clients; every client receives each one; latency is sender to receiver`);
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

let rows;
try {
	rows = await measureAll(pin);
} catch (error) {
	console.log(`  FAILED: ${error.message}`);
	process.exit(1);
}
for (const r of rows) {
	const tries = (s) => (s.p99s.length > 1 ? ` (median of ${s.p99s.map((p) => p.toFixed(0)).join('/')})` : '');
	console.log(`  measured ${r.name}: ${r.steps.map((s) => `${s.rate}/s p99 ${s.latency.p99.toFixed(0)} ms${complete(s) ? '' : ' LOSS'}${tries(s)}`).join(', ')}`);
}
console.log();
console.log(table(rows));

const [bare, runnel, recovering] = rows;
const checks = [
	{ what: 'max rate ratio', value: runnel.maxRate / bare.maxRate, op: '>=', target: 0.9 },
	{ what: `p99 @${FIXED_RATE * CLIENTS}/s ratio`, value: runnel.fixed && bare.fixed ? runnel.fixed.latency.p99 / bare.fixed.latency.p99 : NaN, op: '<=', target: 1.2 },
	{ what: 'RSS/conn ratio', value: runnel.rssPerConnKB / bare.rssPerConnKB, op: '<=', target: 1.1 }
];
console.log('\nrunnel chat / bare');
let missed = false;
for (const c of checks) {
	const pass = c.op === '>=' ? c.value >= c.target : c.value <= c.target;
	if (!pass) missed = true;
	console.log(`  ${c.what.padEnd(24)} ${c.value.toFixed(2)} (target ${c.op} ${c.target}) ${pass ? 'PASS' : 'MISS'}`);
}
if (recovering) {
	const ratio = (a, b) => (Number.isFinite(a / b) ? (a / b).toFixed(2) : '-');
	console.log(`\nrunnel chat / bare + recovery (context, no target)`);
	console.log(`  ${`p99 @${FIXED_RATE * CLIENTS}/s ratio`.padEnd(24)} ${ratio(runnel.fixed?.latency.p99, recovering.fixed?.latency.p99)}`);
	console.log(`  ${`CPU/msg @${FIXED_RATE}/s ratio`.padEnd(24)} ${ratio(runnel.fixed?.serverUsPerMsg, recovering.fixed?.serverUsPerMsg)}`);
	console.log(`  ${'RSS/conn ratio'.padEnd(24)} ${ratio(runnel.rssPerConnKB, recovering.rssPerConnKB)}`);
}
if (bare.capped) console.log(`\nNOTE bare met the limit at the highest rate tried (${RATES.at(-1)}/s): add rates to find its ceiling`);
const lossy = rows.filter((r) => r.fixed && !complete(r.fixed));
for (const r of lossy) console.log(`\nWARNING ${r.name}: lost deliveries at ${FIXED_RATE}/s (${r.fixed.delivered}/${r.fixed.expected}, ${r.fixed.failed} refused${r.fixed.firstError ? `: ${r.fixed.firstError}` : ''})`);
for (const r of rows) for (const s of r.steps) if (s.failed) console.log(`\nNOTE ${r.name} at ${s.rate}/s: ${s.failed} sends refused, first: ${s.firstError}`);
if (missed || lossy.length) process.exitCode = 1;

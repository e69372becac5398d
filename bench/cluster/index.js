// bench/cluster: SSE fan-out and chat throughput on one Runnel instance against two, both on PostgreSQL and Redis.
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { children } from './children.js';
import { openConfiguration } from './configuration.js';

const here = fileURLToPath(new URL('.', import.meta.url));
const root = fileURLToPath(new URL('../..', import.meta.url));
const buildDir = `${root}bench/.build/cluster/`;

const DATABASE = (process.env.BENCH_DATABASE_URL || process.env.TEST_DATABASE_URL)?.trim();
const REDIS = (process.env.BENCH_REDIS_URL || process.env.TEST_REDIS_URL)?.trim();
const SSE_CLIENTS = Number(process.env.BENCH_SSE_CLIENTS ?? 1000);
const CHAT_CLIENTS = Number(process.env.BENCH_CHAT_CLIENTS ?? 200);
/** Events published at once to the topic every SSE client follows (below SSE_MAX_QUEUE, so nobody is cut off). */
const SSE_BURST = Number(process.env.BENCH_SSE_BURST ?? 200);
/** Chat messages sent in one burst, round-robin from the sockets, over CHAT_BURST_MS. */
const CHAT_BURST = Number(process.env.BENCH_CHAT_BURST ?? 300);
const CHAT_BURST_MS = 500;
const ROUNDS = 3;
/** The paced step, for latency: events or messages a second, for PACED_MS. */
const SSE_PACED_RATE = 20;
const CHAT_PACED_RATE = 50;
const PACED_MS = 2000;
const DEADLINE_MS = 175_000;

if (!DATABASE || !REDIS) {
	console.log('cluster: skipped, needs PostgreSQL and Redis: set TEST_DATABASE_URL (postgres://postgres@127.0.0.1:5432/test) and TEST_REDIS_URL (redis://127.0.0.1:6379)');
	process.exit(0);
}

/** Configurations still open: closed (instances stopped, database and prefix dropped) however the bench ends. */
const open = new Set();
/** Kills what is still running, then closes the configurations; `code` ends the bench when given. */
async function cleanUp(code) {
	for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
	for (const configuration of open) await configuration.close().catch((error) => console.error(`cluster: cleanup failed: ${error.message}`));
	open.clear();
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

/** The median round (by deliveries/s) and the spread of the rounds (max − min over median). */
function medianRound(rounds) {
	const sorted = [...rounds].sort((x, y) => x.perSec - y.perSec);
	const median = sorted[Math.floor(sorted.length / 2)];
	return { ...median, spread: (sorted.at(-1).perSec - sorted[0].perSec) / median.perSec };
}

/**
 * Both configurations stay up side by side and take turns, the order reversed every other round, so
 * a change in what else the machine is doing hits both alike.
 */
async function measure(configurations) {
	const results = configurations.map((c) => ({ name: c.name, sse: { rounds: [] }, chat: { rounds: [] } }));
	for (const [i, c] of configurations.entries()) {
		await c.ssePaced(SSE_PACED_RATE, 1000);
		results[i].sse.latency = await c.ssePaced(SSE_PACED_RATE, PACED_MS);
		await c.chatPaced(CHAT_PACED_RATE, 1000);
		results[i].chat.latency = await c.chatPaced(CHAT_PACED_RATE, PACED_MS);
	}
	for (let round = 0; round < ROUNDS; round++) {
		const order = round % 2 ? [...configurations.keys()].reverse() : [...configurations.keys()];
		for (const i of order) results[i].sse.rounds.push(await configurations[i].sseBurst(SSE_BURST));
		for (const i of order) results[i].chat.rounds.push(await configurations[i].chatBurst(CHAT_BURST, CHAT_BURST_MS));
		console.log(`  round ${round + 1}: ${order.map((i) => `${results[i].name} SSE ${thousands(results[i].sse.rounds.at(-1).perSec)}, chat ${thousands(results[i].chat.rounds.at(-1).perSec)}`).join('; ')} deliveries/s`);
	}
	for (const r of results) {
		r.sse.burst = medianRound(r.sse.rounds);
		r.chat.burst = medianRound(r.chat.rounds);
	}
	return results;
}

const thousands = (value) => Math.round(value).toLocaleString('en-US');
/** CPU the instances spent per delivery (µs), all of them together: what a delivery costs whatever the machine's load. */
const perDelivery = (burst) => (burst.cpu.instanceMs * 1000) / burst.deliveries;
const percent = (value) => (Number.isNaN(value) ? '?' : `${Math.round(value * 100)}%`);

function table(rows) {
	const head = ['run', 'what', 'deliveries/s', '±', 'CPU µs/delivery', 'instances CPU', 'load CPU', 'other CPU', 'p50 ms', 'p99 ms', 'latency at'];
	const body = rows.flatMap((r) =>
		[
			['SSE fan-out', r.sse, `${SSE_PACED_RATE} events/s`],
			['chat', r.chat, `${CHAT_PACED_RATE} msg/s`]
		].map(([what, { burst, latency }, pacedAt]) => [
			r.name,
			what,
			thousands(burst.perSec),
			`${Math.round(burst.spread * 100)}%`,
			perDelivery(burst).toFixed(1),
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
console.log(`  deliveries/s: every client gets every event or message, from the burst's start to the last delivery, median of ${ROUNDS} rounds taken in turns; latency: ${PACED_MS / 1000} s paced; two instances split the clients evenly`);
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

let rows = [];
try {
	const configurations = [];
	for (const [name, count] of [['one instance', 1], ['two instances', 2]]) {
		const configuration = await openConfiguration({ name, count, file: `${buildDir}instance.js`, databaseUrl: DATABASE, redisUrl: REDIS, sseClients: SSE_CLIENTS, chatClients: CHAT_CLIENTS });
		open.add(configuration);
		configurations.push(configuration);
	}
	rows = await measure(configurations);
} catch (error) {
	console.log(`FAILED: ${error.stack ?? error}`);
	await cleanUp(1);
}
await cleanUp();
console.log();
console.log(table(rows));

if (rows.length === 2) {
	const [one, two] = rows;
	console.log('\ntwo instances / one (no target; README.md says what they mean on more cores)');
	console.log(`  SSE fan-out deliveries/s   ${(two.sse.burst.perSec / one.sse.burst.perSec).toFixed(2)}`);
	console.log(`  chat deliveries/s          ${(two.chat.burst.perSec / one.chat.burst.perSec).toFixed(2)}`);
	console.log(`  SSE CPU per delivery       ${(perDelivery(two.sse.burst) / perDelivery(one.sse.burst)).toFixed(2)}`);
	console.log(`  chat CPU per delivery      ${(perDelivery(two.chat.burst) / perDelivery(one.chat.burst)).toFixed(2)}`);
	console.log(`  SSE p99 at ${SSE_PACED_RATE} events/s     ${(two.sse.latency.latency.p99 / one.sse.latency.latency.p99).toFixed(2)}`);
	console.log(`  chat p99 at ${CHAT_PACED_RATE} msg/s        ${(two.chat.latency.latency.p99 / one.chat.latency.latency.p99).toFixed(2)}`);
}
if (cores < 4) console.log(`\nNOTE ${cores} cores: the instances, the load generators, PostgreSQL and Redis share them (see the CPU columns)`);

// bench/files: a 1 GiB download, random 1 MiB ranges and a 256 MiB upload; runnel's real download
// and upload endpoints against nginx (sendfile), a bare node:http createReadStream server and sirv.
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { call } from '../sse-fanout/ipc.js';
import { findNginx, startNginx } from './nginx.js';
import { writePatternFile } from './pattern.js';
import { cpuMsOf, machineBusyMs, rssOf, sampleRss } from './proc.js';
import { ensureBuild, signUp, startRunnel } from './runnel.js';

const here = fileURLToPath(new URL('.', import.meta.url));
const root = fileURLToPath(new URL('../..', import.meta.url));

const MiB = 1024 * 1024;
const FILE_BYTES = Number(process.env.BENCH_FILE_MIB ?? 1024) * MiB;
const UPLOAD_BYTES = Math.min(256 * MiB, FILE_BYTES);
const UPLOAD_CHUNK = 4 * MiB;
const UPLOAD_ROUNDS = 3;
const RANGE_BYTES = Number(process.env.BENCH_RANGE_KIB ?? 1024) * 1024;
const CONNECTIONS = 50;
const RANGE_MS = Number(process.env.BENCH_RANGE_MS ?? 6000);
const RANGE_ROUNDS = 3;
const RANGE_WARM_MS = 2000;
/** Whole downloads per server after one unmeasured warm-up; the median counts. */
const DOWNLOAD_ROUNDS = 5;
const RSS_LIMIT = 64 * MiB;
/** The whole bench is killed past this, children included. */
const DEADLINE_MS = 175_000;
const NGINX_HINT = 'apt-get install -y nginx';
/** Node flags for runnel's server, for working on it (printed in the first line; none by default). */
const RUNNEL_FLAGS = (process.env.BENCH_RUNNEL_FLAGS ?? '').split(' ').filter(Boolean);
/** Parts to measure, for working on one (comma-separated: download, ranges, upload; all by default). */
const ONLY = new Set((process.env.BENCH_ONLY ?? 'download,ranges,upload').split(',').map((part) => part.trim()));

const children = new Set();
const stoppers = new Set();
let work;
function cleanUp() {
	for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
	children.clear();
	if (work) rmSync(work, { recursive: true, force: true });
	work = undefined;
}
process.on('exit', cleanUp);
for (const signal of ['SIGINT', 'SIGTERM']) {
	process.on(signal, () => {
		console.error(`\nfiles: ${signal}, stopping`);
		process.exit(130);
	});
}
setTimeout(() => {
	console.error(`files: over ${DEADLINE_MS / 1000} s, giving up`);
	process.exit(1);
}, DEADLINE_MS).unref();

/** Pins servers to core 0 and the load generator to core 1 when taskset works and there are two cores. */
function pinning() {
	const cores = availableParallelism();
	const taskset = spawnSync('taskset', ['-c', '0', 'true']).status === 0;
	if (taskset && cores >= 2) return { server: ['taskset', '-c', '0'], load: ['taskset', '-c', '1'], note: 'servers on core 0, client on core 1' };
	const why = taskset ? `only ${cores} core` : 'taskset not found';
	return { server: [], load: [], note: `NOT pinned (${why}): servers and client share the CPU` };
}

/** Starts a node script as a pinned child with an IPC channel (it exits when the channel closes). */
function startNode(pin, file, env = {}) {
	const [command, ...args] = [...pin, process.execPath, file];
	const child = spawn(command, args, { cwd: root, env: { ...process.env, ...env }, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
	children.add(child);
	child.once('exit', () => children.delete(child));
	const stop = async () => {
		if (child.exitCode !== null || child.signalCode !== null) return;
		const exited = new Promise((resolve) => child.once('exit', resolve));
		if (child.connected) child.disconnect();
		const timer = setTimeout(() => child.kill('SIGKILL'), 1000);
		await exited;
		clearTimeout(timer);
	};
	return { child, stop };
}

/** Remembers a started server so the end (or a failure) stops it. */
function track(server) {
	children.add(server.child);
	stoppers.add(server.stop);
	return server;
}

/** Runs one load command while measuring the server's CPU and the rest of the machine's. */
async function measured(load, pid, command) {
	const busy = machineBusyMs();
	const serverCpu = cpuMsOf(pid);
	const result = await call(load, command);
	const serverMs = cpuMsOf(pid) - serverCpu;
	return { ...result, serverMs, othersMs: machineBusyMs() - busy - serverMs - result.cpuMs };
}

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const spread = (values) => (Math.max(...values) - Math.min(...values)) / median(values);
const percent = (ms, wallMs) => (Number.isNaN(ms) ? '?' : `${Math.max(0, Math.round((ms / wallMs) * 100))}%`);

/** Rounds run the contenders in turn, the order reversed every other round, so drift in the machine's load hits all alike. */
function* turns(contenders, rounds) {
	for (let round = 0; round < rounds; round++) yield* (round % 2 ? [...contenders].reverse() : contenders).map((contender) => [round, contender]);
}

/** Summarises measured rounds of one contender: the median rate, its spread, and CPU shares over all of them. */
function summary(rounds, rateOf) {
	const rates = rounds.map(rateOf);
	const wallMs = rounds.reduce((sum, r) => sum + r.wallMs, 0);
	const share = (pick) => percent(rounds.reduce((total, r) => total + pick(r), 0), wallMs);
	return { rate: median(rates), spread: spread(rates), serverCpu: share((r) => r.serverMs), loadCpu: share((r) => r.cpuMs), otherCpu: share((r) => r.othersMs) };
}

/** Whole downloads: one warm-up each, then DOWNLOAD_ROUNDS rounds; each server's RSS sampled from before its warm-up. */
async function downloads(load, contenders) {
	const command = (c) => ({ type: 'download', port: c.port, path: c.path, headers: c.headers, size: FILE_BYTES });
	const state = new Map(contenders.map((c) => [c, { rssBefore: rssOf(c.pid), sampler: sampleRss(c.pid), rounds: [] }]));
	for (const contender of contenders) await call(load, command(contender));
	for (const [, contender] of turns(contenders, DOWNLOAD_ROUNDS)) state.get(contender).rounds.push(await measured(load, contender.pid, command(contender)));
	return contenders.map((contender) => {
		const { rssBefore, sampler, rounds } = state.get(contender);
		return { name: contender.name, rssGrowth: sampler.stop() - rssBefore, ...summary(rounds, (r) => r.bytes / (r.wallMs / 1000)) };
	});
}

/** Random RANGE_BYTES ranges on CONNECTIONS connections: a short warm-up each, then RANGE_ROUNDS rounds of RANGE_MS / RANGE_ROUNDS. */
async function ranges(load, contenders) {
	const command = (c) => ({ type: 'ranges', port: c.port, path: c.path, headers: c.headers, size: FILE_BYTES, connections: CONNECTIONS, rangeBytes: RANGE_BYTES });
	for (const contender of contenders) await call(load, { ...command(contender), ms: RANGE_WARM_MS, seed: 1 });
	const rounds = new Map(contenders.map((c) => [c, []]));
	for (const [round, contender] of turns(contenders, RANGE_ROUNDS)) {
		rounds.get(contender).push(await measured(load, contender.pid, { ...command(contender), ms: RANGE_MS / RANGE_ROUNDS, seed: 1000 + round }));
	}
	return contenders.map((contender) => {
		const measuredRounds = rounds.get(contender);
		const latencies = (pick) => median(measuredRounds.map(pick));
		return {
			name: contender.name,
			...summary(measuredRounds, (r) => r.requests / (r.windowMs / 1000)),
			bytesPerSec: median(measuredRounds.map((r) => r.bytes / (r.windowMs / 1000))),
			p50: latencies((r) => r.p50),
			p99: latencies((r) => r.p99)
		};
	});
}

function table(head, rows) {
	const widths = head.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i].length)));
	const line = (cells) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
	return [line(head), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

const gbps = (bytesPerSec) => (bytesPerSec / 1e9).toFixed(2);
const checks = [];
/** Prints one ratio line; with a target it counts towards the exit code. */
function ratio(what, value, target) {
	if (target === undefined) return console.log(`  ${what.padEnd(34)} ${value.toFixed(2)} (context, no target)`);
	const pass = target.op === '>=' ? value >= target.value : value <= target.value;
	checks.push(pass);
	console.log(`  ${what.padEnd(34)} ${value.toFixed(2)} (target ${target.op} ${target.value}) ${pass ? 'PASS' : 'MISS'}`);
}
function skipped(what, why) {
	console.log(`  ${what.padEnd(34)} skipped (${why})`);
}

const pin = pinning();
const nginxBinary = findNginx();
console.log(`files: ${FILE_BYTES / MiB} MiB file, node ${process.version}, ${pin.note}; GB = 10^9 bytes${RUNNEL_FLAGS.length ? `; runnel runs with ${RUNNEL_FLAGS.join(' ')}` : ''}`);
console.log(`  whole downloads: median of ${DOWNLOAD_ROUNDS} rounds after a warm-up; ranges: ${CONNECTIONS} connections, ${RANGE_BYTES / MiB} MiB each, median of ${RANGE_ROUNDS} rounds of ${RANGE_MS / RANGE_ROUNDS / 1000} s; upload: ${UPLOAD_BYTES / MiB} MiB, median of ${UPLOAD_ROUNDS}; servers take turns within a round`);
console.log(`  ${ensureBuild(root)}`);

work = mkdtempSync(join(tmpdir(), 'runnel-bench-files-'));
chmodSync(work, 0o755);
const served = join(work, 'served');
mkdirSync(served, { mode: 0o755 });
const bigFile = join(served, 'big.bin');
let started = performance.now();
await writePatternFile(bigFile, FILE_BYTES);
console.log(`  wrote the ${FILE_BYTES / MiB} MiB file in ${((performance.now() - started) / 1000).toFixed(1)} s`);

const rows = { download: [], ranges: [], upload: [] };
try {
	const load = startNode(pin.load, `${here}load.js`);
	stoppers.add(load.stop);

	const runnel = track(await startRunnel(root, join(work, 'runnel-data'), pin.server, RUNNEL_FLAGS));
	const cookie = await signUp(runnel.port);
	started = performance.now();
	const seeded = await call(load.child, { type: 'uploadRunnel', port: runnel.port, cookie, path: bigFile, size: FILE_BYTES, chunkBytes: UPLOAD_CHUNK, name: 'big.bin' });
	console.log(`  uploaded it to runnel through /api/uploads in ${((performance.now() - started) / 1000).toFixed(1)} s (hashing included)`);
	const runnelContender = { name: 'runnel file()', port: runnel.port, pid: runnel.child.pid, path: `/api/files/${seeded.file.id}/download`, headers: { cookie } };

	const bare = startNode(pin.server, `${here}server-bare.js`, { BENCH_DIR: served });
	stoppers.add(bare.stop);
	const bareContender = { name: 'bare createReadStream', port: (await call(bare.child, { type: 'ready' })).port, pid: bare.child.pid, path: '/big.bin', headers: {} };

	let nginxContender = null;
	let nginxSkip = nginxBinary ? null : `nginx not installed: ${NGINX_HINT}`;
	if (nginxBinary) {
		try {
			const nginx = track(await startNginx(nginxBinary, join(work, 'nginx'), served, pin.server));
			nginxContender = { name: 'nginx sendfile', port: nginx.port, pid: nginx.child.pid, path: '/big.bin', headers: {} };
		} catch (error) {
			nginxSkip = `nginx did not start: ${error.message}`;
		}
	}

	if (ONLY.has('download')) {
		rows.download = await downloads(load.child, [nginxContender, bareContender, runnelContender].filter(Boolean));
		console.log('  measured whole downloads');
	}

	const sirv = startNode(pin.server, `${here}server-sirv.js`, { BENCH_DIR: served });
	stoppers.add(sirv.stop);
	const sirvContender = { name: 'sirv', port: (await call(sirv.child, { type: 'ready' })).port, pid: sirv.child.pid, path: '/big.bin', headers: {} };
	if (ONLY.has('ranges')) {
		rows.ranges = await ranges(load.child, [sirvContender, runnelContender, nginxContender].filter(Boolean));
		console.log('  measured ranges');
	}

	const uploaders = [
		{ name: 'runnel /api/uploads', pid: runnel.child.pid, command: { type: 'uploadRunnel', port: runnel.port, cookie, path: bigFile, size: UPLOAD_BYTES, chunkBytes: UPLOAD_CHUNK, name: 'up.bin' } },
		{ name: 'plain POST to disk', pid: bare.child.pid, command: { type: 'uploadPlain', port: bareContender.port, path: bigFile, size: UPLOAD_BYTES, target: 'posted.bin' } }
	];
	const uploadRounds = new Map(uploaders.map((u) => [u, []]));
	for (const [, uploader] of turns(uploaders, ONLY.has('upload') ? UPLOAD_ROUNDS : 0)) uploadRounds.get(uploader).push(await measured(load.child, uploader.pid, uploader.command));
	if (ONLY.has('upload')) rows.upload = uploaders.map((u) => ({ name: u.name, ...summary(uploadRounds.get(u), (r) => r.bytes / (r.wallMs / 1000)) }));
	if (ONLY.has('upload')) console.log('  measured uploads');

	if (rows.download.length) {
		console.log('\nwhole download');
		console.log(table(['server', 'GB/s', '±', 'RSS growth MB', 'srv CPU', 'load CPU', 'other CPU'], [
			...rows.download.map((r) => [r.name, gbps(r.rate), `${Math.round(r.spread * 100)}%`, (r.rssGrowth / MiB).toFixed(1), r.serverCpu, r.loadCpu, r.otherCpu]),
			...(nginxSkip ? [['nginx sendfile', 'skipped', '', '', '', '', '']] : [])
		]));
	}
	if (rows.ranges.length) {
		console.log(`\nrandom ${RANGE_BYTES / MiB} MiB ranges, ${CONNECTIONS} connections`);
		console.log(table(['server', 'requests/s', '±', 'GB/s', 'p50 ms', 'p99 ms', 'srv CPU', 'load CPU', 'other CPU'], [
			...rows.ranges.map((r) => [r.name, Math.round(r.rate).toLocaleString('en-US'), `${Math.round(r.spread * 100)}%`, gbps(r.bytesPerSec), r.p50.toFixed(1), r.p99.toFixed(1), r.serverCpu, r.loadCpu, r.otherCpu]),
			...(nginxSkip ? [['nginx sendfile', 'skipped', '', '', '', '', '', '', '']] : [])
		]));
	}
	if (rows.upload.length) {
		console.log(`\nupload of ${UPLOAD_BYTES / MiB} MiB (runnel: ${UPLOAD_CHUNK / MiB} MiB chunks)`);
		console.log(table(['path', 'MB/s', '±', 'srv CPU', 'load CPU', 'other CPU'], rows.upload.map((r) => [r.name, (r.rate / 1e6).toFixed(0), `${Math.round(r.spread * 100)}%`, r.serverCpu, r.loadCpu, r.otherCpu])));
	}
	if (nginxSkip) console.log(`\nnginx rows skipped: ${nginxSkip}`);

	const byName = (list, name) => list.find((r) => r.name === name);
	console.log('\nratios');
	const runnelDownload = byName(rows.download, 'runnel file()');
	if (runnelDownload) {
		const nginxDownload = byName(rows.download, 'nginx sendfile');
		if (nginxDownload) ratio('download runnel / nginx', runnelDownload.rate / nginxDownload.rate, { op: '>=', value: 0.5 });
		else skipped('download runnel / nginx', nginxSkip);
		ratio('download runnel / bare', runnelDownload.rate / byName(rows.download, 'bare createReadStream').rate, { op: '>=', value: 1.5 });
		ratio('runnel RSS growth MB (absolute)', runnelDownload.rssGrowth / MiB, { op: '<=', value: RSS_LIMIT / MiB });
	}
	if (rows.ranges.length) {
		ratio('ranges/s runnel / sirv', byName(rows.ranges, 'runnel file()').rate / byName(rows.ranges, 'sirv').rate, { op: '>=', value: 1.0 });
		const nginxRanges = byName(rows.ranges, 'nginx sendfile');
		if (nginxRanges) ratio('ranges/s runnel / nginx', byName(rows.ranges, 'runnel file()').rate / nginxRanges.rate);
	}
	if (rows.upload.length) ratio('upload runnel / plain POST', rows.upload[0].rate / rows.upload[1].rate);

	const contended = [...rows.download, ...rows.ranges, ...rows.upload].filter((r) => Number.parseInt(r.otherCpu, 10) > 15);
	for (const r of contended) console.log(`\nWARNING ${r.name}: other processes used ${r.otherCpu} of a core meanwhile: rerun on a quiet machine`);
	if (checks.includes(false)) process.exitCode = 1;
} catch (error) {
	console.log(`\nFAILED: ${error.stack ?? error}`);
	process.exitCode = 1;
} finally {
	await Promise.all([...stoppers].map((stop) => stop().catch(() => undefined)));
	cleanUp();
}

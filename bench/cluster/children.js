// Child processes of bench/cluster (instances and load generators, driven over IPC) and the CPU they cost.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { call } from '../sse-fanout/ipc.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
/** USER_HZ of /proc/stat. */
const TICKS_PER_SECOND = 100;

/** Every child still running: index.js kills them when the bench ends, however it ends. */
export const children = new Set();

/** A node child with an IPC channel and a raised open-file limit (1,000 SSE clients and 200 sockets). */
export function startChild(file, env = {}) {
	const raise = 'ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null; exec "$@"';
	const child = spawn('sh', ['-c', raise, 'sh', process.execPath, file], { cwd: root, env: { ...process.env, ...env }, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
	children.add(child);
	child.once('exit', () => children.delete(child));
	return child;
}

/** Closes the IPC channel (the child exits on it), and kills the child if it is still there after 3 s. */
export async function stopChild(child) {
	if (child.exitCode !== null || child.signalCode !== null) return;
	const exited = new Promise((resolve) => child.once('exit', resolve));
	if (child.connected) child.disconnect();
	const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
	await exited;
	clearTimeout(timer);
}

/** Polls `check` every 50 ms; rejects after `timeoutMs`. */
export async function waitFor(check, what, timeoutMs = 15_000) {
	const end = performance.now() + timeoutMs;
	while (!(await check())) {
		if (performance.now() > end) throw new Error(`timed out waiting for ${what}`);
		await sleep(50);
	}
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

/**
 * Runs `step()` (which returns the load generator's `loadCpuMs`) and adds the share of a core the
 * instances, the load generator and everything else on the machine used meanwhile.
 */
export async function metered(instances, step) {
	await Promise.all(instances.map((i) => call(i, { type: 'cpu' })));
	const busy = machineBusyMs();
	const start = performance.now();
	const result = await step();
	const wallMs = performance.now() - start;
	const instanceMs = (await Promise.all(instances.map((i) => call(i, { type: 'cpu' })))).reduce((sum, c) => sum + c.ms, 0);
	const otherMs = machineBusyMs() - busy - instanceMs - result.loadCpuMs;
	return { ...result, cpu: { instanceMs, instances: instanceMs / wallMs, load: result.loadCpuMs / wallMs, other: Math.max(0, otherMs / wallMs) } };
}

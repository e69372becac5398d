// What the benches that start the production build share: child processes that never outlive the
// bench, pinning to cores, starting a server until it says it is ready, medians.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';

/** Children to kill and folders to remove when the bench ends, however it ends. */
export const children = new Set();
const folders = new Set();

/** Removes `dir` when the bench ends. */
export function removeAtEnd(dir) {
	folders.add(dir);
	return dir;
}

/** Kills every child still running and removes the folders. */
export function killAll() {
	for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
	children.clear();
	for (const dir of folders) rmSync(dir, { recursive: true, force: true });
	folders.clear();
}

/**
 * Cleans up at exit and on SIGINT/SIGTERM, and gives up (exit 1) past `deadlineMs`.
 * @example guard('jobs', 600_000);
 */
export function guard(name, deadlineMs) {
	process.on('exit', killAll);
	for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => (killAll(), process.exit(130)));
	setTimeout(() => {
		console.error(`${name}: over ${deadlineMs / 1000} s, giving up`);
		killAll();
		process.exit(1);
	}, deadlineMs).unref();
}

/** Pins servers to core 0 and load to core 1 when taskset works and there are two cores; `note` says what went where. */
export function pinning(note) {
	const taskset = spawnSync('taskset', ['-c', '0', 'true']).status === 0;
	if (taskset && availableParallelism() >= 2) return { server: ['taskset', '-c', '0'], load: ['taskset', '-c', '1'], note };
	return { server: [], load: [], note: `unpinned (${taskset ? 'one core' : 'no taskset'})` };
}

/** Starts a node process (pinned); resolves when `ready` matches its output, with the match. */
export function start(pin, args, env, ready, timeoutMs = 30_000) {
	const [command, ...rest] = [...pin, process.execPath, ...args];
	const child = spawn(command, rest, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
	children.add(child);
	let output = '';
	return new Promise((resolve, reject) => {
		const timer = setTimeout(() => reject(new Error(`${args[0]} not ready in ${timeoutMs / 1000} s:\n${output.slice(-2000)}`)), timeoutMs);
		child.stdout.on('data', (chunk) => {
			output += chunk;
			const match = ready.exec(output);
			if (match) {
				clearTimeout(timer);
				resolve({ child, match, output: () => output });
			}
		});
		child.stderr.on('data', (chunk) => (output += chunk));
		child.once('exit', (code) => reject(new Error(`${args[0]} exited (${code}):\n${output.slice(-2000)}`)));
	});
}

/** Builds the app when `build/server.js` is missing. */
export function ensureBuild(root) {
	if (existsSync(join(root, 'build/server.js'))) return;
	console.log('building the app first (npm run build)…');
	if (spawnSync('npm', ['run', 'build'], { cwd: root, stdio: 'inherit' }).status !== 0) throw new Error('build failed');
}

export const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

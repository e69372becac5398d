// Runnel's real path: the production build (`node build/server.js`) on a temp DATA_DIR and a free port.
import { spawn, spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

/** Newest modification time (ms) of the files under `path` (or of `path` itself). */
function newest(path) {
	const stats = statSync(path, { throwIfNoEntry: false });
	if (!stats) return 0;
	if (!stats.isDirectory()) return stats.mtimeMs;
	return Math.max(0, ...readdirSync(path).map((name) => newest(join(path, name))));
}

/**
 * Runs `npm run build` when build/server.js is missing or older than the sources; returns what it did.
 * @example console.log(ensureBuild(root)); // 'build/server.js is up to date'
 */
export function ensureBuild(root) {
	const built = newest(join(root, 'build', 'server.js'));
	const sources = Math.max(...['src', 'server.ts', 'svelte.config.js', 'vite.config.ts', 'package-lock.json'].map((p) => newest(join(root, p))));
	if (built > 0 && built >= sources) return 'build/server.js is up to date';
	const result = spawnSync('npm', ['run', 'build'], { cwd: root, encoding: 'utf8' });
	if (result.status !== 0) throw new Error(`npm run build failed:\n${result.stdout}\n${result.stderr}`);
	return built ? 'rebuilt: build/server.js was older than src' : 'built: build/server.js was missing';
}

/**
 * Starts `node build/server.js` with PORT=0 on `dataDir` (pinned with `pin`) and resolves with its
 * port once it logs that it listens; `child.pid` is the server's own pid (taskset execs it).
 */
export async function startRunnel(root, dataDir, pin, nodeArgs = []) {
	const [command, ...args] = [...pin, process.execPath, ...nodeArgs, join(root, 'build', 'server.js')];
	const child = spawn(command, args, {
		cwd: root,
		env: { ...process.env, PORT: '0', HOST: '127.0.0.1', DATA_DIR: dataDir, LOG_LEVEL: 'info', DEMO_DATA: 'false', NODE_ENV: 'production' },
		stdio: ['ignore', 'pipe', 'pipe']
	});
	let output = '';
	child.stdout.on('data', (chunk) => (output += chunk));
	child.stderr.on('data', (chunk) => (output += chunk));
	const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve(signal ?? code)));
	const port = await new Promise((resolve, reject) => {
		const timer = setTimeout(() => reject(new Error(`runnel did not start in 20 s:\n${output}`)), 20_000);
		child.stdout.on('data', () => {
			const match = /"port":(\d+)[^\n]*Runnel is listening/.exec(output);
			if (match) {
				clearTimeout(timer);
				resolve(Number(match[1]));
			}
		});
		void exited.then((code) => {
			clearTimeout(timer);
			reject(new Error(`runnel exited (${code}) before listening:\n${output}`));
		});
	});
	return {
		port,
		child,
		output: () => output,
		async stop() {
			if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
			const timer = setTimeout(() => child.kill('SIGKILL'), 6000);
			await exited;
			clearTimeout(timer);
		}
	};
}

/** Signs a user up over HTTP; resolves with the session cookie ("runnel_session=…"). */
export async function signUp(port, name = 'bench', password = 'bench-password-123') {
	const response = await fetch(`http://127.0.0.1:${port}/api/auth/signup`, {
		method: 'POST',
		headers: { 'content-type': 'application/json' },
		body: JSON.stringify({ name, password })
	});
	if (response.status !== 201) throw new Error(`sign-up failed: ${response.status} ${await response.text()}`);
	return /runnel_session=[^;]+/.exec(response.headers.get('set-cookie'))[0];
}

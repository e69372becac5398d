// `npm start`: builds when build/ is missing or older than the sources, then runs the production server.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const SOURCES = ['src', 'static', 'scripts', 'server.ts', 'svelte.config.js', 'vite.config.ts', 'package.json', 'package-lock.json'];
const OUTPUT = join(root, 'build', 'server.js');

/** Newest modification time under a path, in ms. @param {string} path */
function newest(path) {
	if (!existsSync(path)) return 0;
	const stat = statSync(path);
	if (!stat.isDirectory()) return stat.mtimeMs;
	let max = stat.mtimeMs;
	for (const entry of readdirSync(path)) max = Math.max(max, newest(join(path, entry)));
	return max;
}

const sourcesTime = Math.max(...SOURCES.map((s) => newest(join(root, s))));
if (!existsSync(OUTPUT) || statSync(OUTPUT).mtimeMs < sourcesTime) {
	console.log(existsSync(OUTPUT) ? 'Sources changed since the last build: building…' : 'No build yet: building…');
	const result = spawnSync('npm', ['run', 'build'], { cwd: root, stdio: 'inherit' });
	if (result.status !== 0) {
		console.error('The build failed; see above.');
		process.exit(result.status ?? 1);
	}
}

process.env.RUNNEL_NO_MAIN = '1';
const server = await import(pathToFileURL(OUTPUT).href);
await server.main();

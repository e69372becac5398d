// npm run bench: runs every bench/<name>/index.js in turn, each in its own node process.
import { spawnSync } from 'node:child_process';
import { readdirSync, existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const here = fileURLToPath(new URL('.', import.meta.url));
const only = process.argv.slice(2);
const benches = readdirSync(here, { withFileTypes: true })
	.filter((entry) => entry.isDirectory() && !entry.name.startsWith('.') && existsSync(`${here}${entry.name}/index.js`))
	.map((entry) => entry.name)
	.filter((name) => only.length === 0 || only.includes(name))
	.sort();

const failed = [];
for (const name of benches) {
	console.log(`\n=== bench/${name} ===`);
	const { status, signal } = spawnSync(process.execPath, [`${here}${name}/index.js`], { stdio: 'inherit' });
	if (status !== 0) failed.push(`${name} (${signal ?? `exit ${status}`})`);
}
console.log(`\n${benches.length - failed.length} of ${benches.length} benches met their targets${failed.length ? `; not: ${failed.join(', ')}` : ''}`);
process.exitCode = failed.length ? 1 : 0;

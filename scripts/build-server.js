// Bundles server.ts into build/server.js; packages stay external (they are runtime dependencies).
import { build } from 'esbuild';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));

await build({
	entryPoints: [`${root}server.ts`],
	outfile: `${root}build/server.js`,
	bundle: true,
	platform: 'node',
	format: 'esm',
	target: 'node20',
	packages: 'external',
	external: ['./handler.js'],
	alias: { $lib: `${root}src/lib` },
	sourcemap: true,
	logLevel: 'warning'
});
console.log('built build/server.js');

// `npm run gen [-- --check]`: Node 20 cannot run .ts, so bundle scripts/generate-api.ts with esbuild and import it.
import { build } from 'esbuild';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
// Inside node_modules so the bundle's external imports (typescript) resolve from the project.
const outfile = `${root}node_modules/.cache/runnel/generate-api.mjs`;

await build({
	entryPoints: [`${root}scripts/generate-api.ts`],
	outfile,
	bundle: true,
	platform: 'node',
	format: 'esm',
	target: 'node20',
	packages: 'external',
	logLevel: 'warning'
});
const { main } = await import(`${pathToFileURL(outfile).href}?t=${Date.now()}`);
process.exitCode = main(process.argv.slice(2), root);

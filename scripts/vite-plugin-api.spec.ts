import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createServer, type ViteDevServer } from 'vite';
import { afterEach, describe, expect, it } from 'vitest';
import { apiGenerator } from './vite-plugin-api';

let root: string;
let server: ViteDevServer | undefined;

afterEach(async () => {
	await server?.close();
	rmSync(root, { recursive: true, force: true });
});

function route(path: string, doc: string) {
	const file = join(root, 'src/routes/api', path, '+server.ts');
	mkdirSync(dirname(file), { recursive: true });
	writeFileSync(file, `/** ${doc} */\nexport const GET = (async () => json({ ok: true })) satisfies RequestHandler;\n`);
}

async function until(condition: () => boolean, timeout = 5000) {
	const start = Date.now();
	while (!condition()) {
		if (Date.now() - start > timeout) throw new Error('timed out waiting');
		await new Promise((resolve) => setTimeout(resolve, 20));
	}
}

describe('apiGenerator', () => {
	it('generates on dev server start and again when an api route changes', async () => {
		root = mkdtempSync(join(tmpdir(), 'runnel-plugin-'));
		route('pets', 'Lists pets.');
		server = await createServer({
			root,
			configFile: false,
			logLevel: 'silent',
			mode: 'development',
			plugins: [apiGenerator()],
			server: { middlewareMode: true, ws: false }
		});
		// Files created during the watcher's first scan count as already there: wait for it.
		const watcher = server.watcher;
		await until(() => join(root, 'src/routes/api/pets') in watcher.getWatched());
		const pets = join(root, 'src/lib/api/pets.api.ts');
		expect(readFileSync(pets, 'utf8')).toContain('export function getPets(');

		route('pets/[id]', 'One pet.');
		await until(() => readFileSync(pets, 'utf8').includes('export function getPet('));
		rmSync(join(root, 'src/routes/api/pets'), { recursive: true });
		await until(() => !existsSync(pets));
	});
});

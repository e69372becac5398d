import { createHash, randomBytes } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readlink, rm, symlink, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { file, type FileSource } from './file';
import { serve, serveAtNodeLevel, type TestServer } from './test-server';

const MODIFIED = new Date('2024-01-02T03:04:05Z');
let dir: string;
const sources = new Map<string, FileSource>();

beforeAll(async () => {
	dir = await mkdtemp(join(tmpdir(), 'runnel-file-body-'));
});
afterAll(async () => {
	await rm(dir, { recursive: true, force: true });
});

/** How many of this process's file descriptors are open on `path` (Linux /proc). */
async function openFds(path: string): Promise<number> {
	const fds = await readdir('/proc/self/fd');
	const targets = await Promise.all(fds.map((fd) => readlink(`/proc/self/fd/${fd}`).catch(() => '')));
	return targets.filter((target) => target === path).length;
}

async function until(check: () => Promise<boolean>, ms = 3000): Promise<void> {
	for (const deadline = Date.now() + ms; !(await check()); ) {
		if (Date.now() > deadline) throw new Error('timed out');
		await new Promise((resolve) => setTimeout(resolve, 20));
	}
}

/** A 64 MiB sparse file: far more than socket buffers hold, so a download of it stays open until read. */
async function bigFile(key: string): Promise<string> {
	const path = join(dir, key);
	await writeFile(path, '');
	await truncate(path, 64 * 1024 * 1024);
	sources.set(key, { path, size: 64 * 1024 * 1024, sha256: 'ab'.repeat(32), modified: MODIFIED, name: 'big.bin' });
	return path;
}

// Read as a web stream (adapter-node, dev), and written by FilePieces itself with pooled buffers (the production server).
describe.each([
	['through the web stream', serve],
	['at the node level', serveAtNodeLevel]
])('file() bodies over HTTP, %s', (_, start) => {
	let server: TestServer;
	beforeAll(async () => {
		server = await start((request) => file(request, sources.get(new URL(request.url).pathname.slice(1))!));
	});
	afterAll(() => server?.close());

	it('streams a 5 MiB file whole, matching its SHA-256 and Content-Length', async () => {
		const bytes = randomBytes(5 * 1024 * 1024);
		const sha256 = createHash('sha256').update(bytes).digest('hex');
		const path = join(dir, 'five');
		await writeFile(path, bytes);
		sources.set('five', { path, size: bytes.length, sha256, modified: MODIFIED, name: 'five.bin' });
		const response = await fetch(`${server.url}/five`);
		expect(response.headers.get('content-length')).toBe(String(bytes.length));
		const received = Buffer.from(await response.arrayBuffer());
		expect(createHash('sha256').update(received).digest('hex')).toBe(sha256);
		expect(await openFds(path)).toBe(0);
	});

	it('serves 24 files at once, in whole and in ranges, each byte right (read buffers are reused between downloads)', async () => {
		const keys = await Promise.all(
			Array.from({ length: 24 }, async (_, i) => {
				const bytes = randomBytes(1024 * 1024 + 4096 * i + 7);
				const key = `many-${i}`;
				await writeFile(join(dir, key), bytes);
				sources.set(key, { path: join(dir, key), size: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex'), modified: MODIFIED, name: `${key}.bin` });
				return { key, bytes };
			})
		);
		for (let round = 0; round < 3; round++) {
			await Promise.all(
				keys.map(async ({ key, bytes }, i) => {
					const start = (i * 7919 * (round + 1)) % bytes.length;
					const whole = (i + round) % 3 === 0;
					const response = await fetch(`${server.url}/${key}`, { headers: whole ? {} : { range: `bytes=${start}-` } });
					expect(response.status).toBe(whole ? 200 : 206);
					const received = Buffer.from(await response.arrayBuffer());
					expect(received.equals(whole ? bytes : bytes.subarray(start)), `${key} round ${round}`).toBe(true);
				})
			);
		}
		for (const { key } of keys) expect(await openFds(join(dir, key))).toBe(0);
	});

	it.each([
		['a whole download', {}],
		['a multipart download', { range: 'bytes=0-1,-60000000' }]
	])('closes the file when the client aborts %s', async (_, headers) => {
		const path = await bigFile('big');
		const abort = new AbortController();
		const response = await fetch(`${server.url}/big`, { headers, signal: abort.signal });
		const reader = response.body!.getReader();
		await reader.read();
		expect(await openFds(path)).toBe(1);
		abort.abort();
		await until(async () => (await openFds(path)) === 0);
	});

	it('closes the file after a HEAD, a 304 and a 416', async () => {
		const path = await bigFile('big');
		await fetch(`${server.url}/big`, { method: 'HEAD' });
		await fetch(`${server.url}/big`, { headers: { 'if-none-match': `"${'ab'.repeat(32)}"` } });
		const refused = await fetch(`${server.url}/big`, { headers: { range: 'bytes=99999999-' } });
		expect(refused.status).toBe(416);
		await until(async () => (await openFds(path)) === 0);
	});

	it('never follows a symlink, nor opens a FIFO or a folder: 404 and no byte of what they point at', async () => {
		const here = await mkdtemp(join(dir, 'links-'));
		const secret = join(here, 'secret');
		await writeFile(secret, 'TOP-SECRET');
		const link = join(here, 'link');
		await symlink(secret, link);
		const fifo = join(here, 'fifo');
		execFileSync('mkfifo', [fifo]); // opening it for reading would block until a writer came
		const folder = join(here, 'folder');
		await mkdir(folder);
		for (const [key, path] of [['link', link], ['fifo', fifo], ['folder', folder]]) {
			sources.set(key, { path, size: 10, sha256: 'ef'.repeat(32), modified: MODIFIED, name: `${key}.txt` });
			for (const method of ['GET', 'HEAD']) {
				const response = await fetch(`${server.url}/${key}`, { method });
				expect(response.status, `${method} ${key}`).toBe(404);
				expect(await response.text()).not.toContain('TOP-SECRET');
			}
			expect(await openFds(path), key).toBe(0);
		}
		expect(await openFds(secret)).toBe(0);
	});

	it('refuses with 500 a file whose size on disk differs from its record', async () => {
		const path = join(dir, 'changed');
		await writeFile(path, 'longer than recorded');
		sources.set('changed', { path, size: 3, sha256: 'cd'.repeat(32), modified: MODIFIED, name: 'changed.txt' });
		const response = await fetch(`${server.url}/changed`);
		expect(response.status).toBe(500);
		await response.text();
		expect(await openFds(path)).toBe(0);
	});
});

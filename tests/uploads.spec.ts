import { expect, test } from '@playwright/test';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { request as httpRequest, type ClientRequest, type IncomingMessage } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openAppDb } from './support/app-db';
import { call, signUp } from './support/clients';
import { startServer, type AppServer } from './support/server';

const KiB = 1024;
const CHUNK = 256 * KiB;
const hex = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');
const checksum = (bytes: Buffer) => `sha256 ${createHash('sha256').update(bytes).digest('base64')}`;

async function begin(app: AppServer, cookie: string, bytes: Buffer, sha256 = hex(bytes)) {
	const created = await call(app.url, cookie, 'POST', '/api/uploads', { name: '../reports/q3.bin', size: bytes.length, sha256, type: 'application/octet-stream' });
	expect(created.status, JSON.stringify(created.body)).toBe(201);
	expect(created.body).toMatchObject({ offset: 0, chunkSize: expect.any(Number) });
	return created.body.id as string;
}

function patch(app: AppServer, cookie: string, id: string, offset: number, chunk: Buffer, sum = checksum(chunk)) {
	return fetch(`${app.url}/api/uploads/${id}`, {
		method: 'PATCH',
		headers: { cookie, 'content-type': 'application/offset+octet-stream', 'upload-offset': String(offset), 'upload-checksum': sum },
		body: new Uint8Array(chunk)
	});
}

async function serverOffset(app: AppServer, cookie: string, id: string): Promise<number> {
	const head = await fetch(`${app.url}/api/uploads/${id}`, { method: 'HEAD', headers: { cookie } });
	expect(head.status).toBe(200);
	return Number(head.headers.get('upload-offset'));
}

/** Sends chunks from `from` until `to` (default: the end); resolves with the last response. */
async function send(app: AppServer, cookie: string, id: string, bytes: Buffer, from: number, to = bytes.length) {
	let last: Response | undefined;
	for (let offset = from; offset < to; offset += CHUNK) {
		last = await patch(app, cookie, id, offset, bytes.subarray(offset, Math.min(offset + CHUNK, to)));
		const end = Math.min(offset + CHUNK, to);
		if (end < bytes.length) {
			expect(last.status, await last.clone().text()).toBe(204);
			expect(last.headers.get('upload-offset')).toBe(String(end));
		}
	}
	return last!;
}

/** A raw PATCH whose body we write by hand (node:http), to stall or cut it. */
function rawPatch(app: AppServer, cookie: string, id: string, offset: number, length: number, sum: string) {
	const req = httpRequest(`${app.url}/api/uploads/${id}`, {
		method: 'PATCH',
		headers: { cookie, 'content-type': 'application/offset+octet-stream', 'content-length': String(length), 'upload-offset': String(offset), 'upload-checksum': sum }
	});
	const response = new Promise<{ status: number; body: string }>((resolve, reject) => {
		req.on('response', (res: IncomingMessage) => {
			let body = '';
			res.on('data', (c) => (body += c)).on('end', () => resolve({ status: res.statusCode!, body }));
		});
		req.on('error', reject);
	});
	return { req: req as ClientRequest, response };
}

async function expectStored(app: AppServer, cookie: string, file: { id: string; sha256: string; size: number }, bytes: Buffer) {
	expect(file).toMatchObject({ sha256: hex(bytes), size: bytes.length, name: 'q3.bin' });
	const download = await fetch(`${app.url}/api/files/${file.id}/download`, { headers: { cookie } });
	if (download.status === 200) expect(hex(Buffer.from(await download.arrayBuffer()))).toBe(hex(bytes));
	const stored = readdirSync(join(app.dataDir, 'files')).map((name) => hex(readFileSync(join(app.dataDir, 'files', name))));
	expect(stored).toContain(hex(bytes));
}

test('a 3 MiB file in 256 KiB chunks is published; a lost client resumes from HEAD', async () => {
	const app = await startServer();
	try {
		const cookie = await signUp(app.url, 'ana');
		const bytes = randomBytes(3 * 1024 * KiB);
		const id = await begin(app, cookie, bytes);
		const done = await send(app, cookie, id, bytes, 0);
		expect(done.status).toBe(201);
		const { file } = await done.json();
		await expectStored(app, cookie, file, bytes);
		expect((await call(app.url, cookie, 'GET', `/api/uploads/${id}`)).status).toBe(404);
		expect(readdirSync(join(app.dataDir, 'uploads'))).toEqual([]);

		// Half, then the client is "lost": a new one asks the server where to go on.
		const other = randomBytes(3 * 1024 * KiB + 1234);
		const second = await begin(app, cookie, other);
		await send(app, cookie, second, other, 0, 6 * CHUNK);
		const status = await call(app.url, cookie, 'GET', `/api/uploads/${second}`);
		expect(status.body).toEqual({ id: second, name: 'q3.bin', size: other.length, offset: 6 * CHUNK });
		const resumed = await send(app, cookie, second, other, await serverOffset(app, cookie, second));
		expect(resumed.status).toBe(201);
		await expectStored(app, cookie, (await resumed.json()).file, other);
	} finally {
		await app.stop();
	}
});

test('SIGKILL mid-chunk and a restart on the same DATA_DIR: resume from the server\'s offset', async () => {
	let app = await startServer();
	const dataDir = app.dataDir;
	try {
		const cookie = await signUp(app.url, 'kim');
		const bytes = randomBytes(2 * 1024 * KiB);
		const id = await begin(app, cookie, bytes);
		await send(app, cookie, id, bytes, 0, 3 * CHUNK);
		const cut = rawPatch(app, cookie, id, 3 * CHUNK, CHUNK, checksum(bytes.subarray(3 * CHUNK, 4 * CHUNK)));
		cut.response.catch(() => undefined);
		cut.req.write(bytes.subarray(3 * CHUNK, 3 * CHUNK + 100 * KiB));
		await new Promise((resolve) => setTimeout(resolve, 200));
		app.process.kill('SIGKILL');
		await new Promise((resolve) => app.process.once('exit', resolve));
		cut.req.destroy();

		app = await startServer({ dataDir });
		const offset = await serverOffset(app, cookie, id);
		expect(offset).toBe(3 * CHUNK);
		const done = await send(app, cookie, id, bytes, offset);
		expect(done.status).toBe(201);
		await expectStored(app, cookie, (await done.json()).file, bytes);
	} finally {
		await app.stop();
		rmSync(dataDir, { recursive: true, force: true });
	}
});

test('refusals: bad checksum, wrong offset, oversize, past the size, concurrent, other users, signed out, cancel', async () => {
	const app = await startServer({ env: { MAX_UPLOAD_BYTES: String(4 * 1024 * KiB) } });
	try {
		const cookie = await signUp(app.url, 'lee');
		const bytes = randomBytes(1024 * KiB);
		const id = await begin(app, cookie, bytes);
		await send(app, cookie, id, bytes, 0, CHUNK);

		// A corrupted chunk is refused and the offset does not move.
		const chunk = bytes.subarray(CHUNK, 2 * CHUNK);
		const corrupted = Buffer.from(chunk);
		corrupted[1000] ^= 0xff;
		const bad = await patch(app, cookie, id, CHUNK, corrupted, checksum(chunk));
		expect(bad.status).toBe(460);
		expect((await bad.json()).error).toMatch(/does not match its Upload-Checksum/);
		expect(await serverOffset(app, cookie, id)).toBe(CHUNK);
		for (const sum of [undefined, 'md5 abc', 'sha256 nope']) {
			const response = await fetch(`${app.url}/api/uploads/${id}`, {
				method: 'PATCH',
				headers: { cookie, 'upload-offset': String(CHUNK), ...(sum ? { 'upload-checksum': sum } : {}) },
				body: new Uint8Array(chunk)
			});
			expect(response.status).toBe(400);
		}

		// Wrong offset: 409 with the server's offset.
		const wrong = await patch(app, cookie, id, 0, bytes.subarray(0, CHUNK));
		expect(wrong.status).toBe(409);
		expect(await wrong.json()).toMatchObject({ offset: CHUNK });
		expect(wrong.headers.get('upload-offset')).toBe(String(CHUNK));

		// Declared too large: 413 before any byte.
		const huge = await call(app.url, cookie, 'POST', '/api/uploads', { name: 'big', size: 4 * 1024 * KiB + 1, sha256: hex(bytes) });
		expect(huge.status).toBe(413);

		// A chunk past the declared size, or larger than a chunk may be: 413 without the body being sent.
		for (const length of [bytes.length, 2048 * KiB]) {
			const past = rawPatch(app, cookie, id, CHUNK, length, checksum(chunk));
			past.req.flushHeaders();
			const answer = await past.response;
			past.req.destroy();
			expect(answer.status).toBe(413);
		}
		expect(await serverOffset(app, cookie, id)).toBe(CHUNK);

		// Two writers at once: the second is told the upload is locked.
		const first = rawPatch(app, cookie, id, CHUNK, CHUNK, checksum(chunk));
		first.req.write(chunk.subarray(0, 100 * KiB));
		await new Promise((resolve) => setTimeout(resolve, 300));
		const second = await patch(app, cookie, id, CHUNK, chunk);
		expect(second.status).toBe(423);
		first.req.end(chunk.subarray(100 * KiB));
		expect((await first.response).status).toBe(204);
		expect(await serverOffset(app, cookie, id)).toBe(2 * CHUNK);

		// Another user sees nothing; no session is 401.
		const bob = await signUp(app.url, 'bob');
		expect((await call(app.url, bob, 'GET', `/api/uploads/${id}`)).status).toBe(404);
		expect((await fetch(`${app.url}/api/uploads/${id}`, { method: 'HEAD', headers: { cookie: bob } })).status).toBe(404);
		expect((await patch(app, bob, id, 2 * CHUNK, bytes.subarray(2 * CHUNK, 3 * CHUNK))).status).toBe(404);
		expect((await call(app.url, bob, 'DELETE', `/api/uploads/${id}`)).status).toBe(404);
		expect((await call(app.url, '', 'GET', `/api/uploads/${id}`)).status).toBe(401);
		expect((await call(app.url, '', 'POST', '/api/uploads', { name: 'a', size: 1, sha256: hex(bytes) })).status).toBe(401);
		expect(await serverOffset(app, cookie, id)).toBe(2 * CHUNK);

		// Cancel: the row and the part are gone.
		expect(existsSync(join(app.dataDir, 'uploads', `${id}.part`))).toBe(true);
		expect((await call(app.url, cookie, 'DELETE', `/api/uploads/${id}`)).body).toEqual({ id, cancelled: true });
		expect((await call(app.url, cookie, 'GET', `/api/uploads/${id}`)).status).toBe(404);
		expect(existsSync(join(app.dataDir, 'uploads', `${id}.part`))).toBe(false);
	} finally {
		await app.stop();
	}
});

test('a finished file whose SHA-256 is not the declared one is refused and nothing is left', async () => {
	const app = await startServer();
	try {
		const cookie = await signUp(app.url, 'max');
		const bytes = randomBytes(600 * KiB);
		const id = await begin(app, cookie, bytes, hex(Buffer.from('something else')));
		const last = await send(app, cookie, id, bytes, 0);
		expect(last.status).toBe(422);
		expect(await last.json()).toEqual({ error: "The file's SHA-256 does not match the declared one; it was not saved." });
		expect(readdirSync(join(app.dataDir, 'uploads'))).toEqual([]);
		expect(existsSync(join(app.dataDir, 'files')) ? readdirSync(join(app.dataDir, 'files')) : []).toEqual([]);
		const db = await openAppDb(app);
		try {
			expect(await db.get('select count(*) as n from uploads')).toEqual({ n: 0 });
			expect(await db.get('select count(*) as n from files')).toEqual({ n: 0 });
		} finally {
			await db.close();
		}
	} finally {
		await app.stop();
	}
});

test('an upload untouched for UPLOAD_STALE_HOURS is swept on the first use after a restart', async () => {
	const env = { UPLOAD_STALE_HOURS: '1' };
	const dataDir = mkdtempSync(join(tmpdir(), 'runnel-e2e-'));
	let app = await startServer({ dataDir, env });
	try {
		const cookie = await signUp(app.url, 'sal');
		const bytes = randomBytes(300 * KiB);
		const stale = await begin(app, cookie, bytes);
		const fresh = await begin(app, cookie, bytes);
		await send(app, cookie, stale, bytes, 0, CHUNK);
		await app.stop();

		// Stopped, the server keeps its store (a restart on the same DATA_DIR finds it).
		const db = await openAppDb(app);
		expect(await db.run('update uploads set updated_at = ? where id = ?', Date.now() - 2 * 3600_000, stale)).toBe(1);
		await db.close();

		app = await startServer({ dataDir, env });
		expect((await call(app.url, cookie, 'GET', `/api/uploads/${stale}`)).status).toBe(404);
		expect(existsSync(join(dataDir, 'uploads', `${stale}.part`))).toBe(false);
		expect(await serverOffset(app, cookie, fresh)).toBe(0);
	} finally {
		await app.stop();
		rmSync(dataDir, { recursive: true, force: true });
	}
});

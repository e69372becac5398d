import { expect, test } from '@playwright/test';
import { createHash, randomBytes } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { mkdirSync, symlinkSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { openAppDb } from './support/app-db';
import { call, follow, signUp, until } from './support/clients';
import { startServer, type AppServer } from './support/server';

// Files are seeded straight into the test server's own store (SQLite or PostgreSQL) and files
// folder (no test-only endpoint exists); everything after that goes through the real server over HTTP.

const id = () => randomBytes(16).toString('base64url');

/** A seeding handle on the running server's store. */
async function seeder(app: AppServer) {
	const db = await openAppDb(app);
	const dir = join(app.dataDir, 'files');
	mkdirSync(dir, { recursive: true });
	return {
		db,
		dir,
		close: () => db.close(),
		userId: async (name: string) => (await db.get<{ id: number }>('select id from users where name_key = ?', name.toLowerCase()))!.id,
		async room(name: string, memberIds: number[]): Promise<number> {
			const { id: roomId } = (await db.get<{ id: number }>(
				'insert into rooms (name, topic, is_private, owner_id, created_at) values (?, ?, 0, ?, ?) returning id',
				name, '', memberIds[0], Date.now()
			))!;
			for (const userId of memberIds) await db.run('insert into room_members (room_id, user_id, joined_at) values (?, ?, ?)', roomId, userId, Date.now());
			return roomId;
		},
		/** A files row; the bytes go to files/<stored> unless `stored` is given (then it is used as is). */
		async file(ownerId: number, content: string, options: { stored?: string; isPublic?: boolean; size?: number } = {}): Promise<string> {
			const fileId = id();
			const stored = options.stored ?? id();
			if (options.stored === undefined) writeFileSync(join(dir, stored), content);
			const sha = createHash('sha256').update(content).digest('hex');
			await db.run('insert into files (id, owner_id, name, size, sha256, type, stored, is_public, created_at) values (?, ?, ?, ?, ?, ?, ?, ?, ?)',
				fileId, ownerId, `${fileId}.txt`, options.size ?? Buffer.byteLength(content), sha, 'text/plain', stored, options.isPublic ? 1 : 0, Date.now()
			);
			return fileId;
		}
	};
}

/** An HTTP request whose path is sent byte for byte (fetch would normalise `%2e%2e`). */
function raw(app: AppServer, method: string, path: string, cookie: string, json?: unknown): Promise<{ status: number; body: string }> {
	return new Promise((resolve, reject) => {
		const headers = json === undefined ? { cookie } : { cookie, 'content-type': 'application/json' };
		const req = httpRequest({ host: '127.0.0.1', port: app.port, method, path, headers }, (res) => {
			let body = '';
			res.setEncoding('latin1');
			res.on('data', (chunk) => (body += chunk));
			res.on('end', () => resolve({ status: res.statusCode!, body }));
		});
		req.on('error', reject);
		req.end(json === undefined ? undefined : JSON.stringify(json));
	});
}

async function download(app: AppServer, cookie: string, fileId: string, method = 'GET', headers: Record<string, string> = {}) {
	const response = await fetch(`${app.url}/api/files/${fileId}/download`, { method, headers: { cookie, ...headers } });
	return { status: response.status, headers: response.headers, body: await response.text() };
}

test('access matrix: owner, room member, other user, signed out', async () => {
	const app = await startServer();
	const seed = await seeder(app);
	try {
		const [ana, bob, carol] = [await signUp(app.url, 'ana'), await signUp(app.url, 'bob'), await signUp(app.url, 'carol')];
		const [anaId, bobId, carolId] = await Promise.all(['ana', 'bob', 'carol'].map(seed.userId));
		const room = await seed.room('team', [anaId, bobId]);
		const carolsRoom = await seed.room('carols', [carolId]);
		const content = 'hello, shared secret\n';
		const fileId = await seed.file(anaId, content);
		const publicId = await seed.file(anaId, 'for everyone', { isPublic: true });

		// Before the share Bob sees nothing; the share makes him a reader.
		expect((await call(app.url, bob, 'GET', `/api/files/${fileId}`)).status).toBe(404);
		// Sharing into a room the owner is not in is 404 "No such room." (no room existence leak).
		expect(await call(app.url, ana, 'POST', `/api/files/${fileId}/share`, { roomId: carolsRoom })).toEqual({ status: 404, body: { error: 'No such room.' } });
		expect((await call(app.url, ana, 'POST', `/api/files/${fileId}/share`, { roomId: 'x' })).status).toBe(400);
		const shared = await call(app.url, ana, 'POST', `/api/files/${fileId}/share`, { roomId: room });
		expect(shared.status).toBe(200);
		expect(shared.body).toMatchObject({ id: fileId, owner: { id: anaId, name: 'ana' }, isPublic: false, sharedInto: [{ id: room, name: 'team' }] });

		const actors = [
			{ who: 'owner', cookie: ana, read: 200, write: 200 },
			{ who: 'member', cookie: bob, read: 200, write: 404 },
			{ who: 'other', cookie: carol, read: 404, write: 404 },
			{ who: 'signed out', cookie: '', read: 401, write: 401 }
		];
		for (const { who, cookie, read, write } of actors) {
			const info = await call(app.url, cookie, 'GET', `/api/files/${fileId}`);
			expect(info.status, `${who} info`).toBe(read);
			if (read !== 200) expect(JSON.stringify(info.body)).not.toContain('shared secret');
			const got = await download(app, cookie, fileId);
			expect(got.status, `${who} GET download`).toBe(read);
			// The production server answers downloads itself (node-level.ts): the same headers and errors as hooks.server.ts.
			expect([got.headers.get('x-frame-options'), got.headers.get('referrer-policy')], `${who} security headers`).toEqual(['DENY', 'same-origin']);
			if (read === 401) expect(JSON.parse(got.body)).toEqual({ error: 'Sign in first.' });
			if (read === 404) expect(JSON.parse(got.body)).toEqual({ error: 'No such file.' });
			expect(got.body.includes('shared secret'), `${who} bytes`).toBe(read === 200);
			const head = await download(app, cookie, fileId, 'HEAD');
			expect(head.status, `${who} HEAD download`).toBe(read);
			if (read === 200) expect(head.headers.get('content-length')).toBe(String(Buffer.byteLength(content)));
			const list = await call(app.url, cookie, 'GET', '/api/files');
			expect(list.status, `${who} list`).toBe(cookie ? 200 : 401);
			if (cookie) expect(list.body.items.some((f: { id: string }) => f.id === fileId), `${who} list has it`).toBe(read === 200);
			expect((await call(app.url, cookie, 'POST', `/api/files/${fileId}/share`, { roomId: room })).status, `${who} share`).toBe(write);
			expect((await call(app.url, cookie, 'POST', `/api/files/${fileId}/visibility`, { public: false })).status, `${who} visibility`).toBe(write);
			if (write !== 200) expect((await call(app.url, cookie, 'DELETE', `/api/files/${fileId}`)).status, `${who} delete`).toBe(write);
		}

		// Resumable for a member too; sharedInto lists only the viewer's rooms.
		const part = await download(app, bob, fileId, 'GET', { range: 'bytes=0-4' });
		expect(part).toMatchObject({ status: 206, body: 'hello' });
		expect((await call(app.url, bob, 'GET', `/api/files/${fileId}`)).body.sharedInto).toEqual([{ id: room, name: 'team' }]);

		// A public file: every signed-in user reads it; only the owner changes it.
		for (const cookie of [ana, bob, carol]) {
			expect((await call(app.url, cookie, 'GET', `/api/files/${publicId}`)).body).toMatchObject({ id: publicId, isPublic: true, sharedInto: [] });
			expect((await download(app, cookie, publicId)).body).toBe('for everyone');
		}
		expect((await call(app.url, carol, 'GET', '/api/files')).body.items.map((f: { id: string }) => f.id)).toEqual([publicId]);
		expect((await call(app.url, carol, 'DELETE', `/api/files/${publicId}`)).status).toBe(404);
		expect((await call(app.url, ana, 'POST', `/api/files/${publicId}/visibility`, { public: false })).body.isPublic).toBe(false);
		expect((await call(app.url, carol, 'GET', `/api/files/${publicId}`)).status).toBe(404);

		// Pagination: newest first with a cursor.
		const first = await call(app.url, ana, 'GET', '/api/files?limit=1');
		const second = await call(app.url, ana, 'GET', `/api/files?limit=1&before=${encodeURIComponent(first.body.nextBefore)}`);
		expect([...first.body.items, ...second.body.items].map((f: { id: string }) => f.id).sort()).toEqual([fileId, publicId].sort());
		expect(second.body.nextBefore).toBeNull();
		expect((await call(app.url, ana, 'GET', '/api/files?before=nope')).status).toBe(400);

		// The owner deletes: row, share and bytes are gone for everyone.
		const { stored } = (await seed.db.get<{ stored: string }>('select stored from files where id = ?', fileId))!;
		expect(await call(app.url, ana, 'DELETE', `/api/files/${fileId}`)).toEqual({ status: 200, body: { id: fileId, deleted: true } });
		expect(existsSync(join(seed.dir, stored))).toBe(false);
		for (const cookie of [ana, bob]) expect((await download(app, cookie, fileId)).status).toBe(404);
		expect((await call(app.url, ana, 'DELETE', `/api/files/${fileId}`)).status).toBe(404);
	} finally {
		await seed.close();
		await app.stop();
	}
});

test('a download from byte 0 counts once in analytics; its resumes, HEADs and refusals do not', async () => {
	// No demo history: its seeding writes downloads events of its own meanwhile.
	const app = await startServer({ env: { ANALYTICS_SEED_EVENTS: '0' } });
	const seed = await seeder(app);
	try {
		const ana = await signUp(app.url, 'ana');
		const bob = await signUp(app.url, 'bob');
		const fileId = await seed.file(await seed.userId('ana'), 'counted bytes');
		const downloads = async () => Number((await seed.db.get<{ n: number }>("select count(*) as n from analytics_events where metric = 'downloads'"))!.n);
		const before = await downloads();
		expect((await download(app, ana, fileId)).status).toBe(200);
		expect((await download(app, ana, fileId, 'GET', { range: 'bytes=0-3' })).status).toBe(206);
		expect((await download(app, ana, fileId, 'GET', { range: 'bytes=4-' })).status).toBe(206);
		expect((await download(app, ana, fileId, 'HEAD')).status).toBe(200);
		expect((await download(app, bob, fileId)).status).toBe(404);
		await expect.poll(downloads).toBe(before + 2);
		await new Promise((resolve) => setTimeout(resolve, 300)); // nothing else comes
		expect(await downloads()).toBe(before + 2);
	} finally {
		await seed.close();
		await app.stop();
	}
});

test('path tricks and symlinks are 404 and never serve a byte from outside the files folder', async () => {
	const app = await startServer();
	const seed = await seeder(app);
	try {
		const ana = await signUp(app.url, 'ana');
		const anaId = await seed.userId('ana');
		const secret = 'TOP-SECRET outside the store';
		const outside = join(app.dataDir, 'outside.txt');
		writeFileSync(outside, secret);

		const linkName = id();
		symlinkSync(outside, join(seed.dir, linkName));
		const viaLink = await seed.file(anaId, secret, { stored: linkName });
		const viaDots = await seed.file(anaId, secret, { stored: '../outside.txt' });
		const viaAbsolute = await seed.file(anaId, secret, { stored: outside });
		const passwdLink = id();
		symlinkSync('/etc/passwd', join(seed.dir, passwdLink));
		const viaPasswd = await seed.file(anaId, 'x', { stored: passwdLink });
		const control = await seed.file(anaId, 'inside');
		expect(await download(app, ana, control)).toMatchObject({ status: 200, body: 'inside' });
		for (const fileId of [viaLink, viaDots, viaAbsolute, viaPasswd]) {
			for (const method of ['GET', 'HEAD']) {
				const got = await download(app, ana, fileId, method);
				expect(got.status, `${fileId} ${method}`).toBe(404);
				expect(got.body).not.toContain('SECRET');
				expect(got.body).not.toContain('root:');
			}
		}

		const ids = ['..%2F..%2Fetc%2Fpasswd', '%2e%2e', '%2e%2e%2f%2e%2e%2fetc%2fpasswd', 'a%00b', '..%5Cx', '..\\x', '....%2F....%2F', `${'a'.repeat(15)}`, 'a'.repeat(65), `${'a'.repeat(20)}%00`];
		for (const bad of ids) {
			for (const suffix of ['', '/download']) {
				for (const method of ['GET', 'HEAD', 'DELETE']) {
					if (suffix && method === 'DELETE') continue;
					const got = await raw(app, method, `/api/files/${bad}${suffix}`, ana);
					expect(got.status, `${method} ${bad}${suffix}`).toBe(404);
					expect(got.body).not.toContain('SECRET');
					expect(got.body).not.toContain('root:');
				}
			}
			for (const [action, body] of [['share', { roomId: 1 }], ['visibility', { public: true }]] as const) {
				const got = await raw(app, 'POST', `/api/files/${bad}/${action}`, ana, body);
				expect(got.status, `${action} ${bad}`).toBe(404);
			}
		}
		// Everything the API itself answered for a malformed id is the same 404 as a missing file.
		expect(await call(app.url, ana, 'GET', `/api/files/..%2F..%2Fetc%2Fpasswd`)).toEqual({ status: 404, body: { error: 'No such file.' } });
		expect(await call(app.url, ana, 'GET', `/api/files/${id()}`)).toEqual({ status: 404, body: { error: 'No such file.' } });
	} finally {
		await seed.close();
		await app.stop();
	}
});

test('the events stream tells each user only about files they may see', async () => {
	const app = await startServer();
	const seed = await seeder(app);
	try {
		const [ana, bob, carol] = [await signUp(app.url, 'ana'), await signUp(app.url, 'bob'), await signUp(app.url, 'carol')];
		const [anaId, bobId] = await Promise.all(['ana', 'bob'].map(seed.userId));
		const room = await seed.room('team', [anaId, bobId]);
		const [sharedFile, madePublic, marker] = [await seed.file(anaId, 'one'), await seed.file(anaId, 'two'), await seed.file(anaId, 'three')];
		const types = ['created', 'shared', 'updated', 'removed', 'reset'];
		const url = `${app.url}/api/files/events`;
		const bobs = follow(url, bob, types);
		const carols = follow(url, carol, types);
		await Promise.all([bobs.opened, carols.opened]);

		expect((await call(app.url, ana, 'POST', `/api/files/${sharedFile}/share`, { roomId: room })).status).toBe(200);
		await until(() => bobs.seen.length === 1, 10_000, 'bob hears of the share');
		expect(bobs.seen[0]).toMatchObject({ type: 'shared', data: { file: { id: sharedFile }, room: { id: room, name: 'team' } } });

		expect((await call(app.url, ana, 'POST', `/api/files/${madePublic}/visibility`, { public: true })).status).toBe(200);
		expect((await call(app.url, ana, 'DELETE', `/api/files/${sharedFile}`)).status).toBe(200);
		await until(() => bobs.seen.length === 3, 10_000, 'bob hears of the public file and the removal');
		expect(bobs.seen.slice(1).map((e) => [e.type, e.data])).toEqual([
			['updated', expect.objectContaining({ id: madePublic, isPublic: true })],
			['removed', { id: sharedFile }]
		]);

		// Carol is in no room with Ana: she hears only of public files (the marker shows she caught up).
		expect((await call(app.url, ana, 'POST', `/api/files/${marker}/visibility`, { public: true })).status).toBe(200);
		await until(() => carols.seen.length === 2, 10_000, 'carol hears of both public files');
		expect(carols.seen.map((e) => [e.type, (e.data as { id: string }).id])).toEqual([
			['updated', madePublic],
			['updated', marker]
		]);
		expect(JSON.stringify(carols.seen)).not.toContain(sharedFile);
		expect(JSON.stringify(bobs.seen)).not.toContain('audience');
		bobs.close();
		carols.close();

		expect((await fetch(url)).status).toBe(401);
	} finally {
		await seed.close();
		await app.stop();
	}
});

test('a file made private leaves the lists of users who lost it (removed, id only) and stays for the rest', async () => {
	const app = await startServer();
	const seed = await seeder(app);
	try {
		const [ana, bob, carol] = [await signUp(app.url, 'ana'), await signUp(app.url, 'bob'), await signUp(app.url, 'carol')];
		const [anaId, bobId] = await Promise.all(['ana', 'bob'].map(seed.userId));
		const room = await seed.room('team', [anaId, bobId]);
		const [sharedToo, publicOnly, marker] = [await seed.file(anaId, 'one'), await seed.file(anaId, 'two'), await seed.file(anaId, 'three')];
		expect((await call(app.url, ana, 'POST', `/api/files/${sharedToo}/share`, { roomId: room })).status).toBe(200);
		for (const fileId of [sharedToo, publicOnly]) expect((await call(app.url, ana, 'POST', `/api/files/${fileId}/visibility`, { public: true })).status).toBe(200);

		const types = ['created', 'shared', 'updated', 'removed', 'reset'];
		const url = `${app.url}/api/files/events`;
		const [anas, bobs, carols] = [follow(url, ana, types), follow(url, bob, types), follow(url, carol, types)];
		await Promise.all([anas.opened, bobs.opened, carols.opened]);
		for (const fileId of [sharedToo, publicOnly]) expect((await call(app.url, ana, 'POST', `/api/files/${fileId}/visibility`, { public: false })).status).toBe(200);
		// The marker goes public last: once everyone heard of it, they heard everything before it.
		expect((await call(app.url, ana, 'POST', `/api/files/${marker}/visibility`, { public: true })).status).toBe(200);
		const heardMarker = (client: typeof anas) => () => client.seen.some((e) => (e.data as { id: string }).id === marker);
		for (const [who, client] of [['ana', anas], ['bob', bobs], ['carol', carols]] as const) await until(heardMarker(client), 10_000, `${who} hears of the marker`);

		const seen = (client: typeof anas) => client.seen.map((e) => [e.type, e.data]);
		const update = (id: string, isPublic: boolean) => ['updated', expect.objectContaining({ id, isPublic })];
		expect(seen(anas)).toEqual([update(sharedToo, false), update(publicOnly, false), update(marker, true)]);
		// Bob still sees the file shared into his room; the public-only one leaves his list.
		expect(seen(bobs)).toEqual([update(sharedToo, false), ['removed', { id: publicOnly }], update(marker, true)]);
		// Carol loses both, and learns nothing about them but their ids.
		expect(seen(carols)).toEqual([['removed', { id: sharedToo }], ['removed', { id: publicOnly }], update(marker, true)]);
		expect(JSON.stringify(carols.seen)).not.toContain(`${sharedToo}.txt`);
		expect(JSON.stringify([...bobs.seen, ...carols.seen])).not.toContain('audience');

		// The lists agree with the events.
		const listed = async (cookie: string) => (await call(app.url, cookie, 'GET', '/api/files')).body.items.map((f: { id: string }) => f.id).sort();
		expect(await listed(bob)).toEqual([sharedToo, marker].sort());
		expect(await listed(carol)).toEqual([marker]);
		for (const client of [anas, bobs, carols]) client.close();
	} finally {
		await seed.close();
		await app.stop();
	}
});

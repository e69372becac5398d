import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { rename, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { file } from '$lib/stream/server';
import * as accounts from '../accounts';
import { loadConfig } from '../config';
import { testDatabase, type TestDatabase } from '../testing/database';
import { closeRuntime, initRuntime, runtime } from '../runtime';
import * as files from './index';

const dir = mkdtempSync(join(tmpdir(), 'runnel-files-access-'));
let database: TestDatabase;

beforeAll(async () => {
	database = await testDatabase('files');
	await initRuntime(loadConfig({ DATA_DIR: dir, ...database.env, LOG_LEVEL: 'silent', DEMO_DATA: 'false' }));
});
afterAll(async () => {
	await closeRuntime();
	await database.drop();
	rmSync(dir, { recursive: true, force: true });
});

/** Publishes `content` as a file of `ownerId` the way a finished upload does. */
async function publish(ownerId: number, content: string) {
	const fromPath = join(dir, `upload-${Math.random()}`);
	await writeFile(fromPath, content);
	const sha256 = createHash('sha256').update(content).digest('hex');
	return files.create({ ownerId, name: 'notes.txt', size: Buffer.byteLength(content), sha256, type: 'text/plain', fromPath });
}

describe('files.open() and file() on a real store', () => {
	it('serves the file the check saw, and refuses it once its path was swapped for a symlink', async () => {
		const ana = await accounts.signUp('ana', 'password-123');
		const content = 'ana-notes!'; // as long as the secret, so only the symlink check can refuse it
		const info = await publish(ana.id, content);
		const get = (source: Awaited<ReturnType<typeof files.open>>) => file(new Request('http://runnel.test/download'), source);

		const first = await get(await files.open(ana, info.id));
		expect([first.status, await first.text()]).toEqual([200, content]);

		// Between open()'s checks and the read, someone swaps the stored file for a link to a secret.
		const source = await files.open(ana, info.id);
		const secret = join(dir, 'secret.txt');
		await writeFile(secret, 'TOP-SECRET');
		const stored = (await runtime().store.db.selectFrom('files').select('stored').where('id', '=', info.id).executeTakeFirstOrThrow()).stored;
		await rename(join(files.filesDir(), stored), join(dir, 'moved-away'));
		await symlink(secret, join(files.filesDir(), stored));
		const swapped = await get(source);
		expect(swapped.status).toBe(404);
		expect(await swapped.text()).not.toContain('TOP-SECRET');
		// And a fresh open() is refused the same way.
		expect((await get(await files.open(ana, info.id))).status).toBe(404);
	});
});

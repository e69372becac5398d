import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as accounts from '../accounts';
import { loadConfig } from '../config';
import { testDatabase, type TestDatabase } from '../testing/database';
import { closeRuntime, initRuntime, runtime } from '../runtime';
import * as uploads from './index';
import { stopSweeper } from './sweep';

const dir = mkdtempSync(join(tmpdir(), 'runnel-uploads-'));
let database: TestDatabase;
const SHA = 'a'.repeat(64);

beforeAll(async () => {
	database = await testDatabase('uploads');
	await initRuntime(loadConfig({ DATA_DIR: dir, ...database.env, LOG_LEVEL: 'silent', DEMO_DATA: 'false', UPLOAD_STALE_HOURS: '1' }));
});
afterAll(async () => {
	stopSweeper();
	await closeRuntime();
	await database.drop();
	rmSync(dir, { recursive: true, force: true });
});

describe('sweep on a real SQLite file', () => {
	it('removes uploads untouched for UPLOAD_STALE_HOURS, rows and part files, and keeps fresh ones', async () => {
		const user = await accounts.signUp('sweeper', 'password-123');
		const stale = await uploads.start(user.id, { name: 'old.bin', size: 10, sha256: SHA });
		const fresh = await uploads.start(user.id, { name: 'new.bin', size: 10, sha256: SHA });
		const db = runtime().store.db;
		await db.updateTable('uploads').set({ updated_at: Date.now() - 2 * 3600_000 }).where('id', '=', stale.id).execute();
		expect(existsSync(uploads.partPath(stale.id))).toBe(true);

		expect(await uploads.sweep()).toBe(1);
		expect(existsSync(uploads.partPath(stale.id))).toBe(false);
		expect(existsSync(uploads.partPath(fresh.id))).toBe(true);
		const left = await db.selectFrom('uploads').select('id').execute();
		expect(left.map((r) => r.id)).toEqual([fresh.id]);
		await expect(uploads.status(user.id, stale.id)).rejects.toMatchObject({ status: 404 });

		// An hour later the fresh one is stale too.
		expect(await uploads.sweep(Date.now() + 3600_000 + 1000)).toBe(1);
		expect(await db.selectFrom('uploads').select('id').execute()).toEqual([]);
	});

	it('refuses bad declarations', async () => {
		const user = await accounts.signUp('declarer', 'password-123');
		for (const [input, status] of [
			[{ name: 'a', size: -1, sha256: SHA }, 400],
			[{ name: 'a', size: 1.5, sha256: SHA }, 400],
			[{ name: 'a', size: '3', sha256: SHA }, 400],
			[{ size: 3, sha256: SHA }, 400],
			[{ name: 'a', size: 3, sha256: 'xyz' }, 400],
			[{ name: 'a', size: 3, sha256: SHA, type: 'not a type' }, 400],
			[{ name: 'a', size: 2 * 1024 ** 3 + 1, sha256: SHA }, 413]
		] as const) {
			await expect(uploads.start(user.id, input)).rejects.toMatchObject({ status });
		}
	});
});

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../config';
import { HttpError } from '../errors';
import { testDatabase, type TestDatabase } from '../testing/database';
import { closeRuntime, initRuntime, runtime } from '../runtime';
import * as accounts from './index';

const dir = mkdtempSync(join(tmpdir(), 'runnel-accounts-'));
let database: TestDatabase;

beforeAll(async () => {
	database = await testDatabase('accounts');
	await initRuntime(loadConfig({ DATA_DIR: dir, ...database.env, LOG_LEVEL: 'silent', ANALYTICS_SEED_EVENTS: '0' }));
});
afterAll(async () => {
	await closeRuntime();
	await database.drop();
	rmSync(dir, { recursive: true, force: true });
});

async function rejection(promise: Promise<unknown>): Promise<HttpError> {
	const error = await promise.then(
		() => null,
		(e: unknown) => e
	);
	expect(error).toBeInstanceOf(HttpError);
	return error as HttpError;
}

describe('accounts on a real SQLite file', () => {
	it('seeds the demo admin and its rooms', async () => {
		const demo = await accounts.findByName('DEMO');
		expect(demo).toMatchObject({ name: 'demo', role: 'admin' });
		const rooms = await runtime().store.db.selectFrom('rooms').select('name').orderBy('id').execute();
		expect(rooms.map((r) => r.name)).toEqual(['general', 'random', 'releases']);
	});

	it('signs up, stores only a hash, and refuses a duplicate in any case', async () => {
		const user = await accounts.signUp('  Ana ', 'password-123');
		expect(user).toMatchObject({ name: 'Ana', role: 'user' });
		const row = await runtime().store.db.selectFrom('users').selectAll().where('id', '=', user.id).executeTakeFirstOrThrow();
		expect(row.password_hash).not.toContain('password-123');
		const duplicate = await rejection(accounts.signUp('ANA', 'password-123'));
		expect(duplicate.status).toBe(409);
	});

	it('signs in with the right password only', async () => {
		await accounts.signUp('bruno', 'password-123');
		expect((await accounts.signIn('Bruno', 'password-123', '10.0.0.1')).name).toBe('bruno');
		expect((await rejection(accounts.signIn('bruno', 'nope-nope', '10.0.0.1'))).status).toBe(401);
		expect((await rejection(accounts.signIn('nobody', 'nope-nope', '10.0.0.1'))).message).toBe('Wrong user name or password.');
		expect((await rejection(accounts.signIn('', 'x', '10.0.0.1'))).status).toBe(400);
	});

	it('locks a name out from one address after five failures, not others', async () => {
		await accounts.signUp('carla', 'password-123');
		for (let i = 0; i < 5; i++) await rejection(accounts.signIn('carla', 'wrong-pass', '10.0.0.2'));
		const locked = await rejection(accounts.signIn('carla', 'password-123', '10.0.0.2'));
		expect(locked.status).toBe(429);
		expect(locked.retryAfter).toBeGreaterThan(0);
		expect((await accounts.signIn('carla', 'password-123', '10.0.0.3')).name).toBe('carla');
	});

	it('counts parallel wrong guesses before checking them: five get 401, the rest 429', async () => {
		await accounts.signUp('gina', 'password-123');
		const results = await Promise.all(Array.from({ length: 12 }, () => rejection(accounts.signIn('gina', 'wrong-pass', '10.0.0.4'))));
		const statuses = results.map((error) => error.status).sort();
		expect(statuses).toEqual([...Array(5).fill(401), ...Array(7).fill(429)]);
	});

	it('does not count successful sign-ins against the address (more than its 30 tries)', async () => {
		await accounts.signUp('hugo', 'password-123');
		for (let i = 0; i < 35; i++) expect((await accounts.signIn('hugo', 'password-123', '10.0.0.5')).name).toBe('hugo');
		expect((await rejection(accounts.signIn('hugo', 'wrong-pass', '10.0.0.5'))).status).toBe(401);
	});

	it('creates sessions that authenticate until signed out', async () => {
		const user = await accounts.signUp('dora', 'password-123');
		const { token, expires } = await accounts.createSession(user.id);
		expect(expires.getTime()).toBeGreaterThan(Date.now() + 29 * 24 * 3600_000);
		expect(await accounts.authenticate(token)).toMatchObject({ id: user.id, name: 'dora' });
		expect(await accounts.authenticate(token + 'x')).toBeNull();
		expect(await accounts.authenticate(undefined)).toBeNull();
		await accounts.signOut(token);
		expect(await accounts.authenticate(token)).toBeNull();
	});

	it('treats an expired session as none', async () => {
		const user = await accounts.signUp('emil', 'password-123');
		const { token } = await accounts.createSession(user.id);
		await runtime().store.db.updateTable('sessions').set({ expires_at: Date.now() - 1 }).where('user_id', '=', user.id).execute();
		expect(await accounts.authenticate(token)).toBeNull();
	});
});

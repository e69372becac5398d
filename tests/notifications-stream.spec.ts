import { expect, test } from '@playwright/test';
import { call, follow, freePort, signUp, until } from './support/clients';
import { startServer } from './support/server';

const STREAM = '/api/notifications/stream';

test('resume by Last-Event-ID: current, too old, future, garbage, another user\'s, no session', async () => {
	const app = await startServer({ env: { BUS_RETENTION_COUNT: '6' } });
	try {
		const ana = await signUp(app.url, 'ana');
		const bob = await signUp(app.url, 'bob');
		const url = `${app.url}${STREAM}?types=notification`;

		const first = follow(url, ana, ['notification', 'reset']);
		await first.opened;
		for (let i = 1; i <= 2; i++) expect((await call(app.url, ana, 'POST', '/api/notifications', { title: `n${i}`, body: '' })).status).toBe(201);
		await until(() => first.seen.length === 2, 10_000, 'two notifications');
		first.close();
		const lastId = first.seen[1].id;
		// <stream token>.<id>: a sequence number on the embedded bus, a stream id (ms-seq) on Redis.
		expect(lastId).toMatch(/^[\w-]{12}\.\d+(-\d+)?$/);

		// Missed while away, then resumed from the last id: exactly the missed ones, in order.
		await call(app.url, ana, 'POST', '/api/notifications', { title: 'n3', body: '' });
		const resumed = follow(url, ana, ['notification', 'reset'], lastId);
		await until(() => resumed.seen.length === 1, 10_000, 'the missed notification');
		await call(app.url, ana, 'POST', '/api/notifications', { title: 'n4', body: '' });
		await until(() => resumed.seen.length === 2, 10_000, 'the live notification');
		expect(resumed.seen.map((e) => (e.data as { title: string }).title)).toEqual(['n3', 'n4']);
		resumed.close();

		// Each notification publishes two events (notification, unread): 6 kept means n1's id is gone.
		for (let i = 5; i <= 8; i++) await call(app.url, ana, 'POST', '/api/notifications', { title: `n${i}`, body: '' });
		const old = follow(url, ana, ['notification', 'reset'], first.seen[0].id);
		await until(() => old.seen.some((e) => e.type === 'reset'), 10_000, 'reset');
		expect(old.seen[0]).toMatchObject({ type: 'reset', data: { reason: 'too-old' } });
		old.close();

		const [tag, position] = lastId.split('.');
		const ahead = position.includes('-') ? `${Date.now() + 3_600_000}-0` : '99999';
		const future = follow(url, ana, ['notification', 'reset'], `${tag}.${ahead}`);
		await until(() => future.seen.length > 0, 10_000, 'reset for a future id');
		expect(future.seen[0]).toMatchObject({ type: 'reset', data: { reason: 'unknown' } });
		future.close();

		for (const [cookie, id, status, error] of [
			[ana, 'garbage', 400, 'Malformed Last-Event-ID: reconnect without it.'],
			[ana, `${tag}.1 x`, 400, 'Malformed Last-Event-ID: reconnect without it.'],
			[bob, lastId, 400, 'This Last-Event-ID belongs to another stream: reconnect without it.'],
			['', lastId, 401, 'Sign in first.']
		] as const) {
			const response = await fetch(`${app.url}${STREAM}`, { headers: { cookie, 'last-event-id': id } });
			expect(response.status).toBe(status);
			expect(await response.json()).toEqual({ error });
		}
		for (const id of ['nope', `${tag}.1%00`, `${tag}.-1`, `${tag}.1e3`]) {
			const viaQuery = await fetch(`${app.url}${STREAM}?lastEventId=${id}`, { headers: { cookie: ana } });
			expect(viaQuery.status).toBe(400);
		}
		const badType = await fetch(`${app.url}${STREAM}?types=secrets`, { headers: { cookie: ana } });
		expect(badType.status).toBe(400);

		// Bob's stream never carries Ana's notifications.
		const bobs = follow(`${app.url}${STREAM}`, bob, ['notification', 'unread']);
		await bobs.opened;
		await call(app.url, ana, 'POST', '/api/notifications', { title: 'private', body: 'for ana only' });
		await call(app.url, bob, 'POST', '/api/notifications', { title: 'bob-own', body: '' });
		await until(() => bobs.seen.some((e) => e.type === 'notification'), 10_000, 'bob notification');
		expect(bobs.seen.filter((e) => e.type === 'notification').map((e) => (e.data as { title: string }).title)).toEqual(['bob-own']);
		bobs.close();
	} finally {
		await app.stop();
	}
});

test('SIGKILL mid-stream and restart on the same DATA_DIR: lost 0, duplicates 0, out of order 0', async () => {
	test.setTimeout(90_000);
	const port = await freePort();
	const env = { PORT: String(port) };
	let app = await startServer({ env });
	const dataDir = app.dataDir;
	const cookie = await signUp(app.url, 'kim');
	const client = follow(`${app.url}${STREAM}?types=notification`, cookie, ['notification']);
	await client.opened;

	const TOTAL = 120;
	let sent = 0;
	const publishUntil = async (count: number) => {
		while (sent < count) {
			const result = await call(app.url, cookie, 'POST', '/api/notifications', { title: `m${sent}`, body: '' }).catch(() => null);
			if (result?.status === 201) sent++;
		}
	};
	await publishUntil(TOTAL / 2);
	app.process.kill('SIGKILL');
	await new Promise((resolve) => app.process.once('exit', resolve));
	app = await startServer({ dataDir, env });
	await publishUntil(TOTAL);

	const stored = await call(app.url, cookie, 'GET', '/api/notifications?limit=100');
	const older = await call(app.url, cookie, 'GET', `/api/notifications?limit=100&before=${stored.body.nextBefore}`);
	const storedIds = [...stored.body.items, ...older.body.items].map((n: { id: number }) => n.id).sort((a: number, b: number) => a - b);
	expect(storedIds.length).toBe(TOTAL);

	await until(() => client.seen.length >= TOTAL, 30_000, `${TOTAL} notifications (have ${client.seen.length})`);
	await new Promise((resolve) => setTimeout(resolve, 300));
	const receivedIds = client.seen.map((e) => (e.data as { id: number }).id);
	expect(new Set(receivedIds).size).toBe(receivedIds.length);
	expect(receivedIds).toEqual(storedIds);
	client.close();
	expect(await app.stop()).toBe(0);
	(await import('node:fs')).rmSync(dataDir, { recursive: true, force: true });
});

test('a fresh stream gets a resume position at once, so a client that saw no event yet misses nothing', async () => {
	const app = await startServer();
	try {
		const cookie = await signUp(app.url, 'fresh');
		const first = follow(`${app.url}${STREAM}`, cookie, ['unread', 'notification']);
		await until(() => first.seen.length === 1, 10_000, 'the unread prelude');
		expect(first.seen[0]).toMatchObject({ type: 'unread', data: { count: 0 } });
		expect(first.seen[0].id).toMatch(/^[\w-]{12}\.0$/);
		first.close();

		await call(app.url, cookie, 'POST', '/api/notifications', { title: 'while away', body: '' });
		const again = follow(`${app.url}${STREAM}`, cookie, ['unread', 'notification'], first.seen[0].id);
		await until(() => again.seen.some((e) => e.type === 'notification'), 10_000, 'the missed notification');
		expect(again.seen.find((e) => e.type === 'notification')?.data).toMatchObject({ title: 'while away' });
		again.close();
	} finally {
		await app.stop();
	}
});

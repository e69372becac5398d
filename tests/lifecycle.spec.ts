import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { io } from 'socket.io-client';
import { expect, test } from '@playwright/test';
import { startServer } from './support/server';

test('SIGTERM drains: open sockets and keep-alive connections close, exit 0 within 5 s', async () => {
	const app = await startServer();
	const signup = await fetch(`${app.url}/api/auth/signup`, {
		method: 'POST',
		headers: { 'content-type': 'application/json' },
		body: JSON.stringify({ name: 'drainer', password: 'password-123' })
	});
	const cookie = /runnel_session=[^;]+/.exec(signup.headers.get('set-cookie')!)![0];
	const socket = io(app.url, { transports: ['websocket'], extraHeaders: { cookie }, reconnection: false });
	await new Promise((resolve) => socket.once('connect', () => resolve(null)));
	const disconnected = new Promise((resolve) => socket.once('disconnect', resolve));
	// With Accept: text/event-stream the server answers at the node level; without, through adapter-node.
	const asked: HeadersInit[] = [{ cookie, accept: 'text/event-stream' }, { cookie }];
	const streams = await Promise.all(
		asked.map((headers) => fetch(`${app.url}/api/notifications/stream`, { headers }))
	);
	for (const stream of streams) expect(stream.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
	const streamTexts = Promise.all(streams.map((stream) => stream.text()));

	const started = Date.now();
	const code = await app.stop('SIGTERM');
	expect(code).toBe(0);
	expect(Date.now() - started).toBeLessThan(5000);
	await disconnected;
	for (const text of await streamTexts) {
		expect(text.startsWith('retry: 3000\n\n')).toBe(true);
		expect(text).toContain('event: unread');
		expect(text.endsWith('retry: 1000\n\n: closing\n\n')).toBe(true);
	}
	expect(app.output()).toContain('"msg":"stopped"');
	socket.close();
});

test('the data survives a restart on the same DATA_DIR, and the demo user is seeded once', async () => {
	const first = await startServer();
	expect(first.output()).toContain('sign in as \\"demo\\" with password \\"runnel-demo\\"');
	const dataDir = first.dataDir;
	const { rmSync } = await import('node:fs');
	await fetch(`${first.url}/api/auth/signup`, {
		method: 'POST',
		headers: { 'content-type': 'application/json' },
		body: JSON.stringify({ name: 'survivor', password: 'password-123' })
	});
	first.process.kill('SIGKILL');
	await new Promise((resolve) => first.process.once('exit', resolve));

	const second = await startServer({ dataDir });
	const response = await fetch(`${second.url}/api/auth/signin`, {
		method: 'POST',
		headers: { 'content-type': 'application/json' },
		body: JSON.stringify({ name: 'survivor', password: 'password-123' })
	});
	expect(response.status).toBe(200);
	expect(second.output()).toContain('demo user: sign in as');
	expect(await second.stop()).toBe(0);
	rmSync(dataDir, { recursive: true, force: true });
});

test('a bad configuration value stops the start with a clear message', () => {
	const result = spawnSync(process.execPath, [join(process.cwd(), 'build', 'server.js')], {
		env: { ...process.env, PORT: 'eighty', DATA_DIR: '/tmp/runnel-never' },
		encoding: 'utf8'
	});
	expect(result.status).toBe(1);
	expect(result.stderr).toContain('runnel: configuration error: PORT must be a whole number from 0 to 65535, got "eighty"');
});

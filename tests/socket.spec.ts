import { io, type Socket } from 'socket.io-client';
import type { ClientToServerEvents, ServerToClientEvents } from '../src/lib/shared/socket-events';
import { expect, test, uniqueName } from './support/fixtures';

type ClientSocket = Socket<ServerToClientEvents, ClientToServerEvents>;

function connect(url: string, options: { cookie?: string; origin?: string; transport: 'websocket' | 'polling' }): ClientSocket {
	const headers: Record<string, string> = {};
	if (options.cookie) headers.cookie = options.cookie;
	if (options.origin) headers.origin = options.origin;
	return io(url, { transports: [options.transport], extraHeaders: headers, reconnection: false, timeout: 5000 });
}

/** Resolves with 'connected' or the connect_error message. */
function outcome(socket: ClientSocket): Promise<string> {
	return new Promise((resolve) => {
		socket.once('connect', () => resolve('connected'));
		socket.once('connect_error', (error) => resolve(`refused: ${error.message}`));
	});
}

async function sessionCookie(request: import('@playwright/test').APIRequestContext): Promise<string> {
	const response = await request.post('/api/auth/signup', { data: { name: uniqueName('sock'), password: 'password-123' } });
	const token = /runnel_session=([^;]+)/.exec(response.headers()['set-cookie'])![1];
	return `runnel_session=${token}`;
}

for (const transport of ['websocket', 'polling'] as const) {
	test(`Socket.IO over ${transport}: a session connects; none, a bad one or a foreign Origin is refused`, async ({ app, request }) => {
		const cookie = await sessionCookie(request);

		const good = connect(app.url, { cookie, origin: app.url, transport });
		const welcome = new Promise<{ user: { name: string } }>((resolve) => good.once('welcome', resolve));
		expect(await outcome(good)).toBe('connected');
		expect((await welcome).user.name).toMatch(/^sock/);
		const pong = await good.timeout(3000).emitWithAck('ping');
		expect(pong).toEqual({ ok: true, serverTime: expect.any(Number) });
		good.close();

		const anonymous = connect(app.url, { transport });
		expect(await outcome(anonymous)).toBe('refused: unauthorized: sign in first');
		anonymous.close();

		const forged = connect(app.url, { cookie: 'runnel_session=not-a-real-session', transport });
		expect(await outcome(forged)).toBe('refused: unauthorized: sign in first');
		forged.close();

		const foreign = connect(app.url, { cookie, origin: 'http://evil.example', transport });
		expect(await outcome(foreign)).toMatch(/^refused: (websocket|xhr poll) error/);
		foreign.close();
		await expect.poll(() => app.output()).toContain('socket refused: foreign origin');
	});
}

test('signing out closes the sockets of that session', async ({ app, request }) => {
	const cookie = await sessionCookie(request);
	const socket = connect(app.url, { cookie, transport: 'websocket' });
	expect(await outcome(socket)).toBe('connected');
	const closed = new Promise<string>((resolve) => socket.once('disconnect', resolve));
	const response = await request.post('/api/auth/signout', { headers: { cookie } });
	expect(response.status()).toBe(200);
	expect(await closed).toBe('io server disconnect');
	socket.close();
});

import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Server } from 'socket.io';
import { io, type Socket } from 'socket.io-client';
import { afterEach, describe, expect, it } from 'vitest';
import { callWithRetry } from './socket-call';

const closing: (() => unknown)[] = [];
afterEach(async () => {
	for (const close of closing.splice(0)) await close();
});

/** A real Socket.IO server whose `store` handler is given; resolves with a connected client. */
async function setup(onStore: (payload: { id: string }, ack: (reply: unknown) => void, socket: import('socket.io').Socket) => void) {
	const http = createServer();
	const server = new Server(http);
	server.on('connection', (socket) => socket.on('store', (payload, ack) => onStore(payload, ack, socket)));
	await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
	const client: Socket = io(`http://127.0.0.1:${(http.address() as AddressInfo).port}`, { transports: ['websocket'], reconnectionDelay: 20, reconnectionDelayMax: 50 });
	closing.push(() => client.close(), () => server.close());
	await new Promise<void>((resolve) => client.once('connect', () => resolve()));
	return client;
}

describe('callWithRetry', () => {
	it('resends after an unanswered attempt and resolves with the answer', async () => {
		const seen: string[] = [];
		const client = await setup((payload, ack) => {
			seen.push(payload.id);
			if (seen.length > 1) ack({ ok: true, stored: payload.id });
		});
		expect(await callWithRetry(client, 'store', [{ id: 'a' }], { ackTimeout: 100 })).toEqual({ ok: true, stored: 'a' });
		expect(seen).toEqual(['a', 'a']);
	});

	it('resends after the connection drops mid-call, without counting it as a retry', async () => {
		let calls = 0;
		const client = await setup((payload, ack) => {
			calls++;
			if (calls <= 3) client.io.engine.close();
			else ack({ ok: true, stored: payload.id });
		});
		expect(await callWithRetry(client, 'store', [{ id: 'b' }], { ackTimeout: 1000, retries: 0 })).toEqual({ ok: true, stored: 'b' });
		expect(calls).toBe(4);
	});

	it('gives up with a readable failure after the retries, or when offline too long', async () => {
		const client = await setup(() => {});
		expect(await callWithRetry(client, 'store', [{ id: 'c' }], { ackTimeout: 50, retries: 1 })).toEqual({ ok: false, error: 'The server did not answer: try again.' });
		client.disconnect();
		expect(await callWithRetry(client, 'store', [{ id: 'd' }], { offlineWait: 50 })).toEqual({
			ok: false,
			error: 'Not connected to the server: try again once the connection is back.'
		});
	});
});

import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, expectTypeOf, it, vi } from 'vitest';
import { ApiError } from './api-error';
import { openEvents, type EventStream, type OpenEventsOptions, type StreamEvent } from './events.svelte';
import { TestXhr } from '../testing/xhr';

type Events = { note: { text: string }; count: number };
type Script = (res: ServerResponse, req: IncomingMessage) => void;

const cleanups: (() => void)[] = [];

beforeAll(() => {
	globalThis.XMLHttpRequest = TestXhr as unknown as typeof XMLHttpRequest;
});
afterAll(() => {
	delete (globalThis as { XMLHttpRequest?: unknown }).XMLHttpRequest;
});
afterEach(() => {
	for (const cleanup of cleanups.splice(0)) cleanup();
	vi.restoreAllMocks();
});

/** A real SSE server whose n-th connection runs scripts[n] (the last one repeats); SSE bytes by hand. */
async function sseServer(...scripts: Script[]) {
	const requests: IncomingMessage[] = [];
	const server = createServer((req, res) => {
		const script = scripts[Math.min(requests.length, scripts.length - 1)];
		requests.push(req);
		script(res, req);
	});
	await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
	cleanups.push(() => {
		server.closeAllConnections();
		server.close();
	});
	return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/stream`, requests };
}

/** Sends the SSE response head and `lines`; keeps the response open. */
function stream(...lines: string[]): Script {
	return (res) => {
		res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store' });
		res.write(lines.join(''));
	};
}

function fail(status: number, error: string, headers: Record<string, string> = {}): Script {
	return (res) => {
		res.writeHead(status, { 'content-type': 'application/json', ...headers });
		res.end(JSON.stringify({ error }));
	};
}

function open<E extends Record<string, unknown> = Events>(url: string, options?: OpenEventsOptions) {
	const events = openEvents<E>(url, options);
	cleanups.push(() => events.close());
	return events;
}

async function until(condition: () => boolean, timeout = 3000) {
	const start = Date.now();
	while (!condition()) {
		if (Date.now() - start > timeout) throw new Error('timed out waiting');
		await new Promise((resolve) => setTimeout(resolve, 5));
	}
}

describe('EventStream', () => {
	it('delivers typed, parsed messages to handlers and to the iterator', async () => {
		const { url, requests } = await sseServer(
			stream(': hello\n\n', 'id: 1\nevent: note\ndata: {"text":"hé"}\n\n', 'id: 2\nevent: count\ndata: 7\n\n')
		);
		const events = open(url, { query: { types: ['note', 'count'], after: 3, skip: undefined } });
		const notes: { text: string }[] = [];
		events.onMessage('note', (data, id) => {
			expectTypeOf(data).toEqualTypeOf<{ text: string }>();
			notes.push(data);
			expect(id).toBe('1');
		});
		const iterator = events[Symbol.asyncIterator]();
		expectTypeOf<StreamEvent<Events>>().toEqualTypeOf<
			{ type: 'note'; data: { text: string }; id?: string } | { type: 'count'; data: number; id?: string }
		>();
		expect((await iterator.next()).value).toEqual({ type: 'note', data: { text: 'hé' }, id: '1' });
		expect((await iterator.next()).value).toEqual({ type: 'count', data: 7, id: '2' });
		expect(notes).toEqual([{ text: 'hé' }]);
		expect(events.status).toBe('open');
		expect(events.lastEventId).toBe('2');
		expect(requests[0].url).toBe('/stream?types=note%2Ccount&after=3');
		expect(requests[0].headers.accept).toBe('text/event-stream');
	});

	it('reconnects after the server drops the connection, sending Last-Event-ID', async () => {
		const { url, requests } = await sseServer(
			(res) => {
				stream('retry: 20\n\n', 'id: 5\nevent: count\ndata: 1\n\n')(res, {} as IncomingMessage);
				setTimeout(() => res.destroy(), 50);
			},
			stream('id: 6\nevent: count\ndata: 2\n\n')
		);
		const events = open(url, { lastEventId: '4' });
		const counts: number[] = [];
		const statuses: string[] = [];
		events.onMessage('count', (n) => counts.push(n));
		events.onError(() => statuses.push(events.status));
		await until(() => counts.length === 2);
		expect(requests.map((r) => r.headers['last-event-id'])).toEqual(['4', '5']);
		expect(statuses).toEqual(['open']); // the network error, reported before the reconnect
		expect(events.status).toBe('open');
		expect(events.error).toBeNull();
	});

	it("waits the server's retry: (with full jitter, here at its maximum)", async () => {
		vi.spyOn(Math, 'random').mockReturnValue(1);
		const { url, requests } = await sseServer((res) => {
			stream('retry: 300\n\n')(res, {} as IncomingMessage);
			setTimeout(() => res.end(), 20);
		});
		const events = open(url);
		await until(() => events.status === 'reconnecting');
		const lost = Date.now();
		await until(() => requests.length === 2);
		expect(Date.now() - lost).toBeGreaterThanOrEqual(280);
		expect(Date.now() - lost).toBeLessThan(900);
	});

	it('on event: reset, forgets its id, calls onReset and starts fresh', async () => {
		const { url, requests } = await sseServer(stream('event: reset\ndata: {}\n\n'), stream('id: 1\nevent: count\ndata: 9\n\n'));
		const events = open(url, { lastEventId: 'ancient' });
		const resets: (string | null)[] = [];
		events.onReset(() => resets.push(events.lastEventId));
		const counts: number[] = [];
		events.onMessage('count', (n) => counts.push(n));
		await until(() => counts.length === 1);
		expect(resets).toEqual([null]);
		expect(requests.map((r) => r.headers['last-event-id'])).toEqual(['ancient', undefined]);
		expect(events.lastEventId).toBe('1');
	});

	it('stops for good on 401, with the server message', async () => {
		vi.spyOn(Math, 'random').mockReturnValue(0); // a retry would be immediate
		const { url, requests } = await sseServer(fail(401, 'Signed out'));
		const events = open(url);
		const errors: Error[] = [];
		events.onError((error) => errors.push(error));
		const ended = expect(events[Symbol.asyncIterator]().next()).rejects.toThrow('Signed out');
		await until(() => events.status === 'closed');
		await ended;
		await new Promise((resolve) => setTimeout(resolve, 100));
		expect(requests).toHaveLength(1);
		expect(events.error).toBe('Signed out');
		expect(errors[0]).toBeInstanceOf(ApiError);
		expect((errors[0] as ApiError).status).toBe(401);
	});

	it('retries 429 and 5xx', async () => {
		vi.spyOn(Math, 'random').mockReturnValue(0);
		const { url, requests } = await sseServer(fail(429, 'Too many streams'), fail(503, 'Busy'), stream('event: count\ndata: 1\n\n'));
		const events = open(url);
		const errors: string[] = [];
		events.onError((error) => errors.push(error.message));
		await until(() => events.status === 'open');
		expect(requests).toHaveLength(3);
		expect(errors).toEqual(['Too many streams', 'Busy']);
	});

	it('waits at least the Retry-After of a 429', async () => {
		vi.spyOn(Math, 'random').mockReturnValue(0);
		const { url, requests } = await sseServer(fail(429, 'Too many streams', { 'retry-after': '1' }), stream());
		const events = open(url);
		await until(() => events.status === 'reconnecting');
		const refused = Date.now();
		await until(() => events.status === 'open');
		expect(Date.now() - refused).toBeGreaterThanOrEqual(950);
		expect(requests).toHaveLength(2);
	});

	it('reports event: error and malformed JSON, and keeps streaming', async () => {
		const { url } = await sseServer(
			stream('event: error\ndata: {"error":"Store hiccup"}\n\n', 'event: count\ndata: {oops\n\n', 'event: count\ndata: 3\n\n')
		);
		const events = open(url);
		const errors: string[] = [];
		events.onError((error) => errors.push(error.message));
		const counts: number[] = [];
		events.onMessage('count', (n) => counts.push(n));
		await until(() => counts.length === 1);
		expect(errors).toEqual(['Store hiccup', 'Malformed JSON in a "count" event']);
		expect(counts).toEqual([3]);
		expect(events.status).toBe('open');
	});

	it('close() ends the request, the iterator and any reconnect', async () => {
		vi.spyOn(Math, 'random').mockReturnValue(0);
		const { url, requests } = await sseServer(stream('event: count\ndata: 1\n\n'));
		const events: EventStream<Events> = open(url);
		const opened = vi.fn();
		events.onOpen(opened);
		await until(() => events.status === 'open');
		const closed = new Promise((resolve) => requests[0].socket.once('close', resolve));
		const pending = events[Symbol.asyncIterator]().next();
		events.close();
		expect(events.status).toBe('closed');
		await closed;
		expect(await pending).toEqual({ done: true, value: undefined });
		await new Promise((resolve) => setTimeout(resolve, 100));
		expect(requests).toHaveLength(1);
		expect(opened).toHaveBeenCalledTimes(1);
	});
});

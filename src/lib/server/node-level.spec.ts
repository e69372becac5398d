import { createServer, request as httpRequest, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { sse, type SseContext } from '$lib/stream/server';
import { openStreams } from '$lib/stream/server/sse-options';
import { TestSource } from '$lib/stream/server/test-source';
import { answerEventStream, clientAddressOf, downloadIdOf, isEventStreamRequest, originOf, type Respond } from './node-level';

type Events = { note: string };
type Message = { id: string; event: 'note'; data: string };

const HEARTBEAT_MS = 3217;
const KEY = 'user:42';

let server: Server;
let url: string;
let respond: Respond;
let source: TestSource<Message>;
let context: SseContext | undefined;
let seen: { request: Request; address: string } | undefined;

beforeEach(async () => {
	vi.spyOn(globalThis, 'setInterval');
	vi.spyOn(globalThis, 'clearInterval');
	source = new TestSource<Message>();
	context = seen = undefined;
	respond = async (request, { getClientAddress }) => {
		seen = { request, address: getClientAddress() };
		return sse<Events>(request, (ctx) => ((context = ctx), source), { heartbeatMs: HEARTBEAT_MS, limitKey: KEY, maxStreamsPerKey: 3, maxQueue: 50 });
	};
	// Like serve(): the protocol header adapter-node is pointed at, then the event-stream path.
	server = createServer((req, res) => {
		req.headers['x-test-protocol'] = 'http';
		void answerEventStream((request, options) => respond(request, options), req, res).catch(() => {});
	});
	vi.stubEnv('PROTOCOL_HEADER', 'x-test-protocol');
	vi.stubEnv('ORIGIN', '');
	await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
	url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterEach(async () => {
	server.closeAllConnections();
	await new Promise((resolve) => server.close(resolve));
	vi.unstubAllEnvs();
	vi.restoreAllMocks();
});

/** The stream ended everywhere: the source returned once, its signal aborted, the slot and the heartbeat timer freed. */
async function expectReleased() {
	await expect.poll(() => source.returns).toBe(1);
	expect(context?.signal.aborted).toBe(true);
	expect(openStreams(KEY)).toBe(0);
	const timer = vi.mocked(setInterval).mock.results.find((_, i) => vi.mocked(setInterval).mock.calls[i][1] === HEARTBEAT_MS);
	expect(vi.mocked(clearInterval)).toHaveBeenCalledWith(timer?.value);
}

describe('answerEventStream over HTTP', () => {
	it('routes through respond with the origin adapter-node would compute, and streams what the source sends', async () => {
		const response = await fetch(`${url}/api/x?lastEventId=5`, { headers: { accept: 'text/event-stream' } });
		expect(response.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
		expect(seen?.request.url).toBe(`http://127.0.0.1:${new URL(url).port}/api/x?lastEventId=5`);
		expect(seen?.address).toBe('127.0.0.1');
		expect(context?.lastEventId).toBe('5');
		source.push({ id: '6', event: 'note', data: 'hi' });
		source.end();
		expect(await response.text()).toBe('retry: 3000\n\nid: 6\nevent: note\ndata: "hi"\n\n');
		await expectReleased();
	});

	it('releases the source, the slot and the heartbeat when the client goes away', async () => {
		const client = new AbortController();
		const response = await fetch(url, { signal: client.signal });
		await response.body!.getReader().read();
		expect(openStreams(KEY)).toBe(1);
		client.abort();
		await expectReleased();
	});

	it('ends the stream of a client that stops reading once it falls maxQueue behind', async () => {
		for (let id = 1; id <= 20_000; id++) source.push({ id: String(id), event: 'note', data: 'x'.repeat(1000) });
		// A raw request whose response is never read: the socket's buffers fill, then the queue.
		const req = httpRequest(url);
		req.on('response', (res: IncomingMessage) => res.pause());
		req.on('error', () => {});
		req.end();
		await expectReleased();
		expect(source.taken).toBeLessThan(20_000);
		req.destroy();
	});

	it('writes any other response through its body, and a failing respond as a 500', async () => {
		respond = async () => new Response('{"error":"Sign in first."}', { status: 401, headers: { 'content-type': 'application/json' } });
		const refused = await fetch(url);
		expect([refused.status, await refused.json()]).toEqual([401, { error: 'Sign in first.' }]);
		respond = async () => {
			throw new Error('boom');
		};
		expect((await fetch(url)).status).toBe(500);
	});
});

describe('which requests take the event-stream path', () => {
	const req = (method: string, headers: Record<string, string | string[]>, remoteAddress = '10.0.0.9') =>
		({ method, headers, socket: { remoteAddress } }) as unknown as IncomingMessage;

	it('is a GET that accepts text/event-stream', () => {
		expect(isEventStreamRequest(req('GET', { accept: 'text/event-stream' }))).toBe(true);
		expect(isEventStreamRequest(req('GET', { accept: 'text/html, text/event-stream;q=0.9' }))).toBe(true);
		expect(isEventStreamRequest(req('GET', { accept: 'application/json' }))).toBe(false);
		expect(isEventStreamRequest(req('POST', { accept: 'text/event-stream' }))).toBe(false);
	});

	it('computes the origin and the client address as adapter-node does', () => {
		expect(originOf(req('GET', { host: 'a:1' }), { ORIGIN: 'https://app.example/' })).toBe('https://app.example');
		expect(originOf(req('GET', { host: 'a:1', 'x-p': 'http' }), { PROTOCOL_HEADER: 'X-P' })).toBe('http://a:1');
		expect(originOf(req('GET', { host: 'a', 'x-h': 'b', 'x-port': '8' }), { HOST_HEADER: 'x-h', PORT_HEADER: 'x-port' })).toBe('https://b:8');
		expect(() => originOf(req('GET', { host: 'a', 'x-p': 'http:' }), { PROTOCOL_HEADER: 'x-p' })).toThrow();
		expect(clientAddressOf(req('GET', {}), {})).toBe('10.0.0.9');
		expect(clientAddressOf(req('GET', { 'x-forwarded-for': '1.1.1.1, 2.2.2.2' }), { ADDRESS_HEADER: 'X-Forwarded-For' })).toBe('2.2.2.2');
		expect(clientAddressOf(req('GET', { 'x-forwarded-for': '1.1.1.1, 2.2.2.2' }), { ADDRESS_HEADER: 'x-forwarded-for', XFF_DEPTH: '2' })).toBe('1.1.1.1');
		expect(() => clientAddressOf(req('GET', {}), { ADDRESS_HEADER: 'x-real-ip' })).toThrow();
	});
});

describe('which requests are downloads', () => {
	const req = (method: string, url: string) => ({ method, url, headers: {} }) as unknown as IncomingMessage;

	it('is a GET or HEAD of /api/files/:id/download, with or without a query, the id decoded', () => {
		expect(downloadIdOf(req('GET', '/api/files/abcdefghijklmnop/download'))).toBe('abcdefghijklmnop');
		expect(downloadIdOf(req('HEAD', '/api/files/abc/download?x=1'))).toBe('abc');
		expect(downloadIdOf(req('GET', '/api/files/%2e%2e/download'))).toBe('..');
		expect(downloadIdOf(req('GET', '/api/files/%ZZ/download'))).toBe('');
		for (const [method, url] of [
			['POST', '/api/files/abc/download'],
			['GET', '/api/files/abc/download/'],
			['GET', '/api/files/abc/downloads'],
			['GET', '/api/files/a/b/download'],
			['GET', '/api/files//download'],
			['GET', '//api/files/abc/download']
		]) {
			expect(downloadIdOf(req(method, url)), `${method} ${url}`).toBeNull();
		}
	});
});

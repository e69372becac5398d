import { afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { parseSse } from '../client/sse-parser';
import { sse, type SseSource } from './sse';
import type { SseMessage } from './sse-format';
import { openStreams } from './sse-options';
import { serve, serveAtNodeLevel, serveThroughSetResponse, type TestServer } from './test-server';
import { TestSource } from './test-source';

type Events = { note: string };
type Message = SseMessage<Events>;

const HEARTBEAT_MS = 4321;
const KEY = 'user:7';

/** The ways a response leaves: read as a web stream; read by setResponse() from the SseStream; written by the SseStream itself (production). */
const SERVERS = [
	['a web ReadableStream body', serve],
	['setResponse() reading the SseStream', serveThroughSetResponse],
	['the SseStream writing to the socket', serveAtNodeLevel]
] as const;
let serveWith: typeof serve = serve;
let server: TestServer;
let source: TestSource<Message>;
let signal: AbortSignal | undefined;
let abortedAtReturn: boolean | undefined;
let options: Parameters<typeof sse>[2];

const connect: SseSource<Events> = (ctx) => ((signal = ctx.signal), source);
const note = (id: number, data = `n${id}`): Message => ({ id: String(id), event: 'note', data });

beforeEach(async () => {
	vi.spyOn(globalThis, 'setInterval');
	vi.spyOn(globalThis, 'clearInterval');
	options = { heartbeatMs: HEARTBEAT_MS, limitKey: KEY, maxStreamsPerKey: 5 };
	source = new TestSource<Message>();
	source.onReturn = () => (abortedAtReturn = signal?.aborted);
	signal = abortedAtReturn = undefined;
	server = await serveWith((request) => sse<Events>(request, connect, options));
});

afterEach(async () => {
	await server.close();
	vi.restoreAllMocks();
});

/** Every end: return() once after the source's signal aborted, the slot freed, the heartbeat timer cleared. */
async function expectCleanEnd() {
	await expect.poll(() => source.returns).toBe(1);
	expect(abortedAtReturn).toBe(true);
	expect(openStreams(KEY)).toBe(0);
	const timers = vi.mocked(setInterval).mock.calls.flatMap((call, i) =>
		call[1] === HEARTBEAT_MS ? [vi.mocked(setInterval).mock.results[i].value] : []
	);
	expect(timers).toHaveLength(1);
	expect(vi.mocked(clearInterval)).toHaveBeenCalledWith(timers[0]);
	await new Promise((resolve) => setTimeout(resolve, 20));
	expect(source.returns).toBe(1);
}

async function readAll(response: Response) {
	const events = [];
	for await (const event of parseSse(response.body!.getReader())) events.push(event);
	return events;
}

describe.each(SERVERS)('sse ends cleanly, %s', (_, how) => {
	beforeAll(() => void (serveWith = how));

	it('when the source ends, after sending what it queued', async () => {
		source.push(note(1), note(2));
		source.end();
		expect((await readAll(await fetch(server.url))).map((event) => event.id)).toEqual(['1', '2']);
		await expectCleanEnd();
	});

	it('when the client goes away (request.signal aborts over real HTTP)', async () => {
		const client = new AbortController();
		const response = await fetch(server.url, { signal: client.signal });
		const reader = response.body!.getReader();
		await reader.read();
		expect(openStreams(KEY)).toBe(1);
		client.abort();
		await expectCleanEnd();
	});

	it('when the response body is cancelled', async () => {
		const response = await sse<Events>(new Request('http://x/'), connect, options);
		expect(openStreams(KEY)).toBe(1);
		await response.body!.cancel();
		await expectCleanEnd();
	});

	it('when request.signal aborts, closing the body', async () => {
		const client = new AbortController();
		const response = await sse<Events>(new Request('http://x/', { signal: client.signal }), connect, options);
		client.abort();
		expect(await response.text()).toBe('retry: 3000\n\n');
		await expectCleanEnd();
	});

	it('when the server shuts down: queued messages, then a retry hint and a closing comment', async () => {
		const shutdown = new AbortController();
		options = { ...options, shutdown: shutdown.signal };
		const response = await fetch(server.url);
		source.push(note(1));
		await expect.poll(() => source.taken).toBe(1);
		shutdown.abort();
		expect(await response.text()).toBe('retry: 3000\n\nid: 1\nevent: note\ndata: "n1"\n\nretry: 1000\n\n: closing\n\n');
		await expectCleanEnd();
		const refused = await fetch(server.url);
		expect([refused.status, refused.headers.get('retry-after')]).toEqual([503, '1']);
	});

	it('when the source throws mid-stream', async () => {
		source.push(note(1));
		source.fail(new Error('lost the database'));
		const events = await readAll(await fetch(server.url));
		expect(events.map((event) => event.event)).toEqual(['note', 'error']);
		await expectCleanEnd();
	});

	it('when a client that does not read falls maxQueue behind a fast source: memory stays bounded', async () => {
		options = { ...options, maxQueue: 50 };
		const total = 100_000;
		for (let id = 1; id <= total; id++) source.push(note(id, 'x'.repeat(1000)));
		const response = await fetch(server.url);
		await expectCleanEnd();
		expect(source.taken).toBeLessThan(total);
		const ids = (await readAll(response)).map((event) => Number(event.id));
		expect(ids).toEqual(ids.map((_, i) => i + 1));
		// What the transport took arrived in order; what was still queued (maxQueue + 1) was dropped, to resume by id.
		expect(ids.length).toBeGreaterThan(0);
		expect(source.taken - ids.length).toBe(51);
	});

	it('does not cut off a client that keeps up with a long replay', async () => {
		options = { ...options, maxQueue: 100 };
		const total = 5000;
		for (let id = 1; id <= total; id++) source.push(note(id));
		source.end();
		expect((await readAll(await fetch(server.url))).length).toBe(total);
		await expectCleanEnd();
	});
});

import { AsyncLocalStorage } from 'node:async_hooks';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { HttpError } from '$lib/server/errors';
import { parseSse } from '../client/sse-parser';
import { sse, type SseSource } from './sse';
import type { SseMessage } from './sse-format';
import { configureSse, openStreams } from './sse-options';
import { json } from './json';
import { forSetResponse } from './node-body';
import { SseStream } from './sse-stream';
import { serve, serveAtNodeLevel, serveThroughSetResponse, type TestServer } from './test-server';
import { TestSource } from './test-source';

type Events = { note: { text: string }; count: number };

/** The ways a response leaves: read as a web stream; read by setResponse() from the SseStream; written by the SseStream itself (production). */
const SERVERS = [
	['a web ReadableStream body', serve],
	['setResponse() reading the SseStream', serveThroughSetResponse],
	['the SseStream writing to the socket', serveAtNodeLevel]
] as const;
let serveWith: typeof serve = serve;
let server: TestServer | undefined;
let handle: (request: Request) => Promise<Response>;

beforeEach(async () => {
	configureSse({});
	server = await serveWith((request) => handle(request));
});
afterEach(() => server?.close());

/** Serves one stream of `messages` (then the end) and returns the contexts the source saw. */
function replay(messages: SseMessage<Events>[]) {
	const seen: { lastEventId: string | null }[] = [];
	handle = (request) =>
		sse<Events>(request, ({ lastEventId }) => {
			seen.push({ lastEventId });
			const source = new TestSource<SseMessage<Events>>();
			source.push(...messages);
			source.end();
			return source;
		});
	return seen;
}

describe.each(SERVERS)('sse over HTTP, %s', (_, how) => {
	beforeAll(() => void (serveWith = how));

	it('sends the stream headers, retry first, then each message, and ends with the source', async () => {
		replay([
			{ id: '1', event: 'note', data: { text: 'héllo → 😀 ü' } },
			{ id: '2', event: 'count', data: 3 }
		]);
		const response = await fetch(server!.url);
		expect(response.status).toBe(200);
		expect(response.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
		expect(response.headers.get('cache-control')).toBe('no-cache, no-transform');
		expect(response.headers.get('x-accel-buffering')).toBe('no');
		expect(await response.text()).toBe(
			'retry: 3000\n\nid: 1\nevent: note\ndata: {"text":"héllo → 😀 ü"}\n\nid: 2\nevent: count\ndata: 3\n\n'
		);
	});

	it('reads Last-Event-ID from the header, else from ?lastEventId, the header winning', async () => {
		const seen = replay([]);
		await (await fetch(server!.url, { headers: { 'last-event-id': '5' } })).text();
		await (await fetch(`${server!.url}/?lastEventId=6`)).text();
		await (await fetch(`${server!.url}/?lastEventId=6`, { headers: { 'last-event-id': '7' } })).text();
		await (await fetch(`${server!.url}/?lastEventId=`, { headers: { 'last-event-id': '' } })).text();
		await (await fetch(server!.url)).text();
		expect(seen.map((ctx) => ctx.lastEventId)).toEqual(['5', '6', '7', null, null]);
	});

	it('answers with the status of an HttpError the source throws, before any stream', async () => {
		for (const status of [400, 403]) {
			handle = (request) => sse<Events>(request, () => Promise.reject(new HttpError(status, `No (${status}).`)));
			const response = await fetch(server!.url);
			expect(response.status).toBe(status);
			expect(response.headers.get('content-type')).toBe('application/json');
			expect(await response.json()).toEqual({ error: `No (${status}).` });
		}
	});

	it('answers 204 (do not reconnect) when the source says nothing more will come, and frees the slot', async () => {
		let signal: AbortSignal | undefined;
		handle = (request) => sse<Events>(request, async (ctx) => ((signal = ctx.signal), null), { limitKey: 'done', maxStreamsPerKey: 1 });
		for (let i = 0; i < 2; i++) {
			const response = await fetch(server!.url);
			expect([response.status, await response.text()]).toEqual([204, '']);
		}
		expect(signal?.aborted).toBe(true);
		expect(openStreams('done')).toBe(0);
	});

	it('answers 500 with a generic message for any other error, and hands the error to onError', async () => {
		const errors: unknown[] = [];
		const secret = new Error('SQLITE_CORRUPT at /var/data');
		handle = (request) =>
			sse<Events>(request, () => {
				throw secret;
			}, { onError: (error) => errors.push(error) });
		const response = await fetch(server!.url);
		expect(response.status).toBe(500);
		expect(await response.json()).toEqual({ error: 'The stream failed; try again later.' });
		expect(errors).toEqual([secret]);
	});

	it('refuses the stream past maxStreamsPerKey with 429, and frees the slot when one ends', async () => {
		let started = 0;
		const follow = () => ((started += 1), new TestSource<never>());
		handle = (request) => sse<Events>(request, follow, { limitKey: 'user:1', maxStreamsPerKey: 2 });
		const first = new AbortController();
		await fetch(server!.url, { signal: first.signal });
		await fetch(server!.url);
		const third = await fetch(server!.url);
		expect(third.status).toBe(429);
		expect((await third.json()).error).toMatch(/^Too many open streams/);
		expect(started).toBe(2);
		first.abort();
		await expect.poll(() => openStreams('user:1')).toBe(1);
		expect((await fetch(server!.url)).status).toBe(200);
		expect(openStreams('other')).toBe(0);
	});

	it('writes a heartbeat comment every heartbeatMs', async () => {
		handle = (request) => sse<Events>(request, () => new TestSource<never>(), { heartbeatMs: 20 });
		const response = await fetch(server!.url);
		const reader = response.body!.getReader();
		let text = '';
		while (!text.includes(':\n\n:\n\n')) text += new TextDecoder().decode((await reader.read()).value);
		expect(text).toMatch(/^retry: 3000\n\n(:\n\n)+$/);
		await reader.cancel();
	});

	it('ends with an event: error block when the source fails mid-stream', async () => {
		const errors: unknown[] = [];
		handle = (request) =>
			sse<Events>(
				request,
				async function* () {
					yield { event: 'count', data: 1 };
					throw new HttpError(409, 'The room was closed.');
				},
				{ onError: (error) => errors.push(error) }
			);
		const events = [];
		for await (const event of parseSse((await fetch(server!.url)).body!.getReader())) events.push(event);
		expect(events).toEqual([
			{ event: 'count', data: '1', retry: 3000 },
			{ event: 'error', data: '{"error":"The room was closed."}', retry: 3000 }
		]);
		expect(errors).toEqual([]);
	});

	it('refuses a message with a bad id or event name: an error event, never the message', async () => {
		const errors: unknown[] = [];
		const bad: SseSource<Events>[] = [
			async function* () {
				yield { id: '1\n\nevent: x', event: 'count', data: 1 };
			},
			async function* () {
				yield { event: 'count\ndata: x' as 'count', data: 1 };
			}
		];
		for (const source of bad) {
			handle = (request) => sse<Events>(request, source, { onError: (error) => errors.push(error) });
			expect(await (await fetch(server!.url)).text()).toBe(
				'retry: 3000\n\nevent: error\ndata: {"error":"The stream failed; try again later."}\n\n'
			);
		}
		expect(errors).toHaveLength(2);
	});

	it("pulls the source outside the request's async context, which an idle stream would keep alive", async () => {
		const requestStore = new AsyncLocalStorage<{ request: Request }>();
		const seen: unknown[] = [];
		handle = (request) =>
			requestStore.run({ request }, () =>
				sse<Events>(request, async function* () {
					seen.push(requestStore.getStore());
					yield { event: 'count', data: 1 };
				})
			);
		expect(await (await fetch(server!.url)).text()).toBe('retry: 3000\n\nevent: count\ndata: 1\n\n');
		expect(seen).toEqual([undefined]);
	});

	it('uses configureSse defaults under per-call options, and extra headers', async () => {
		configureSse({ retryMs: 500, heartbeatMs: 60_000, headers: { 'x-stream': 'notes' } });
		handle = (request) => sse<Events>(request, async function* () {}, { heartbeatMs: undefined });
		const response = await fetch(server!.url);
		expect(response.headers.get('x-stream')).toBe('notes');
		expect(await response.text()).toBe('retry: 500\n\n');
		handle = (request) =>
			sse<Events>(request, async function* () {}, { retryMs: 10, headers: { 'x-call': '1', 'content-type': 'text/html' } });
		const second = await fetch(server!.url);
		expect([second.headers.get('x-call'), second.headers.get('x-stream')]).toEqual(['1', null]);
		expect(second.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
		expect(await second.text()).toBe('retry: 10\n\n');
	});
});

describe('forSetResponse', () => {
	beforeAll(() => void (serveWith = serveThroughSetResponse));

	it('lets setResponse() read an sse() response from its SseStream, with no web stream; leaves other responses alone', async () => {
		const seen: Response[] = [];
		handle = async (request) => {
			const response = request.url.endsWith('/json')
				? json({ ok: true })
				: await sse<Events>(request, async function* () {
						yield { id: '1', event: 'count', data: 1 };
					});
			seen.push(response);
			return response;
		};
		expect(await (await fetch(server!.url)).text()).toBe('retry: 3000\n\nid: 1\nevent: count\ndata: 1\n\n');
		expect(await (await fetch(`${server!.url}/json`)).json()).toEqual({ ok: true });
		expect(seen[0].body).toBeInstanceOf(SseStream);
		expect(seen[1].body).toBeInstanceOf(ReadableStream);
	});

	it('leaves a response whose body was already read as it is', async () => {
		const response = await sse<Events>(new Request('http://x/'), async function* () {});
		expect(await response.text()).toBe('retry: 3000\n\n');
		expect(forSetResponse(response).body).toBeInstanceOf(ReadableStream);
	});
});

describe('writeResponse', () => {
	beforeAll(() => void (serveWith = serveAtNodeLevel));

	it('has an sse() response written by its SseStream (its web body never read) and any other response through its body', async () => {
		const seen: Response[] = [];
		handle = async (request) => {
			const response = request.url.endsWith('/json')
				? json({ ok: true }, { status: 201, headers: { 'set-cookie': 'a=1' } })
				: await sse<Events>(request, async function* () {
						yield { id: '1', event: 'count', data: 1 };
					});
			seen.push(response);
			return response;
		};
		expect(await (await fetch(server!.url)).text()).toBe('retry: 3000\n\nid: 1\nevent: count\ndata: 1\n\n');
		const other = await fetch(`${server!.url}/json`);
		expect([other.status, other.headers.get('set-cookie'), await other.json()]).toEqual([201, 'a=1', { ok: true }]);
		expect(seen.map((response) => response.bodyUsed)).toEqual([false, true]);
	});
});

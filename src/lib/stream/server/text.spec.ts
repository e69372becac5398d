import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { HttpError } from '$lib/server/errors';
import { batch } from './ndjson-stream';
import { serve, type TestServer } from './test-server';
import { waitFor } from './test-source';
import { text, type TextSource } from './text';

let server: TestServer;
let source: TextSource;
let onError: ReturnType<typeof vi.fn<(error: unknown) => void>>;

beforeEach(async () => {
	onError = vi.fn<(error: unknown) => void>();
	server = await serve((request) => text(request, (ctx) => source(ctx), { onError }));
});
afterEach(() => server.close());

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const line = (n: number) => `${n} héllo → 😀 ü 日本語\n`;

describe('text over HTTP', () => {
	it('streams the pieces in order as chunked UTF-8 text/plain with the stream headers', async () => {
		source = async function* () {
			for (let n = 0; n < 2000; n++) yield line(n);
			yield batch([line(2000), line(2001)]);
		};
		const response = await fetch(server.url);
		expect(response.status).toBe(200);
		expect(response.headers.get('content-type')).toBe('text/plain; charset=utf-8');
		expect(response.headers.get('cache-control')).toBe('no-cache, no-transform');
		expect(response.headers.get('x-accel-buffering')).toBe('no');
		expect(response.headers.get('x-content-type-options')).toBe('nosniff');
		expect(response.headers.get('transfer-encoding')).toBe('chunked');
		expect(response.headers.get('content-length')).toBeNull();
		expect(await response.text()).toBe(Array.from({ length: 2002 }, (_, n) => line(n)).join(''));
	});

	it('sends what a slow source has at once', async () => {
		let yielded = 0;
		source = async function* () {
			for (let n = 0; n < 3; n++) {
				yielded += 1;
				yield line(n);
				await sleep(50);
			}
		};
		const reader = (await fetch(server.url)).body!.getReader();
		expect(new TextDecoder().decode((await reader.read()).value)).toBe(line(0));
		expect(yielded).toBe(1);
		await reader.cancel();
	});

	it('refuses with the HttpError status and a JSON error before any header goes out', async () => {
		source = async () => {
			throw new HttpError(404, 'No such job.');
		};
		const response = await fetch(server.url);
		expect(response.status).toBe(404);
		expect(await response.json()).toEqual({ error: 'No such job.' });
		expect(onError).not.toHaveBeenCalled();
	});

	it('ends a stream that fails midway with the text so far, then an error line of its own', async () => {
		source = async function* () {
			yield 'first line\nhalf a line';
			await sleep(5);
			throw new HttpError(409, 'The job was removed.');
		};
		expect(await (await fetch(server.url)).text()).toBe('first line\nhalf a line\nerror: The job was removed.\n');

		const failure = new Error('disk on fire');
		source = async function* () {
			yield 'whole line\n';
			throw failure;
		};
		expect(await (await fetch(server.url)).text()).toBe('whole line\nerror: The stream failed; try again later.\n');
		expect(onError).toHaveBeenCalledWith(failure);

		source = () => ['ok\n', 42 as unknown as string];
		expect(await (await fetch(server.url)).text()).toBe('ok\nerror: The stream failed; try again later.\n');
		expect(onError).toHaveBeenLastCalledWith(expect.objectContaining({ message: 'A text stream carries strings, not number.' }));
	});
});

describe('text backpressure and clients going away', () => {
	it('stops taking text from the source while the client pauses, and returns it once when the client leaves', async () => {
		const state = { yielded: 0, closed: 0 };
		source = async function* () {
			try {
				for (;;) yield `${state.yielded++} ${'x'.repeat(1000)}\n`;
			} finally {
				state.closed += 1;
			}
		};
		const client = new AbortController();
		const reader = (await fetch(server.url, { signal: client.signal })).body!.getReader();
		await reader.read();
		let paused = -1;
		while (paused !== state.yielded) {
			paused = state.yielded;
			await sleep(100);
		}
		// Bounded by the socket and client buffers (a few MiB), not by the source.
		expect(paused * 1000).toBeLessThan(16 * 1024 * 1024);
		client.abort();
		await waitFor(() => state.closed === 1);
		await sleep(20);
		expect(state.closed).toBe(1);
	});

	it('aborts the source signal when the body is cancelled', async () => {
		let signal: AbortSignal | undefined;
		const response = await text(new Request('http://x/'), (ctx) => {
			signal = ctx.signal;
			return (async function* () {
				for (;;) yield 'tick\n';
			})();
		});
		await response.body!.getReader().cancel();
		expect(signal?.aborted).toBe(true);
	});
});

import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { HttpError } from '$lib/server/errors';
import { parseNdjson } from '../client/ndjson-parser';
import { ndjson, type NdjsonSource } from './ndjson';
import { BATCH_RECORDS, batch } from './ndjson-stream';
import { serve, type TestServer } from './test-server';
import { waitFor } from './test-source';

type Point = { id: number; label: string };

let server: TestServer;
let source: NdjsonSource<unknown>;
let onError: ReturnType<typeof vi.fn<(error: unknown) => void>>;

beforeEach(async () => {
	onError = vi.fn<(error: unknown) => void>();
	server = await serve((request) => ndjson(request, (ctx) => source(ctx), { onError }));
});
afterEach(() => server.close());

const point = (id: number): Point => ({ id, label: `héllo → 😀 ü ${id} 日本語` });
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function readAll(response: Response) {
	const records = [];
	for await (const record of parseNdjson(response.body!.getReader())) records.push(record);
	return records;
}

/** An endless async source that counts what it yielded and whether its `finally` ran. */
function counting(size = 100) {
	const state = { yielded: 0, closed: 0 };
	const run = async function* () {
		try {
			for (;;) yield { id: state.yielded++, pad: 'x'.repeat(size) };
		} finally {
			state.closed += 1;
		}
	};
	return { state, source: () => run() };
}

describe('ndjson over HTTP', () => {
	it('writes batch() items whole and in order among single records; a bad record in a batch ends with the error line', async () => {
		source = async function* () {
			yield point(0);
			yield batch(Array.from({ length: 3000 }, (_, i) => point(i + 1)));
			yield batch([]);
			yield point(3001);
		};
		const records = await readAll(await fetch(server.url));
		expect(records).toEqual(Array.from({ length: 3002 }, (_, i) => point(i)));

		source = function* () {
			yield batch([point(0), undefined as unknown as Point, point(2)]);
		};
		expect(await readAll(await fetch(server.url))).toEqual([point(0), { error: 'The stream failed; try again later.' }]);
		expect(onError).toHaveBeenCalledWith(expect.objectContaining({ message: 'An NDJSON record must be a JSON value, not undefined.' }));
	});

	it('round-trips 10,000 records with multi-byte text, in order, with the stream headers', async () => {
		source = async function* () {
			for (let id = 0; id < 10_000; id++) yield point(id);
		};
		const response = await fetch(server.url);
		expect(response.status).toBe(200);
		expect(response.headers.get('content-type')).toBe('application/x-ndjson; charset=utf-8');
		expect(response.headers.get('cache-control')).toBe('no-cache, no-transform');
		expect(response.headers.get('x-accel-buffering')).toBe('no');
		expect(await readAll(response)).toEqual(Array.from({ length: 10_000 }, (_, id) => point(id)));
	});

	it('takes an Iterable (a sync generator) and writes one JSON value a line', async () => {
		source = function* () {
			yield point(1);
			yield [1, 'two'];
			yield null;
		};
		const text = await (await fetch(server.url)).text();
		expect(text).toBe(`${JSON.stringify(point(1))}\n[1,"two"]\nnull\n`);
	});

	it('answers an empty source with 200 and an empty body', async () => {
		source = () => [];
		const response = await fetch(server.url);
		expect([response.status, await response.text()]).toEqual([200, '']);
	});

	it('refuses with the HttpError status and a JSON error before any header goes out', async () => {
		let signal: AbortSignal | undefined;
		source = async (ctx) => {
			signal = ctx.signal;
			throw new HttpError(400, 'The filter "after" must be a cursor.');
		};
		const response = await fetch(server.url);
		expect(response.status).toBe(400);
		expect(response.headers.get('content-type')).toBe('application/json');
		expect(await response.json()).toEqual({ error: 'The filter "after" must be a cursor.' });
		expect(signal?.aborted).toBe(true);
		expect(onError).not.toHaveBeenCalled();
	});

	it('answers any other failure to start with 500, a generic message and onError', async () => {
		const failure = new Error('connection refused: db:5432');
		source = () => Promise.reject(failure);
		const response = await fetch(server.url);
		expect(response.status).toBe(500);
		expect(await response.json()).toEqual({ error: 'The stream failed; try again later.' });
		expect(onError).toHaveBeenCalledWith(failure);
	});

	it('ends a stream that fails midway with the records so far, then one error line', async () => {
		source = async function* () {
			yield point(1);
			yield point(2);
			throw new HttpError(409, 'The history was rewritten; reload.');
		};
		expect(await readAll(await fetch(server.url))).toEqual([point(1), point(2), { error: 'The history was rewritten; reload.' }]);
		const failure = new Error('cursor lost');
		source = async function* () {
			yield point(1);
			await sleep(5);
			throw failure;
		};
		expect(await readAll(await fetch(server.url))).toEqual([point(1), { error: 'The stream failed; try again later.' }]);
		expect(onError).toHaveBeenCalledWith(failure);
		source = () => [1, () => 2];
		expect(await readAll(await fetch(server.url))).toEqual([1, { error: 'The stream failed; try again later.' }]);
	});

	it('sends what a slow source has at once, without waiting for a full batch', async () => {
		let yielded = 0;
		source = async function* () {
			for (let id = 0; id < 3; id++) {
				yielded += 1;
				yield point(id);
				await sleep(50);
			}
		};
		const records = parseNdjson((await fetch(server.url)).body!.getReader());
		expect((await records.next()).value).toEqual(point(0));
		expect(yielded).toBe(1);
		expect((await records.next()).value).toEqual(point(1));
		expect(yielded).toBe(2);
	});
});

describe('ndjson backpressure', () => {
	it('reads the source only as fast as the body is read: one batch ahead at most', async () => {
		const { state, source: run } = counting();
		const response = await ndjson(new Request('http://x/'), run);
		const reader = response.body!.getReader();
		for (let reads = 1; reads <= 3; reads++) {
			await reader.read();
			await sleep(20);
			// What was read, one batch queued ahead, and the one record a pending next() may have asked for.
			expect(state.yielded).toBeLessThanOrEqual((reads + 1) * BATCH_RECORDS + 1);
		}
		await reader.cancel();
		expect(state.closed).toBe(1);
	});

	it('stops taking records from the source while an HTTP client pauses, and resumes with it', async () => {
		const { state, source: run } = counting(1000);
		source = run;
		const client = new AbortController();
		const records = parseNdjson((await fetch(server.url, { signal: client.signal })).body!.getReader());
		await records.next();
		let paused = -1;
		while (paused !== state.yielded) {
			paused = state.yielded;
			await sleep(100);
		}
		// Bounded by the socket and client buffers between server and client (a few MiB), not by the source.
		expect(paused * 1000).toBeLessThan(16 * 1024 * 1024);
		for (let i = 0; i < paused; i++) await records.next();
		await waitFor(() => state.yielded > paused);
		client.abort();
		await waitFor(() => state.closed === 1);
	});
});

/** An endless cursor like a database's: opened by the source, closed by return(), sometimes slow. */
class Cursor implements AsyncIterableIterator<Point> {
	static open = 0;
	returns = 0;
	private id = 0;
	constructor() {
		Cursor.open += 1;
	}
	async next(): Promise<IteratorResult<Point>> {
		if (this.id % 97 === 0) await sleep(1);
		return { done: false, value: point(this.id++) };
	}
	async return(): Promise<IteratorResult<Point>> {
		if ((this.returns += 1) === 1) Cursor.open -= 1;
		return { done: true, value: undefined };
	}
	[Symbol.asyncIterator]() {
		return this;
	}
}

describe('ndjson when the client goes away', () => {
	it('returns the source once, every time, 100 times over, with no timers left behind', async () => {
		const cursors: Cursor[] = [];
		source = () => (cursors.push(new Cursor()), cursors.at(-1)!);
		const before = process.getActiveResourcesInfo().filter((kind) => kind === 'Immediate').length;
		for (let round = 0; round < 100; round++) {
			const client = new AbortController();
			const reader = (await fetch(server.url, { signal: client.signal })).body!.getReader();
			for (let reads = round % 4; reads >= 0; reads--) await reader.read();
			client.abort();
		}
		await waitFor(() => Cursor.open === 0);
		await sleep(20);
		expect(cursors.map((cursor) => cursor.returns)).toEqual(cursors.map(() => 1));
		expect(process.getActiveResourcesInfo().filter((kind) => kind === 'Immediate').length).toBe(before);
	});

	it('returns the source once when the body is cancelled or request.signal aborts', async () => {
		const cancelled = new Cursor();
		let signal: AbortSignal | undefined;
		await (await ndjson(new Request('http://x/'), (ctx) => ((signal = ctx.signal), cancelled))).body!.cancel();
		expect(signal?.aborted).toBe(true);
		const client = new AbortController();
		const aborted = new Cursor();
		const response = await ndjson(new Request('http://x/', { signal: client.signal }), () => aborted);
		const reader = response.body!.getReader();
		await reader.read();
		await sleep(10);
		// The next batch is queued, so the body is still open to a cancel after the abort closed it.
		client.abort();
		await reader.cancel();
		await sleep(10);
		expect([cancelled.returns, aborted.returns]).toEqual([1, 1]);
	});
});

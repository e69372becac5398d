import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { HttpError } from '$lib/server/errors';
import { ndjson, type NdjsonSource } from '../server/ndjson';
import { serve, type TestServer } from '../server/test-server';
import { waitFor } from '../server/test-source';
import { ApiError } from './api-error';
import { readRecords } from './records';

type Point = { id: number; label: string };

const point = (id: number): Point => ({ id, label: `héllo → 😀 ü ${id}` });
const range = (from: number, to: number) => Array.from({ length: Math.max(to - from, 0) }, (_, i) => point(from + i));
const closers: (() => Promise<void>)[] = [];

afterEach(async () => {
	for (const close of closers.splice(0)) await close();
});

/** Serves `ndjson(request, source(url))` with the real helper; `wrap` may rewrite the response. */
async function records(source: (url: URL) => NdjsonSource<unknown>, wrap = (response: Response) => response): Promise<TestServer> {
	const server = await serve(async (request) => wrap(await ndjson(request, source(new URL(request.url)))));
	closers.push(() => server.close());
	return server;
}

/** A body that passes `cutoff` bytes, then errors, so the server destroys the connection mid-stream. */
function breakAfter(body: ReadableStream<Uint8Array>, cutoff: number): ReadableStream<Uint8Array> {
	const reader = body.getReader();
	let sent = 0;
	return new ReadableStream({
		async pull(controller) {
			if (sent >= cutoff) {
				await reader.cancel();
				return controller.error(new Error('cut'));
			}
			const { done, value } = await reader.read();
			if (done) return controller.close();
			const part = value.slice(0, cutoff - sent);
			sent += part.length;
			controller.enqueue(part);
		},
		cancel: (reason) => reader.cancel(reason)
	});
}

describe('readRecords', () => {
	it('iterates the records in order and hands onChunk the same records, then completes', async () => {
		const server = await records(() => () => range(0, 2000));
		const chunks: Point[][] = [];
		const onComplete = vi.fn();
		const stream = readRecords<Point>(server.url, { onChunk: (batch) => chunks.push(batch), onComplete });
		const seen: Point[] = [];
		for await (const record of stream) seen.push(record);
		await stream.done;
		expect(seen).toEqual(range(0, 2000));
		expect(chunks.flat()).toEqual(seen);
		expect(chunks.every((batch) => batch.length > 0)).toBe(true);
		expect(onComplete).toHaveBeenCalledOnce();
	});

	it('works with the callbacks alone, and passes the query', async () => {
		const server = await records((url) => () => range(0, Number(url.searchParams.get('n'))));
		const chunks: Point[][] = [];
		await readRecords<Point>(server.url, { query: { n: 7 }, onChunk: (batch) => chunks.push(batch) }).done;
		expect(chunks.flat()).toEqual(range(0, 7));
	});

	it('puts a record and a multi-byte character split across network chunks back together, at every offset', async () => {
		const lines = [{ id: 1, text: 'é😀' }, { id: 2, text: '日本' }];
		const first = Buffer.from(JSON.stringify(lines[0]) + '\n');
		const bytes = Buffer.concat([first, Buffer.from(JSON.stringify(lines[1]) + '\n')]);
		const server: Server = createServer((req, res) => {
			const at = Number(new URL(req.url ?? '', 'http://x').searchParams.get('at'));
			res.writeHead(200, { 'content-type': 'application/x-ndjson' });
			res.write(bytes.subarray(0, at));
			setTimeout(() => res.end(bytes.subarray(at)), 15);
		});
		await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
		closers.push(() => new Promise((resolve) => server.close(() => resolve())));
		const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
		for (let at = 0; at <= bytes.length; at++) {
			const chunks: unknown[][] = [];
			const seen: unknown[] = [];
			const stream = readRecords(url, { query: { at }, onChunk: (batch) => chunks.push(batch) });
			for await (const record of stream) seen.push(record);
			expect(seen, `split at ${at}`).toEqual(lines);
			const whole = at === 0 || at === bytes.length || at < first.length;
			expect(chunks, `split at ${at}`).toEqual(whole ? [lines] : [[lines[0]], [lines[1]]]);
		}
	});

	it('resumes with ?after=<cursor> after the server drops the connection at random points: every record once', async () => {
		const total = 600;
		const cuts = Array.from({ length: 4 }, () => 1 + Math.floor(Math.random() * 20_000));
		const afters: (string | null)[] = [];
		const server = await records(
			(url) => {
				const after = url.searchParams.get('after');
				afters.push(after);
				return () => range(after === null ? 0 : Number(after) + 1, total);
			},
			(response) => {
				const cutoff = cuts[afters.length - 1];
				if (cutoff === undefined) return response;
				return new Response(breakAfter(response.body!, cutoff), { status: response.status, headers: response.headers });
			}
		);
		const seen: Point[] = [];
		const stream = readRecords<Point>(server.url, { cursor: 'id', retries: cuts.length });
		for await (const record of stream) seen.push(record);
		expect(seen.map((p) => p.id), `cuts ${cuts.join(', ')}`).toEqual(range(0, total).map((p) => p.id));
		expect(seen).toEqual(range(0, total));
		expect(afters[0]).toBe(null);
		expect(afters.length).toBeGreaterThan(1);
	});

	it('without a cursor, a broken connection is an error', async () => {
		const server = await records(
			() => () => range(0, 500),
			(response) => new Response(breakAfter(response.body!, 100), { headers: response.headers })
		);
		const onError = vi.fn();
		const stream = readRecords<Point>(server.url, { onError });
		await expect(stream.done).rejects.toThrow(/The records stream broke/);
		expect(onError).toHaveBeenCalledOnce();
	});

	it('treats a final {"error"} line as an error: onError, the iterator throws, done rejects', async () => {
		const server = await records(() => async function* () {
			yield { id: 1, error: null };
			yield { id: 2, error: 'a field, not a failure' };
			throw new HttpError(409, 'The history moved on.');
		});
		const onError = vi.fn();
		const onComplete = vi.fn();
		const stream = readRecords(server.url, { onError, onComplete });
		const seen: unknown[] = [];
		await expect(async () => {
			for await (const record of stream) seen.push(record);
		}).rejects.toThrow('The history moved on.');
		await expect(stream.done).rejects.toThrow('The history moved on.');
		expect(seen).toEqual([{ id: 1, error: null }, { id: 2, error: 'a field, not a failure' }]);
		expect(onError).toHaveBeenCalledWith(new Error('The history moved on.'));
		expect(onComplete).not.toHaveBeenCalled();
	});

	it('throws ApiError with the server message on a non-2xx status', async () => {
		const server = await records(() => () => {
			throw new HttpError(400, 'Unknown filter.');
		});
		const onError = vi.fn();
		const stream = readRecords(server.url, { onError, cursor: undefined });
		const error = await stream.done.catch((e: unknown) => e);
		expect(error).toBeInstanceOf(ApiError);
		expect(error).toMatchObject({ status: 400, message: 'Unknown filter.' });
		expect(onError).toHaveBeenCalledWith(error);
	});

	it('stops on abort: done resolves, no more callbacks, the server source is closed', async () => {
		let closed = false;
		const server = await records(() => async function* () {
			try {
				for (let id = 0; ; id++) yield point(id);
			} finally {
				closed = true;
			}
		});
		const controller = new AbortController();
		const onComplete = vi.fn();
		const onError = vi.fn();
		let count = 0;
		const stream = readRecords<Point>(server.url, {
			signal: controller.signal,
			onComplete,
			onError,
			onChunk: (batch) => {
				count += batch.length;
				if (count >= 1000) controller.abort();
			}
		});
		await stream.done;
		const after = count;
		await waitFor(() => closed);
		expect(count).toBe(after);
		expect(onComplete).not.toHaveBeenCalled();
		expect(onError).not.toHaveBeenCalled();
	});

	it('stops when the loop breaks, and paces the server to the loop', async () => {
		let produced = 0;
		let closed = false;
		const server = await records(() => async function* () {
			try {
				for (;;) yield point(produced++);
			} finally {
				closed = true;
			}
		});
		const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
		const stream = readRecords<Point>(server.url);
		let taken = 0;
		let paused = [0, 0];
		for await (const record of stream) {
			expect(record.id).toBe(taken);
			if (++taken === 5) {
				// Socket buffers fill up, then the server stops producing while the loop waits.
				await sleep(300);
				paused = [produced, (await sleep(200), produced)];
			}
			if (taken === 10) break;
		}
		await stream.done;
		await waitFor(() => closed);
		expect(paused[1]).toBe(paused[0]);
	});

	it('refuses an iterator asked for after the stream started, or a second one', async () => {
		const server = await records(() => () => range(0, 3));
		const stream = readRecords(server.url);
		stream[Symbol.asyncIterator]();
		expect(() => stream[Symbol.asyncIterator]()).toThrow(/once/);
		stream.abort();
		const late = readRecords(server.url);
		await Promise.resolve();
		await Promise.resolve();
		expect(() => late[Symbol.asyncIterator]()).toThrow(/in the tick/);
		await late.done;
	});
});

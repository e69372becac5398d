import { afterEach, describe, expect, it } from 'vitest';
import { HttpError } from '$lib/server/errors';
import { serve, type TestServer } from '../server/test-server';
import { text, type TextSource } from '../server/text';
import { ApiError } from './api-error';
import { collect, everySplit, readerOf } from './test-chunks';
import { decodeText, readText } from './text';

const encoder = new TextEncoder();
const SAMPLE = 'héllo → 😀 ü\n日本語\r\nlast €';
const closers: (() => Promise<void>)[] = [];

afterEach(async () => {
	for (const close of closers.splice(0)) await close();
});

async function textServer(source: TextSource, wrap = (response: Response) => response): Promise<TestServer> {
	const server = await serve(async (request) => wrap(await text(request, source)));
	closers.push(() => server.close());
	return server;
}

describe('decodeText', () => {
	it('gives back the same text at every two- and three-chunk split, multi-byte characters included', async () => {
		const bytes = encoder.encode(SAMPLE);
		for (const chunks of everySplit(bytes)) {
			const pieces = await collect(decodeText(readerOf(chunks)));
			expect(pieces.join('')).toBe(SAMPLE);
			expect(pieces.every((piece) => piece !== '' && !piece.includes('\uFFFD'))).toBe(true);
		}
	});

	it('flushes a truncated last character as U+FFFD and reads an empty body as nothing', async () => {
		expect(await collect(decodeText(readerOf(['a', encoder.encode('€').slice(0, 2)])))).toEqual(['a', '\uFFFD']);
		expect(await collect(decodeText(readerOf([])))).toEqual([]);
	});
});

describe('readText over HTTP', () => {
	it('hands onText each decoded chunk as it arrives, then onComplete', async () => {
		let release!: () => void;
		const gate = new Promise<void>((resolve) => (release = resolve));
		const server = await textServer(async function* () {
			yield 'first\n';
			await gate;
			yield 'second 😀\n';
		});
		const seen: string[] = [];
		let completed = false;
		const stream = readText(server.url, {
			onText: (piece) => {
				seen.push(piece);
				if (seen.length === 1) release();
			},
			onComplete: () => (completed = true)
		});
		await stream.done;
		expect(seen).toEqual(['first\n', 'second 😀\n']);
		expect(completed).toBe(true);
	});

	it('rejects with ApiError and the server message on a non-2xx answer', async () => {
		const server = await textServer(async () => {
			throw new HttpError(404, 'No such job.');
		});
		const errors: Error[] = [];
		const stream = readText(`${server.url}/x`, { query: { from: 3 }, onError: (error) => errors.push(error) });
		await expect(stream.done).rejects.toThrow('No such job.');
		expect(errors[0]).toBeInstanceOf(ApiError);
		expect((errors[0] as ApiError).status).toBe(404);
	});

	it('stops on abort: done resolves and no callback runs after', async () => {
		const server = await textServer(async function* () {
			for (let n = 0; ; n++) {
				yield `${n}\n`;
				await new Promise((resolve) => setTimeout(resolve, 5));
			}
		});
		const controller = new AbortController();
		let pieces = 0;
		let completed = false;
		const stream = readText(server.url, {
			signal: controller.signal,
			onText: () => {
				if (++pieces === 3) controller.abort();
			},
			onComplete: () => (completed = true),
			onError: () => expect.unreachable('no error after an abort')
		});
		await stream.done;
		await new Promise((resolve) => setTimeout(resolve, 30));
		expect(pieces).toBe(3);
		expect(completed).toBe(false);
	});

	it('reports a connection cut mid-stream through onError', async () => {
		const server = await textServer(
			async function* () {
				yield 'some text\n';
				await new Promise((resolve) => setTimeout(resolve, 20));
				yield 'more\n';
			},
			(response) => {
				const reader = response.body!.getReader();
				let sent = false;
				const body = new ReadableStream<Uint8Array>({
					async pull(controller) {
						if (sent) {
							await new Promise((resolve) => setTimeout(resolve, 50));
							return controller.error(new Error('cut'));
						}
						const { value } = await reader.read();
						sent = true;
						controller.enqueue(value!);
					}
				});
				return new Response(body, { headers: response.headers });
			}
		);
		const seen: string[] = [];
		const errors: Error[] = [];
		await readText(server.url, { onText: (piece) => seen.push(piece), onError: (error) => errors.push(error) }).done.catch(() => {});
		expect(seen).toEqual(['some text\n']);
		expect(errors[0]?.message).toMatch(/^The text stream broke/);
	});
});

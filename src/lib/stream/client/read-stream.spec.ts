import { describe, expect, it } from 'vitest';
import { readStream } from './read-stream';
import { collect, everySplit, readerOf } from './test-chunks';

const encoder = new TextEncoder();
const LINES = /\r\n|\r|\n/;

describe('readStream', () => {
	it('puts multi-byte characters and CRLF back together at every split offset', async () => {
		const bytes = encoder.encode('héllo → 😀 ü\r\nsecond\r\n\r\nlast ü');
		for (const chunks of everySplit(bytes)) {
			expect(await collect(readStream(readerOf(chunks), LINES))).toEqual(['héllo → 😀 ü', 'second', '', 'last ü']);
		}
	});

	it('splits on a string delimiter split across chunks', async () => {
		const bytes = encoder.encode('a€\r\nb\r\n');
		for (const chunks of everySplit(bytes)) {
			expect(await collect(readStream(readerOf(chunks), '\r\n'))).toEqual(['a€', 'b']);
		}
	});

	it('treats CR, LF and CRLF as one line end each, and CR CRLF as two', async () => {
		const lines = await collect(readStream(readerOf(['a\rb\nc\r\nd\r', '\r\ne']), LINES));
		expect(lines).toEqual(['a', 'b', 'c', 'd', '', 'e']);
	});

	it('yields a line ended by CR before the next chunk arrives', async () => {
		let release!: () => void;
		const gate = new Promise<void>((resolve) => (release = resolve));
		const stream = new ReadableStream<Uint8Array>({
			async pull(controller) {
				controller.enqueue(encoder.encode('first\r'));
				await gate;
				controller.enqueue(encoder.encode('\nsecond'));
				controller.close();
			}
		});
		const lines = readStream(stream.getReader(), LINES);
		expect((await lines.next()).value).toBe('first');
		release();
		expect(await collect(lines)).toEqual(['second']);
	});

	it('flushes a truncated character as U+FFFD and keeps a trailing remainder', async () => {
		const euro = encoder.encode('€');
		expect(await collect(readStream(readerOf(['x\n', euro.slice(0, 2)]), '\n'))).toEqual(['x', '\uFFFD']);
	});

	it('escapes string delimiters and cancels the reader when stopped early', async () => {
		let cancelled = false;
		const stream = new ReadableStream<Uint8Array>({
			pull: (controller) => controller.enqueue(encoder.encode('a.b.c|')),
			cancel: () => void (cancelled = true)
		});
		for await (const piece of readStream(stream.getReader(), '.')) {
			expect(piece).toBe('a');
			break;
		}
		expect(cancelled).toBe(true);
	});
});

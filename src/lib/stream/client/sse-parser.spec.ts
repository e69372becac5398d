import { describe, expect, it } from 'vitest';
import { parseSse, type SseEvent } from './sse-parser';
import { collect, everySplit, readerOf } from './test-chunks';

const encoder = new TextEncoder();
const parse = (...chunks: (Uint8Array | string)[]) => collect(parseSse(readerOf(chunks)));

describe('parseSse', () => {
	it('parses the same events at every two- and three-chunk split, multi-byte characters included', async () => {
		const bytes = encoder.encode('\uFEFFid: 1\r\nevent: greet\r\ndata: héllo → 😀 ü\r\ndata: ü\r\n\r\n: 😀 comment\rdata:x\r\r');
		const expected: SseEvent[] = [
			{ id: '1', event: 'greet', data: 'héllo → 😀 ü\nü' },
			{ id: '1', event: 'message', data: 'x' }
		];
		for (const chunks of everySplit(bytes)) expect(await parse(...chunks)).toEqual(expected);
	});

	it('accepts LF, CR and CRLF line ends alike', async () => {
		for (const end of ['\n', '\r', '\r\n']) {
			expect(await parse(`data: a${end}data: b${end}${end}`)).toEqual([{ event: 'message', data: 'a\nb' }]);
		}
	});

	it('strips one leading BOM, even split across chunks, and only one', async () => {
		const bom = encoder.encode('\uFEFF');
		expect(await parse(bom.slice(0, 1), bom.slice(1), 'data: a\n\n')).toEqual([{ event: 'message', data: 'a' }]);
		expect(await parse('\uFEFF\uFEFFdata: a\n\ndata: b\n\n')).toEqual([{ event: 'message', data: 'b' }]);
	});

	it('ignores comments and unknown fields, and removes only one space after the colon', async () => {
		expect(await parse(':hi\n: there\nfoo: bar\ndata:  two spaces\ndata:none\n\n')).toEqual([
			{ event: 'message', data: ' two spaces\nnone' }
		]);
	});

	it('takes a field with no colon as the field name with an empty value', async () => {
		expect(await parse('data\n\n')).toEqual([{ event: 'message', data: '' }]);
		expect(await parse('data\ndata\n\n')).toEqual([{ event: 'message', data: '\n' }]);
		expect(await parse('event\ndata: a\n\n')).toEqual([{ event: 'message', data: 'a' }]);
	});

	it('dispatches nothing for a block without data, and resets the event name after each block', async () => {
		expect(await parse('event: a\n\ndata: b\n\nevent: c\ndata: d\n\ndata: e\n\n')).toEqual([
			{ event: 'message', data: 'b' },
			{ event: 'c', data: 'd' },
			{ event: 'message', data: 'e' }
		]);
	});

	it('keeps the last id across events, clears it with an empty id, and ignores an id with NUL', async () => {
		const events = await parse('id: 7\ndata: a\n\ndata: b\n\nid: 8\0\ndata: c\n\nid\ndata: d\n\n');
		expect(events.map((event) => event.id)).toEqual(['7', '7', '7', undefined]);
	});

	it('reports retry at once, carries it on later events, and ignores non-digits', async () => {
		const seen: number[] = [];
		const events = await collect(
			parseSse(readerOf(['retry: 3000\n\ndata: a\n\nretry: 1.5\nretry: -1\nretry:\nretry: 250\n\ndata: b\n\n']), {
				onRetry: (ms) => seen.push(ms)
			})
		);
		expect(seen).toEqual([3000, 250]);
		expect(events).toEqual([
			{ event: 'message', data: 'a', retry: 3000 },
			{ event: 'message', data: 'b', retry: 250 }
		]);
	});

	it('drops an event the stream ended in the middle of', async () => {
		expect(await parse('data: a\n\ndata: b\n')).toEqual([{ event: 'message', data: 'a' }]);
		expect(await parse('data: a\n\ndata: b')).toEqual([{ event: 'message', data: 'a' }]);
	});
});

import { describe, expect, it } from 'vitest';
import { parseNdjson } from './ndjson-parser';
import { collect, everySplit, readerOf } from './test-chunks';

const encoder = new TextEncoder();
const parse = (...chunks: (Uint8Array | string)[]) => collect(parseNdjson(readerOf(chunks)));

describe('parseNdjson', () => {
	it('parses the same values at every two- and three-chunk split, multi-byte characters included', async () => {
		const bytes = encoder.encode('{"text":"héllo → 😀 ü"}\r\n\n  \r\n[1,"ü"]\n"😀"');
		for (const chunks of everySplit(bytes)) {
			expect(await parse(...chunks)).toEqual([{ text: 'héllo → 😀 ü' }, [1, 'ü'], '😀']);
		}
	});

	it('names the line number of a malformed line, blank lines counted', async () => {
		await expect(parse('{"a":1}\n\n{"a":\n{"a":3}\n')).rejects.toThrow(/^NDJSON line 3 is not valid JSON/);
	});

	it('yields the values before a malformed line', async () => {
		const values: unknown[] = [];
		await expect(async () => {
			for await (const value of parseNdjson(readerOf(['1\n2\nnope\n4\n']))) values.push(value);
		}).rejects.toThrow('NDJSON line 3');
		expect(values).toEqual([1, 2]);
	});

	it('reads an empty body as no values', async () => {
		expect(await parse()).toEqual([]);
		expect(await parse('\n\r\n')).toEqual([]);
	});
});

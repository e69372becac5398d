import { describe, expect, it } from 'vitest';
import { parseSse } from '../client/sse-parser';
import { collect, readerOf } from '../client/test-chunks';
import { formatComment, formatMessage, formatRetry } from './sse-format';

const parse = (text: string) => collect(parseSse(readerOf([text])));

describe('formatMessage', () => {
	it('writes id, event and JSON data, then a blank line', () => {
		expect(formatMessage({ id: '42', event: 'note', data: { text: 'hi' } })).toBe(
			'id: 42\nevent: note\ndata: {"text":"hi"}\n\n'
		);
		expect(formatMessage({ event: 'note', data: 'plain' })).toBe('event: note\ndata: "plain"\n\n');
		expect(formatMessage({ event: 'ping', data: undefined })).toBe('event: ping\ndata: null\n\n');
	});

	it('never lets a payload forge an event or a field', async () => {
		const payloads = [
			'\n\nevent: x\ndata: y',
			'a\rb',
			'a\r\n\r\nid: 9',
			'héllo → 😀 ü',
			'line\u2028sep\u2029para',
			'\0',
			{ '\n\nevent: x': '\r' }
		];
		for (const data of payloads) {
			const block = formatMessage({ id: '1', event: 'note', data });
			expect(block.slice(0, -2)).not.toMatch(/\r|\n\n/);
			expect(await parse(block)).toEqual([{ id: '1', event: 'note', data: JSON.stringify(data) }]);
		}
	});

	it('refuses an id with CR, LF or NUL', () => {
		for (const id of ['1\n', '1\r2', '\0']) {
			expect(() => formatMessage({ id, event: 'note', data: 1 })).toThrow(/id must not contain/);
		}
	});

	it('refuses an event name outside [\\w.:-]', () => {
		for (const event of ['', 'a b', 'a\nb', 'é', 'x\0']) {
			expect(() => formatMessage({ event, data: 1 })).toThrow(/event name/);
		}
		expect(formatMessage({ event: 'job.progress:v1-x_y', data: 1 })).toContain('event: job.progress:v1-x_y\n');
	});

	it('throws for data JSON cannot serialize', () => {
		expect(() => formatMessage({ event: 'note', data: 1n })).toThrow();
	});
});

describe('formatRetry and formatComment', () => {
	it('write a retry block and one-line comments', () => {
		expect(formatRetry(3000)).toBe('retry: 3000\n\n');
		expect(formatComment()).toBe(':\n\n');
		expect(formatComment('closing\nnow')).toBe(': closing now\n\n');
	});
});

import { describe, expect, it } from 'vitest';
import type { ChatMessage } from '$lib/shared/chat';
import { buildLines, dayLabel } from './lines';
import { splitText } from './text-parts';

const ana = { id: 1, name: 'ana' };
const bo = { id: 2, name: 'bo' };
const now = new Date(2026, 10, 21, 15, 0).getTime();
const at = (minutesAgo: number) => now - minutesAgo * 60_000;
const text = (id: number, author: typeof ana, created: number): ChatMessage => ({ roomId: 1, id, kind: 'text', author, text: `t${id}`, file: null, clientId: null, created });

describe('buildLines', () => {
	it('groups one author within 5 minutes, splits on author, time, system lines and days', () => {
		const messages: ChatMessage[] = [
			text(1, ana, at(60 * 24 + 10)),
			text(2, ana, at(30)),
			text(3, ana, at(29)),
			text(4, bo, at(28)),
			text(5, bo, at(20)),
			{ roomId: 1, id: 6, kind: 'join', author: bo, text: 'bo joined', file: null, clientId: null, created: at(19) },
			text(7, bo, at(18))
		];
		const lines = buildLines(messages, [], ana, now);
		expect(lines.map((l) => (l.type === 'group' ? `${l.author?.name}:${l.items.map((i) => i.key).join(',')}` : l.type === 'day' ? l.label : 'system'))).toEqual([
			'Yesterday',
			'ana:m1',
			'Today',
			'ana:m2,m3',
			'bo:m4',
			'bo:m5',
			'system',
			'bo:m7'
		]);
		expect(lines.filter((l) => l.type === 'group' && l.mine)).toHaveLength(2);
	});

	it('puts my pending and failed messages last, joining my own group', () => {
		const outbox = [
			{ clientId: 'a', roomId: 1, text: 'p', state: 'pending' as const, error: null, created: at(1) },
			{ clientId: 'b', roomId: 1, text: 'f', state: 'failed' as const, error: 'Too fast.', created: at(1) }
		];
		const lines = buildLines([text(1, ana, at(2))], outbox, ana, now);
		const group = lines.at(-1)!;
		expect(group.type === 'group' && group.items.map((i) => [i.key, i.state, i.error])).toEqual([
			['m1', 'sent', null],
			['oa', 'pending', null],
			['ob', 'failed', 'Too fast.']
		]);
	});

	it('names days', () => {
		expect(dayLabel(at(1), now)).toBe('Today');
		expect(dayLabel(at(60 * 24), now)).toBe('Yesterday');
		expect(dayLabel(new Date(2026, 0, 5).getTime(), now)).toMatch(/2026/);
	});
});

describe('splitText', () => {
	it('links http(s) URLs only, without the sentence punctuation after them', () => {
		expect(splitText('see https://x.dev/a?b=1, or (http://y.org/p).')).toEqual([
			{ kind: 'text', text: 'see ' },
			{ kind: 'link', text: 'https://x.dev/a?b=1', href: 'https://x.dev/a?b=1' },
			{ kind: 'text', text: ', or (' },
			{ kind: 'link', text: 'http://y.org/p', href: 'http://y.org/p' },
			{ kind: 'text', text: ').' }
		]);
		expect(splitText('https://en.wikipedia.org/wiki/Foo_(bar)')[0]).toMatchObject({ kind: 'link', text: 'https://en.wikipedia.org/wiki/Foo_(bar)' });
	});

	it('leaves javascript:, data: and other schemes as text', () => {
		for (const evil of ['javascript:alert(1)', 'data:text/html,<b>x</b>', 'JaVaScRiPt://x%0aalert(1)', '<a href="javascript:x">y</a>']) {
			expect(splitText(evil).every((p) => p.kind === 'text')).toBe(true);
			expect(splitText(evil).map((p) => p.text).join('')).toBe(evil);
		}
	});

	it('marks @mentions, and mine', () => {
		expect(splitText('hi @Ana. and @bo_b, mail@x.org', 'ana')).toEqual([
			{ kind: 'text', text: 'hi ' },
			{ kind: 'mention', text: '@Ana', me: true },
			{ kind: 'text', text: '.' },
			{ kind: 'text', text: ' and ' },
			{ kind: 'mention', text: '@bo_b', me: false },
			{ kind: 'text', text: ', mail@x.org' }
		]);
	});
});

import { describe, expect, it } from 'vitest';
import type { ChatMessage } from '../../shared/chat';
import { catchUp, contiguousEnd, mergeMessages, type HistoryPage } from './chat-log';

const message = (id: number, text = `m${id}`): ChatMessage => ({ roomId: 1, id, kind: 'text', author: null, text, file: null, clientId: null, created: 0 });
const ids = (list: ChatMessage[]) => list.map((m) => m.id);

describe('mergeMessages', () => {
	it('keeps id order, drops duplicates (the copy it has wins), accepts any incoming order', () => {
		const list = [message(1), message(2), message(4)];
		const merged = mergeMessages(list, [message(6), message(2, 'again'), message(3), message(5)]);
		expect(ids(merged)).toEqual([1, 2, 3, 4, 5, 6]);
		expect(merged[1].text).toBe('m2');
		expect(mergeMessages(list, [])).toBe(list);
		expect(ids(mergeMessages([], [message(9), message(7)]))).toEqual([7, 9]);
	});
});

describe('contiguousEnd', () => {
	it('is the last id before the first hole', () => {
		expect(contiguousEnd([])).toBe(0);
		expect(contiguousEnd([message(51), message(52), message(53)])).toBe(53);
		expect(contiguousEnd([message(1), message(2), message(5), message(6)])).toBe(2);
	});
});

describe('catchUp', () => {
	const server = Array.from({ length: 450 }, (_, i) => message(i + 1));
	const pages = (asked: number[]) => async (after: number): Promise<HistoryPage> => {
		asked.push(after);
		const rest = server.filter((m) => m.id > after);
		return { ok: true, messages: rest.slice(0, 200), more: rest.length > 200 };
	};

	it('fills a hole and fetches page after page to the end', async () => {
		const asked: number[] = [];
		const { list, error } = await catchUp([message(1), message(2), message(300)], pages(asked));
		expect(error).toBeNull();
		expect(ids(list)).toEqual(server.map((m) => m.id));
		expect(asked).toEqual([2, 202, 402]);
	});

	it('keeps what it has and says why when a page fails', async () => {
		const { list, error } = await catchUp([message(1)], async () => ({ ok: false, error: 'No such room.' }));
		expect([ids(list), error]).toEqual([[1], 'No such room.']);
	});
});

import { describe, expect, it } from 'vitest';
import { mergePage } from './paging';

const byId = (n: { id: number }) => n.id;
const newer = (n: { id: number }, top: { id: number } | undefined) => n.id > (top?.id ?? 0);

describe('mergePage', () => {
	it('replaces the list with the first page but keeps live items newer than it', () => {
		const live = [{ id: 9 }, { id: 5 }, { id: 2 }];
		expect(mergePage(live, [{ id: 7 }, { id: 5 }], true, byId, newer)).toEqual([{ id: 9 }, { id: 7 }, { id: 5 }]);
	});
	it('keeps everything live when the first page is empty', () => {
		expect(mergePage([{ id: 3 }], [], true, byId, newer)).toEqual([{ id: 3 }]);
	});
	it('appends an older page without duplicates', () => {
		expect(mergePage([{ id: 9 }, { id: 7 }], [{ id: 7 }, { id: 4 }], false, byId, newer)).toEqual([{ id: 9 }, { id: 7 }, { id: 4 }]);
	});
});

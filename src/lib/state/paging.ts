/**
 * Merges a fetched page (newest first) into a list that live events also feed. The first page
 * replaces the list but keeps live items newer than anything on it (the response may have left
 * before they arrived); a later page appends what the list does not have yet.
 * @example items = mergePage(items, page.items, first, (n) => n.id, (n, top) => n.id > (top?.id ?? 0));
 */
export function mergePage<T>(
	current: T[],
	page: T[],
	first: boolean,
	key: (item: T) => string | number,
	newer: (item: T, newestOnPage: T | undefined) => boolean
): T[] {
	if (first) {
		const onPage = new Set(page.map(key));
		return [...current.filter((item) => !onPage.has(key(item)) && newer(item, page[0])), ...page];
	}
	const have = new Set(current.map(key));
	return [...current, ...page.filter((item) => !have.has(key(item)))];
}

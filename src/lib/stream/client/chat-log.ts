// A room's message list on the client: merged by id (no duplicate), kept in id order, holes found and filled.
import type { ChatMessage } from '../../shared/chat';

/** One page of a room's history as `messages:list` answers it. */
export type HistoryPage = { ok: true; messages: ChatMessage[]; more: boolean } | { ok: false; error: string };

/**
 * Merges messages into a list sorted by id; an id already present keeps the copy it has.
 * @example list = mergeMessages(list, [incoming]);
 */
export function mergeMessages(list: readonly ChatMessage[], incoming: readonly ChatMessage[]): ChatMessage[] {
	if (incoming.length === 0) return list as ChatMessage[];
	const last = list.at(-1)?.id ?? -1;
	// The common case: one new message right after the others.
	if (incoming.length === 1 && incoming[0].id > last) return [...list, incoming[0]];
	const byId = new Map(list.map((m) => [m.id, m]));
	for (const message of incoming) if (!byId.has(message.id)) byId.set(message.id, message);
	return [...byId.values()].sort((a, b) => a.id - b.id);
}

/** The last id reachable from the list's first without a hole (0 for an empty list): catch up after it. */
export function contiguousEnd(list: readonly ChatMessage[]): number {
	if (list.length === 0) return 0;
	let end = list[0].id;
	for (const message of list) {
		if (message.id > end + 1) break;
		end = message.id;
	}
	return end;
}

/**
 * Fetches what came after the list's contiguous end, page by page, and merges it in: after a
 * restart or a hole, the list ends with no gap and no duplicate.
 * @example list = (await catchUp(list, (after) => chat.listMessages({ roomId, after }))).list;
 */
export async function catchUp(
	list: readonly ChatMessage[],
	fetchAfter: (after: number) => Promise<HistoryPage>
): Promise<{ list: ChatMessage[]; error: string | null }> {
	let merged = list as ChatMessage[];
	for (;;) {
		const page = await fetchAfter(contiguousEnd(merged));
		if (!page.ok) return { list: merged, error: page.error };
		merged = mergeMessages(merged, page.messages);
		if (!page.more || page.messages.length === 0) return { list: merged, error: null };
	}
}

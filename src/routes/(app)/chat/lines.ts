import type { ChatMessage, ChatUser } from '$lib/shared/chat';
import type { OutgoingMessage } from '$lib/stream/client';

/** One message in a group: sent (with its id), or mine and pending or failed. */
export interface LineItem {
	key: string;
	text: string;
	created: number;
	state: 'sent' | 'pending' | 'failed';
	error: string | null;
	clientId: string | null;
}

/** What the message list shows, top to bottom. */
export type Line =
	| { type: 'day'; key: string; label: string }
	| { type: 'system'; key: string; message: ChatMessage }
	| { type: 'group'; key: string; author: ChatUser | null; mine: boolean; created: number; items: LineItem[] };

/** Messages by one author this close together share a header. */
const GROUP_MS = 5 * 60_000;

const dayKey = (time: number) => new Date(time).toDateString();

/** "Today", "Yesterday", or the date ("Tue, 3 Nov 2026"). */
export function dayLabel(time: number, now = Date.now()): string {
	if (dayKey(time) === dayKey(now)) return 'Today';
	if (dayKey(time) === dayKey(now - 86_400_000)) return 'Yesterday';
	return new Date(time).toLocaleDateString(undefined, { weekday: 'short', day: 'numeric', month: 'short', year: 'numeric' });
}

/**
 * Lays out a room: a day separator where the day changes, system lines on their own, and
 * consecutive messages by one author (within 5 minutes) grouped under one header; my pending and
 * failed messages come last, in the order I sent them.
 * @example const lines = buildLines(chat.messages[roomId] ?? [], chat.outbox, me);
 */
export function buildLines(messages: readonly ChatMessage[], outbox: readonly OutgoingMessage[], me: ChatUser | null, now = Date.now()): Line[] {
	const lines: Line[] = [];
	let day = '';
	let group: Extract<Line, { type: 'group' }> | null = null;
	const place = (author: ChatUser | null, created: number, item: LineItem) => {
		if (dayKey(created) !== day) {
			day = dayKey(created);
			lines.push({ type: 'day', key: `d${day}`, label: dayLabel(created, now) });
			group = null;
		}
		const last: LineItem | undefined = group?.items.at(-1);
		if (!group || group.author?.id !== author?.id || !last || created - last.created > GROUP_MS) {
			group = { type: 'group', key: `g${item.key}`, author, mine: author !== null && author.id === me?.id, created, items: [] };
			lines.push(group);
		}
		group.items.push(item);
	};
	for (const message of messages) {
		if (message.kind === 'text') {
			place(message.author, message.created, { key: `m${message.id}`, text: message.text, created: message.created, state: 'sent', error: null, clientId: message.clientId });
			continue;
		}
		if (dayKey(message.created) !== day) {
			day = dayKey(message.created);
			lines.push({ type: 'day', key: `d${day}`, label: dayLabel(message.created, now) });
		}
		lines.push({ type: 'system', key: `m${message.id}`, message });
		group = null;
	}
	for (const item of outbox) {
		place(me, item.created, { key: `o${item.clientId}`, text: item.text, created: item.created, state: item.state, error: item.error, clientId: item.clientId });
	}
	return lines;
}

// The chat room list and member lists on the client: pure updates from the server's events.
import type { ChatMessage, Member, RoomInfo, RoomView } from '../../shared/chat';

const byName = (a: { name: string }, b: { name: string }) => a.name.localeCompare(b.name);

/** The list with `view` added or replaced, by name. */
export function upsertRoom(rooms: readonly RoomView[], view: RoomView): RoomView[] {
	return [...rooms.filter((r) => r.id !== view.id), view].sort(byName);
}

/**
 * The list after a `room:updated`: a known room takes the new public facts (keeping my own:
 * joined, invited, unread, and the newest id seen); an unknown public room is added as not joined.
 */
export function applyRoomInfo(rooms: readonly RoomView[], info: RoomInfo): RoomView[] {
	const known = rooms.find((r) => r.id === info.id);
	if (!known) return info.isPrivate ? (rooms as RoomView[]) : upsertRoom(rooms, { ...info, joined: false, invited: false, unread: 0 });
	return rooms.map((r) => (r.id === info.id ? { ...r, ...info, lastId: Math.max(r.lastId, info.lastId) } : r));
}

/** A member list after a join or leave line (other lines leave it as it is). */
export function applyMemberLine(members: readonly Member[], message: ChatMessage): Member[] {
	const author = message.author;
	if (!author || (message.kind !== 'join' && message.kind !== 'leave')) return members as Member[];
	const others = members.filter((m) => m.id !== author.id);
	return message.kind === 'join' ? [...others, { ...author, online: true }].sort(byName) : others;
}

import { describe, expect, it } from 'vitest';
import type { ChatMessage, RoomInfo, RoomView } from '../../shared/chat';
import { applyMemberLine, applyRoomInfo, upsertRoom } from './chat-rooms';

const info = (id: number, name: string, extra: Partial<RoomInfo> = {}): RoomInfo => ({ id, name, topic: '', isPrivate: false, ownerId: 1, members: 1, lastId: 0, ...extra });
const view = (id: number, name: string, extra: Partial<RoomView> = {}): RoomView => ({ ...info(id, name), joined: true, invited: false, unread: 0, ...extra });
const line = (kind: ChatMessage['kind'], id: number, name: string): ChatMessage => ({ roomId: 1, id: 1, kind, author: { id, name }, text: '', file: null, clientId: null, created: 0 });

describe('room list updates', () => {
	it('upserts by id and keeps the list by name', () => {
		const rooms = upsertRoom([view(1, 'b'), view(2, 'c')], view(3, 'a'));
		expect(rooms.map((r) => r.name)).toEqual(['a', 'b', 'c']);
		expect(upsertRoom(rooms, view(1, 'z')).map((r) => r.id)).toEqual([3, 2, 1]);
	});

	it('takes public facts, keeps mine and the newest id, adds unknown public rooms only', () => {
		const rooms = [view(1, 'a', { unread: 4, lastId: 9 })];
		expect(applyRoomInfo(rooms, info(1, 'a', { members: 5, lastId: 7, topic: 't' }))[0]).toMatchObject({ members: 5, topic: 't', unread: 4, lastId: 9, joined: true });
		expect(applyRoomInfo(rooms, info(2, 'b'))[1]).toMatchObject({ id: 2, joined: false, invited: false, unread: 0 });
		expect(applyRoomInfo(rooms, info(3, 'c', { isPrivate: true }))).toBe(rooms);
	});
});

describe('member list updates', () => {
	it('adds a joiner online, drops a leaver, ignores other lines', () => {
		const members = [{ id: 2, name: 'bo', online: false }];
		expect(applyMemberLine(members, line('join', 1, 'ana'))).toEqual([{ id: 1, name: 'ana', online: true }, ...members]);
		expect(applyMemberLine(members, line('leave', 2, 'bo'))).toEqual([]);
		expect(applyMemberLine(members, line('text', 3, 'cy'))).toBe(members);
	});
});

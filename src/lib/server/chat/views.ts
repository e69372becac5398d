import { sql } from 'kysely';
import type { RoomInfo, RoomView } from '$lib/shared/chat';
import { runtime } from '../runtime';

const flag = (value: unknown) => Boolean(Number(value));

function roomsFor(userId: number) {
	return runtime()
		.store.db.selectFrom('rooms as r')
		.select((eb) => [
			'r.id',
			'r.name',
			'r.topic',
			'r.is_private',
			'r.owner_id',
			eb.selectFrom('room_members as n').select((e) => e.fn.countAll<number>().as('count')).whereRef('n.room_id', '=', 'r.id').as('members'),
			eb.selectFrom('chat_room_seqs as q').select('q.last_seq').whereRef('q.room_id', '=', 'r.id').as('last_id'),
			eb
				.exists(eb.selectFrom('room_members as m').select(sql`1`.as('one')).whereRef('m.room_id', '=', 'r.id').where('m.user_id', '=', userId))
				.as('joined'),
			eb
				.exists(eb.selectFrom('chat_invites as i').select(sql`1`.as('one')).whereRef('i.room_id', '=', 'r.id').where('i.user_id', '=', userId))
				.as('invited')
		])
		.where('r.closed_at', 'is', null);
}

type Row = Awaited<ReturnType<ReturnType<typeof roomsFor>['executeTakeFirstOrThrow']>>;

function info(row: Row): RoomInfo {
	return {
		id: row.id,
		name: row.name,
		topic: row.topic,
		isPrivate: row.is_private === 1,
		ownerId: row.owner_id,
		members: Number(row.members ?? 0),
		lastId: Number(row.last_id ?? 0)
	};
}

/** Unread counts (messages and file lines by others after the read position) of the user's rooms. */
async function unreadCounts(userId: number, roomIds: number[]): Promise<Map<number, number>> {
	if (roomIds.length === 0) return new Map();
	const rows = await runtime()
		.store.db.selectFrom('chat_messages as c')
		.innerJoin('room_members as m', (join) => join.onRef('m.room_id', '=', 'c.room_id').on('m.user_id', '=', userId))
		.leftJoin('chat_reads as rd', (join) => join.onRef('rd.room_id', '=', 'c.room_id').on('rd.user_id', '=', userId))
		.select((eb) => ['c.room_id', eb.fn.countAll<number>().as('count')])
		.where('c.room_id', 'in', roomIds)
		.where((eb) => eb('c.seq', '>', eb.fn.coalesce('rd.last_read', sql<number>`0`)))
		.where('c.kind', 'in', ['text', 'file'])
		.where((eb) => eb.or([eb('c.user_id', 'is', null), eb('c.user_id', '!=', userId)]))
		.groupBy('c.room_id')
		.execute();
	return new Map(rows.map((r) => [r.room_id, Number(r.count)]));
}

async function views(userId: number, rows: Row[]): Promise<RoomView[]> {
	const unread = await unreadCounts(userId, rows.filter((r) => flag(r.joined)).map((r) => r.id));
	return rows.map((row) => ({ ...info(row), joined: flag(row.joined), invited: flag(row.invited) && !flag(row.joined), unread: unread.get(row.id) ?? 0 }));
}

/** The rooms a user can see: public ones, and private ones they are in or invited to; by name. */
export async function listFor(userId: number): Promise<RoomView[]> {
	const rows = await roomsFor(userId)
		.where((eb) =>
			eb.or([
				eb('r.is_private', '=', 0),
				eb.exists(eb.selectFrom('room_members as m2').select(sql`1`.as('one')).whereRef('m2.room_id', '=', 'r.id').where('m2.user_id', '=', userId)),
				eb.exists(eb.selectFrom('chat_invites as i2').select(sql`1`.as('one')).whereRef('i2.room_id', '=', 'r.id').where('i2.user_id', '=', userId))
			])
		)
		.orderBy('r.name')
		.execute();
	return views(userId, rows);
}

/** One open room as the user sees it (the caller has checked they may). */
export async function viewFor(userId: number, roomId: number): Promise<RoomView> {
	const row = await roomsFor(userId).where('r.id', '=', roomId).executeTakeFirstOrThrow();
	return (await views(userId, [row]))[0];
}

/** What anyone who can see the room knows of it (for `room:updated`). */
export async function infoOf(roomId: number): Promise<RoomInfo> {
	return info(await roomsFor(0).where('r.id', '=', roomId).executeTakeFirstOrThrow());
}

/** The unread count of one room for a member. */
export async function unreadOf(userId: number, roomId: number): Promise<number> {
	return (await unreadCounts(userId, [roomId])).get(roomId) ?? 0;
}

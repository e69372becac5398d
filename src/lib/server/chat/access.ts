import { sql, type Kysely } from 'kysely';
import type { Database } from '../db';
import { compiledOnce } from '../db/compiled';
import { runtime } from '../runtime';
import { ChatError, noSuchRoom } from './errors';

/** An open room as the access checks read it. */
export interface RoomRow {
	id: number;
	name: string;
	isPrivate: boolean;
	ownerId: number | null;
}

const findRoom = compiledOnce((db: Kysely<Database>, userId: number, roomId: number) =>
	db
		.selectFrom('rooms as r')
		.select((eb) => [
			'r.id',
			'r.name',
			'r.is_private',
			'r.owner_id',
			'r.closed_at',
			eb
				.exists(eb.selectFrom('room_members as m').select(sql`1`.as('one')).whereRef('m.room_id', '=', 'r.id').where('m.user_id', '=', userId))
				.as('member'),
			eb
				.exists(eb.selectFrom('chat_invites as i').select(sql`1`.as('one')).whereRef('i.room_id', '=', 'r.id').where('i.user_id', '=', userId))
				.as('invited')
		])
		.where('r.id', '=', roomId)
);

async function find(userId: number, roomId: number) {
	const [row] = await findRoom(runtime().store.db, userId, roomId);
	if (!row) return undefined;
	const room: RoomRow = { id: row.id, name: row.name, isPrivate: row.is_private === 1, ownerId: row.owner_id };
	return { room, closed: row.closed_at !== null, member: Boolean(Number(row.member)), invited: Boolean(Number(row.invited)) };
}

/** An open room the user is a member of; "No such room." when they could not know it, else why not. */
export async function member(userId: number, roomId: number): Promise<RoomRow> {
	const found = await find(userId, roomId);
	if (!found || (found.room.isPrivate && !found.member && !found.invited)) throw noSuchRoom();
	if (found.closed) throw new ChatError('This room is closed.');
	if (!found.member) throw new ChatError(`You are not in #${found.room.name}: join it first.`);
	return found.room;
}

/** An open room the user may join (public, invited, or already in), with whether they are in it. */
export async function joinable(userId: number, roomId: number): Promise<{ room: RoomRow; member: boolean }> {
	const found = await find(userId, roomId);
	if (!found || (found.room.isPrivate && !found.member && !found.invited && found.room.ownerId !== userId)) throw noSuchRoom();
	if (found.closed) throw new ChatError('This room is closed.');
	return { room: found.room, member: found.member };
}

/** User ids of a room's members. */
export async function memberIds(roomId: number): Promise<number[]> {
	const rows = await runtime().store.db.selectFrom('room_members').select('user_id').where('room_id', '=', roomId).execute();
	return rows.map((r) => r.user_id);
}

const openRoomIds = compiledOnce((db: Kysely<Database>, userId: number) =>
	db.selectFrom('room_members as m').innerJoin('rooms as r', 'r.id', 'm.room_id').select('m.room_id').where('m.user_id', '=', userId).where('r.closed_at', 'is', null)
);

/** Ids of the open rooms a user is a member of (asked on every connection). */
export async function roomIdsOf(userId: number): Promise<number[]> {
	return (await openRoomIds(runtime().store.db, userId)).map((r) => r.room_id);
}

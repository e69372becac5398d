import { runtime } from '../runtime';

/** A room as lists show it. */
export interface RoomSummary {
	id: number;
	name: string;
	topic: string;
	isPrivate: boolean;
}

/** The open rooms a user is a member of, by name. */
export async function mine(userId: number): Promise<RoomSummary[]> {
	const rows = await runtime()
		.store.db.selectFrom('rooms')
		.innerJoin('room_members', 'room_members.room_id', 'rooms.id')
		.select(['rooms.id', 'rooms.name', 'rooms.topic', 'rooms.is_private'])
		.where('room_members.user_id', '=', userId)
		.where('rooms.closed_at', 'is', null)
		.orderBy('rooms.name')
		.execute();
	return rows.map((r) => ({ id: r.id, name: r.name, topic: r.topic, isPrivate: r.is_private === 1 }));
}

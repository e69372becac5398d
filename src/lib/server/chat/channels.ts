import type { RealtimeServer } from '../realtime/attach';
import { runtime } from '../runtime';

/**
 * The Socket.IO room of a chat room. Internal rooms are made only from numeric ids, never from a
 * name a user typed, so no one can join `user:…` or another socket's own room. A
 * socket is in the channel of each room its user is a member of: message:send takes that as membership.
 */
export const roomChannel = (roomId: number) => `room:${roomId}`;

/** The Socket.IO room holding every socket of one user (joined on connection). */
export const userChannel = (userId: number) => `user:${userId}`;

/** The attached Socket.IO server, or undefined in unit tests (nothing to tell then). */
export function sockets(): RealtimeServer | undefined {
	return runtime().io as RealtimeServer | undefined;
}

type RoomBroadcast = ReturnType<RealtimeServer['to']>;
const broadcasts = new WeakMap<RealtimeServer, Map<number, RoomBroadcast>>();

/**
 * The broadcast to a room's channel, made once per room and server. Connection state recovery keeps
 * every message for two minutes with its broadcast's room sets: shared, they are not one copy per
 * message (nor garbage made for each).
 * @example roomBroadcast(7)?.emit('message:new', message);
 */
export function roomBroadcast(roomId: number): RoomBroadcast | undefined {
	const io = sockets();
	if (!io) return undefined;
	let byRoom = broadcasts.get(io);
	if (!byRoom) broadcasts.set(io, (byRoom = new Map()));
	let broadcast = byRoom.get(roomId);
	if (!broadcast) {
		if (byRoom.size >= 10_000) byRoom.clear();
		byRoom.set(roomId, (broadcast = io.to(roomChannel(roomId))));
	}
	return broadcast;
}

/**
 * Puts the sockets in `from` into `channel`: those of this instance at once, those of the others
 * through the adapter (until it arrives there, their posts are checked against the store).
 * @example joinChannel(userChannel(user.id), roomChannel(roomId));
 */
export function joinChannel(from: string, channel: string): void {
	const io = sockets();
	io?.local.in(from).socketsJoin(channel);
	io?.in(from).socketsJoin(channel);
}

/**
 * Takes the sockets in `from` out of `channel`: those of this instance at once (the Redis adapter
 * would first wait for its publish), those of the others through the adapter.
 * @example leaveChannel(userChannel(user.id), roomChannel(roomId));
 */
export function leaveChannel(from: string, channel: string): void {
	const io = sockets();
	io?.local.in(from).socketsLeave(channel);
	io?.in(from).socketsLeave(channel);
}

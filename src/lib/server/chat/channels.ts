import type { RealtimeServer } from '../realtime/attach';
import { runtime } from '../runtime';

/**
 * The Socket.IO room of a chat room. Internal rooms are made only from numeric ids, never from a
 * name a user typed, so no one can join `user:…`, `session:…` or another socket's own room.
 */
export const roomChannel = (roomId: number) => `room:${roomId}`;

/** The Socket.IO room holding every socket of one user (joined on connection). */
export const userChannel = (userId: number) => `user:${userId}`;

/** The attached Socket.IO server, or undefined in unit tests (nothing to tell then). */
export function sockets(): RealtimeServer | undefined {
	return runtime().io as RealtimeServer | undefined;
}

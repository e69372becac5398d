import type { ChatUser } from '$lib/shared/chat';
import { runtime } from '../runtime';
import { roomIdsOf } from './access';
import { roomChannel, sockets } from './channels';
import { chatState } from './state';

/** A user whose last socket closed is announced offline only if they stay away this long (a short cut is no news). */
export const OFFLINE_GRACE_MS = 2500;

function announce(user: ChatUser, roomIds: number[], online: boolean): void {
	const io = sockets();
	for (const roomId of roomIds) io?.to(roomChannel(roomId)).emit('presence:changed', { roomId, user: { id: user.id, name: user.name }, online });
}

/** True while the user has a socket here (or lost their last one less than the grace ago). */
export function isOnline(userId: number): boolean {
	const state = chatState();
	return state.sockets.has(userId) || state.leaving.has(userId);
}

/** Counts a new socket of the user; their rooms hear they are online when it is their first. */
export function connected(user: ChatUser, roomIds: number[]): void {
	const state = chatState();
	const count = (state.sockets.get(user.id) ?? 0) + 1;
	state.sockets.set(user.id, count);
	const leaving = state.leaving.get(user.id);
	if (leaving) {
		clearTimeout(leaving);
		state.leaving.delete(user.id);
	} else if (count === 1) {
		announce(user, roomIds, true);
	}
}

/** Counts a closed socket; after the last one (and the grace), their rooms hear they went offline. */
export function disconnected(user: ChatUser): void {
	const state = chatState();
	const count = (state.sockets.get(user.id) ?? 1) - 1;
	if (count > 0) return void state.sockets.set(user.id, count);
	state.sockets.delete(user.id);
	const { log } = runtime();
	const timer = setTimeout(() => {
		state.leaving.delete(user.id);
		if (state.sockets.has(user.id)) return;
		roomIdsOf(user.id).then(
			(roomIds) => announce(user, roomIds, false),
			(error) => log.warn({ err: error }, 'chat presence: could not announce offline')
		);
	}, OFFLINE_GRACE_MS);
	timer.unref();
	state.leaving.set(user.id, timer);
}

import type { ChatUser, PresenceChange } from '$lib/shared/chat';
import { runtime, type Runtime } from '../runtime';
import { roomIdsOf } from './access';
import { roomChannel, sockets } from './channels';
import { RedisPresence } from './presence-redis';
import { chatState } from './state';

/** A user whose last socket closed is announced offline only if they stay away this long (a short cut is no news). */
export const OFFLINE_GRACE_MS = 2500;

/** How long presence changes gather before a room hears them, in one packet. */
export const PRESENCE_BATCH_MS = 100;

// Per room, the changes not yet sent (the last per user). On globalThis: see runtime.ts.
const QUEUED = Symbol.for('runnel.chat.presence-queue');
const queued = ((globalThis as Record<symbol, unknown>)[QUEUED] ??= { rooms: new Map(), timer: null }) as {
	rooms: Map<number, Map<number, PresenceChange>>;
	timer: ReturnType<typeof setTimeout> | null;
};

/**
 * Queues the change for the user's rooms; each room hears what gathered in PRESENCE_BATCH_MS in
 * one packet. One packet per change made a reconnect storm (everyone back after a restart)
 * cost members × members packets per room; this is members × batches.
 */
function announce(user: ChatUser, roomIds: number[], online: boolean): void {
	for (const roomId of roomIds) {
		let changes = queued.rooms.get(roomId);
		if (!changes) queued.rooms.set(roomId, (changes = new Map()));
		changes.set(user.id, { user: { id: user.id, name: user.name }, online });
	}
	if (!queued.timer && queued.rooms.size) {
		queued.timer = setTimeout(sendQueued, PRESENCE_BATCH_MS);
		queued.timer.unref();
	}
}

function sendQueued(): void {
	queued.timer = null;
	const io = sockets();
	for (const [roomId, changes] of queued.rooms) io?.to(roomChannel(roomId)).emit('presence:changed', { roomId, changes: [...changes.values()] });
	queued.rooms.clear();
}

/** Tells the user's rooms (looked up now) that they came or went; a failure is logged. */
function announceInRooms(user: ChatUser, online: boolean): void {
	roomIdsOf(user.id).then(
		(roomIds) => announce(user, roomIds, online),
		(error) => runtime().log.warn({ err: error }, `chat presence: could not announce ${online ? 'online' : 'offline'}`)
	);
}

/** Announces users by id (names from the store), for the shared presence's reports about other instances. */
export function announceByIds(userIds: number[], online: boolean): void {
	runtime()
		.store.db.selectFrom('users')
		.select(['id', 'name'])
		.where('id', 'in', userIds)
		.execute()
		.then(
			(users) => users.forEach((user) => announceInRooms(user, online)),
			(error) => runtime().log.warn({ err: error }, 'chat presence: could not look users up')
		);
}

/** Of these users, those with a socket here or (with REDIS_URL) on any instance, or who lost their last one less than the grace ago. */
export async function onlineAmong(userIds: number[]): Promise<Set<number>> {
	const state = chatState();
	const here = userIds.filter((id) => state.sockets.has(id) || state.leaving.has(id));
	const shared = state.presence && (await state.presence.online(userIds));
	return shared ? new Set([...here, ...shared]) : new Set(here);
}

/** Counts a new socket of the user; their rooms hear they are online when it is their first (on any instance). */
export function connected(user: ChatUser, roomIds: number[]): void {
	const state = chatState();
	const count = (state.sockets.get(user.id) ?? 0) + 1;
	state.sockets.set(user.id, count);
	const leaving = state.leaving.get(user.id);
	if (leaving) {
		clearTimeout(leaving);
		state.leaving.delete(user.id);
		void state.presence?.arrive(user.id, count);
	} else if (!state.presence) {
		if (count === 1) announce(user, roomIds, true);
	} else {
		void state.presence.arrive(user.id, count).then((elsewhere) => {
			if (count === 1 && !elsewhere) announce(user, roomIds, true);
		});
	}
}

/** Counts a closed socket; after the last one (and the grace), their rooms hear they went offline unless they are on another instance. */
export function disconnected(user: ChatUser): void {
	const state = chatState();
	const count = (state.sockets.get(user.id) ?? 1) - 1;
	if (count > 0) {
		state.sockets.set(user.id, count);
		void state.presence?.arrive(user.id, count);
		return;
	}
	state.sockets.delete(user.id);
	void state.presence?.depart(user.id);
	const timer = setTimeout(async () => {
		state.leaving.delete(user.id);
		if (state.sockets.has(user.id)) return;
		const elsewhere = state.presence && (await state.presence.online([user.id], false))?.has(user.id);
		if (!elsewhere && !state.sockets.has(user.id)) announceInRooms(user, false);
	}, OFFLINE_GRACE_MS);
	timer.unref();
	state.leaving.set(user.id, timer);
}

/** With REDIS_URL, shares who is online with the other instances (Redis under REDIS_PREFIX); without it, nothing to do. */
export function share(rt: Runtime): void {
	const state = chatState(rt);
	const { redisUrl, redisPrefix } = rt.config;
	if (!redisUrl || state.presence) return;
	state.presence = new RedisPresence({
		url: redisUrl,
		prefix: redisPrefix,
		graceMs: OFFLINE_GRACE_MS,
		log: rt.log,
		local: () => state.sockets,
		// Their clients are probably on their way to this or another instance: the same grace as a cut.
		onGone: (userIds) => {
			const timer = setTimeout(async () => {
				const back = (await state.presence?.online(userIds, false)) ?? new Set();
				const gone = userIds.filter((id) => !back.has(id) && !state.sockets.has(id) && !state.leaving.has(id));
				if (gone.length) announceByIds(gone, false);
			}, OFFLINE_GRACE_MS);
			timer.unref();
		},
		onRestored: (userIds) => announceByIds(userIds, true)
	});
}

/** Stops sharing (before the sockets close): the other instances then announce this one's users offline unless they come back to them. */
export async function unshare(rt: Runtime): Promise<void> {
	const state = chatState(rt);
	const presence = state.presence;
	state.presence = undefined;
	await presence?.close();
}

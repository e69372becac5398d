import { TYPING_TTL_MS, type ChatUser } from '../../shared/chat';

/** Who is typing in each room: an entry lasts TYPING_TTL_MS unless renewed, and ends when their message arrives. */
export class TypingTracker {
	/** Per room, who is typing now. */
	rooms = $state.raw<Record<number, ChatUser[]>>({});
	#timers = new Map<string, ReturnType<typeof setTimeout>>();

	/** Someone started (or is still) typing in a room. */
	started(roomId: number, user: ChatUser): void {
		const key = `${roomId}:${user.id}`;
		clearTimeout(this.#timers.get(key));
		this.#timers.set(key, setTimeout(() => this.stopped(roomId, user.id), TYPING_TTL_MS));
		const list = this.rooms[roomId] ?? [];
		if (!list.some((u) => u.id === user.id)) this.rooms = { ...this.rooms, [roomId]: [...list, user] };
	}

	/** They sent their message, or went quiet. */
	stopped(roomId: number, userId: number): void {
		const key = `${roomId}:${userId}`;
		clearTimeout(this.#timers.get(key));
		this.#timers.delete(key);
		const list = this.rooms[roomId];
		if (list?.some((u) => u.id === userId)) this.rooms = { ...this.rooms, [roomId]: list.filter((u) => u.id !== userId) };
	}

	/** Stops every timer. */
	clear(): void {
		for (const timer of this.#timers.values()) clearTimeout(timer);
		this.#timers.clear();
		this.rooms = {};
	}
}

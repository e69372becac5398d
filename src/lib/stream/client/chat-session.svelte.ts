import { MESSAGE_MAX, TYPING_EVERY_MS, type ChatMessage, type ChatUser, type Member, type RoomView } from '../../shared/chat';
import type { ClientToServerEvents, ServerToClientEvents } from '../../shared/socket-events';
import { toHex } from './bytes';
import { catchUp, contiguousEnd, mergeMessages } from './chat-log';
import { applyMemberLine, applyRoomInfo, upsertRoom } from './chat-rooms';
import { TypingTracker } from './chat-typing.svelte';
import { SocketClient, type SocketOptions } from './socket-client.svelte';

/** A message of mine the server has not acknowledged: `pending` while it is sent (and re-sent), `failed` with why. */
export interface OutgoingMessage {
	clientId: string;
	roomId: number;
	text: string;
	state: 'pending' | 'failed';
	error: string | null;
	created: number;
}

/** A message waits this long for a connection before it shows as failed (with a retry). */
const OUTBOX_OFFLINE_WAIT_MS = 30_000;
/** Reads are reported this long after the last message arrived in the open room. */
const READ_DELAY_MS = 300;

const counted = (m: ChatMessage) => m.kind === 'text' || m.kind === 'file';
const visible = () => typeof document === 'undefined' || document.visibilityState === 'visible';

/** A fresh message id (getRandomValues works on plain-http origins too, unlike randomUUID). */
function newClientId(): string {
	return toHex(crypto.getRandomValues(new Uint8Array(16)));
}

/**
 * The chat's client-side state over Socket.IO, kept live by the server's events: rooms with unread
 * counts, each opened room's messages (merged by id: no gap, no duplicate, caught up after a
 * restart), my unacknowledged messages (pending or failed, with retry), members with presence and
 * who is typing. The generated ChatClient adds one acknowledged method per event.
 */
export class ChatSession extends SocketClient<ServerToClientEvents, ClientToServerEvents> {
	user = $state<ChatUser | null>(null);
	/** Public rooms, and private ones I am in or invited to; by name. */
	rooms = $state<RoomView[]>([]);
	roomsLoaded = $state(false);
	activeRoomId = $state<number | null>(null);
	/** Per opened room, its messages in id order. */
	messages = $state.raw<Record<number, ChatMessage[]>>({});
	/** Per opened room: whether older messages than those loaded exist. */
	hasOlder = $state<Record<number, boolean>>({});
	loadingOlder = $state<Record<number, boolean>>({});
	/** My messages not acknowledged yet, in the order I sent them. */
	outbox = $state<OutgoingMessage[]>([]);
	members = $state.raw<Record<number, Member[]>>({});
	/** News about rooms for the page to show ("#x was closed by ana."). */
	roomNotice = $state<string | null>(null);
	/** The last thing that failed (a history page, the room list). */
	problem = $state<string | null>(null);

	#sending: Promise<void> = Promise.resolve();
	#catchingUp = new Map<number, Promise<void>>();
	#again = new Set<number>();
	#typing = new TypingTracker();
	#lastTyping = new Map<number, number>();
	#readTimer: ReturnType<typeof setTimeout> | undefined;
	#readUpTo = new Map<number, number>();
	#onVisible = () => this.activeRoomId !== null && this.#scheduleRead(this.activeRoomId);

	constructor(options: SocketOptions = {}) {
		super(options);
		this.on('welcome', ({ user }, ack) => {
			this.user = user;
			ack?.();
		});
		this.on('message:new', (message) => this.#receive(message));
		this.on('room:updated', (info) => (this.rooms = applyRoomInfo(this.rooms, info)));
		this.on('room:joined', (room) => this.#upsert(room));
		this.on('room:invited', ({ room }) => this.#upsert(room));
		this.on('room:left', ({ roomId }) => this.#gone(roomId, false));
		this.on('room:closed', ({ roomId, by }) => {
			const room = this.#room(roomId);
			if (room?.joined) this.roomNotice = `#${room.name} was closed by ${by.name}.`;
			this.#gone(roomId, true);
		});
		this.on('room:read', ({ roomId, id }) => {
			const room = this.#room(roomId);
			if (room && id >= room.lastId) room.unread = 0;
		});
		this.on('presence:changed', ({ roomId, changes }) => {
			const list = this.members[roomId];
			if (!list) return;
			const online = new Map(changes.map((c) => [c.user.id, c.online]));
			this.members = { ...this.members, [roomId]: list.map((m) => (online.has(m.id) ? { ...m, online: online.get(m.id)! } : m)) };
		});
		this.on('typing:started', ({ roomId, user }) => user.id !== this.user?.id && this.#typing.started(roomId, user));
	}

	/** Per room, who is typing now. */
	get typing(): Record<number, ChatUser[]> {
		return this.#typing.rooms;
	}

	/** The open room, if any. */
	get activeRoom(): RoomView | null {
		return this.rooms.find((r) => r.id === this.activeRoomId) ?? null;
	}

	override start(): void {
		super.start();
		if (typeof document !== 'undefined') document.addEventListener('visibilitychange', this.#onVisible);
	}

	override close(): void {
		super.close();
		if (typeof document !== 'undefined') document.removeEventListener('visibilitychange', this.#onVisible);
		clearTimeout(this.#readTimer);
		this.#typing.clear();
	}

	/** Loads the room list again and catches every loaded room up (after a server restart: no gap, no duplicate). */
	async sync(): Promise<void> {
		const reply = await this.call('rooms:list');
		if (!reply.ok) return void (this.problem = reply.error);
		this.rooms = reply.rooms;
		this.roomsLoaded = true;
		const joined = new Set(reply.rooms.filter((r) => r.joined).map((r) => r.id));
		for (const key of Object.keys(this.messages)) if (!joined.has(Number(key))) this.#forget(Number(key));
		for (const key of Object.keys(this.messages)) void this.#catchUp(Number(key));
		if (this.activeRoomId !== null && !this.#room(this.activeRoomId)) this.activeRoomId = null;
		if (this.activeRoomId !== null) this.open(this.activeRoomId);
	}

	/** Shows a room: its latest messages (once), its members, and marks it read. */
	open(roomId: number | null): void {
		this.activeRoomId = roomId;
		const room = roomId === null ? undefined : this.#room(roomId);
		if (roomId === null || !room?.joined) return;
		if (visible()) room.unread = 0;
		if (!this.messages[roomId]) void this.#loadLatest(roomId);
		void this.#loadMembers(roomId);
		this.#scheduleRead(roomId);
	}

	/** Loads the page of messages before the oldest loaded one. */
	async loadOlder(roomId: number): Promise<void> {
		const list = this.messages[roomId];
		if (!list?.length || this.loadingOlder[roomId] || !this.hasOlder[roomId]) return;
		this.loadingOlder[roomId] = true;
		const reply = await this.call('messages:list', { roomId, before: list[0].id });
		this.loadingOlder[roomId] = false;
		if (!reply.ok) return void (this.problem = reply.error);
		if (!this.messages[roomId]) return;
		this.#setMessages(roomId, mergeMessages(this.messages[roomId], reply.messages));
		this.hasOlder[roomId] = reply.more;
	}

	/** Sends a message (pending until acknowledged); returns why not when it is empty or too long. */
	send(roomId: number, text: string): string | null {
		if (text.trim() === '') return 'Type a message first.';
		if (text.length > MESSAGE_MAX) return `A message can be at most ${MESSAGE_MAX} characters; this one has ${text.length}.`;
		const item: OutgoingMessage = { clientId: newClientId(), roomId, text, state: 'pending', error: null, created: Date.now() };
		this.outbox.push(item);
		this.#lastTyping.delete(roomId);
		this.#deliver(item.clientId);
		return null;
	}

	/** Sends a failed message again, with the same clientId (stored once even if the first try got through). */
	retry(clientId: string): void {
		const item = this.outbox.find((o) => o.clientId === clientId);
		if (!item || item.state !== 'failed') return;
		item.state = 'pending';
		item.error = null;
		this.#deliver(clientId);
	}

	/** Drops a failed message. */
	discard(clientId: string): void {
		this.outbox = this.outbox.filter((o) => o.clientId !== clientId || o.state !== 'failed');
	}

	/** Tells the room I am typing (at most every TYPING_EVERY_MS; dropped when offline). */
	typingIn(roomId: number): void {
		const now = Date.now();
		if (now - (this.#lastTyping.get(roomId) ?? 0) < TYPING_EVERY_MS) return;
		this.#lastTyping.set(roomId, now);
		this.emitVolatile('typing:start', { roomId });
	}

	protected override connected(recovered: boolean): void {
		// Recovered: Socket.IO replayed what was missed, except what the rooms got while the server
		// ran its middlewares for this socket (it is not in the rooms' delivery list yet), so ask
		// each loaded room for what came after its contiguous end: usually an empty page. Otherwise
		// (first connect, or the server restarted) ask for the rooms again and catch up the same way.
		if (recovered && this.roomsLoaded) for (const key of Object.keys(this.messages)) void this.#catchUp(Number(key));
		else void this.sync();
	}

	#room(roomId: number): RoomView | undefined {
		return this.rooms.find((r) => r.id === roomId);
	}

	#setMessages(roomId: number, list: ChatMessage[]): void {
		this.messages = { ...this.messages, [roomId]: list };
	}

	async #loadLatest(roomId: number): Promise<void> {
		// An empty list collects live messages while the page loads.
		if (!this.messages[roomId]) this.#setMessages(roomId, []);
		const reply = await this.call('messages:list', { roomId });
		if (!reply.ok) return void (this.problem = reply.error);
		if (!this.messages[roomId]) return;
		this.#setMessages(roomId, mergeMessages(this.messages[roomId], reply.messages));
		this.hasOlder[roomId] = reply.more;
		this.#checkGap(roomId);
		this.#scheduleRead(roomId);
	}

	async #loadMembers(roomId: number): Promise<void> {
		const reply = await this.call('members:list', { roomId });
		if (reply.ok && this.#room(roomId)?.joined) this.members = { ...this.members, [roomId]: reply.members };
	}

	/** Fetches what came after a loaded room's contiguous end; one run per room at a time (and again if asked meanwhile). */
	#catchUp(roomId: number): Promise<void> {
		const running = this.#catchingUp.get(roomId);
		if (running) {
			this.#again.add(roomId);
			return running;
		}
		const run = (async () => {
			do {
				this.#again.delete(roomId);
				const list = this.messages[roomId];
				if (!list) return;
				if (list.length === 0) return this.#loadLatest(roomId);
				const result = await catchUp(list, (after) => this.call('messages:list', { roomId, after, limit: 200 }));
				if (!this.messages[roomId]) return;
				this.#setMessages(roomId, mergeMessages(this.messages[roomId], result.list));
				if (result.error) this.problem = result.error;
			} while (this.#again.has(roomId));
		})().finally(() => this.#catchingUp.delete(roomId));
		this.#catchingUp.set(roomId, run);
		return run;
	}

	#checkGap(roomId: number): void {
		const list = this.messages[roomId];
		const newest = Math.max(list?.at(-1)?.id ?? 0, this.#room(roomId)?.lastId ?? 0);
		if (list?.length && contiguousEnd(list) < newest) void this.#catchUp(roomId);
	}

	#deliver(clientId: string): void {
		this.#sending = this.#sending.then(async () => {
			const item = this.outbox.find((o) => o.clientId === clientId);
			if (!item || item.state !== 'pending') return;
			const input = { roomId: item.roomId, clientId, text: item.text };
			const reply = await this.callWith('message:send', { offlineWait: OUTBOX_OFFLINE_WAIT_MS }, input);
			if (reply.ok) {
				this.outbox = this.outbox.filter((o) => o.clientId !== clientId);
				this.#receive(reply.message);
			} else {
				const failed = this.outbox.find((o) => o.clientId === clientId);
				if (failed) Object.assign(failed, { state: 'failed', error: reply.error });
			}
		});
	}

	#receive(message: ChatMessage): void {
		const { roomId } = message;
		const room = this.#room(roomId);
		const mine = message.author !== null && message.author.id === this.user?.id;
		if (room && message.id > room.lastId) {
			room.lastId = message.id;
			if (!mine && counted(message) && !(this.activeRoomId === roomId && visible())) room.unread++;
		}
		if (mine && message.clientId) this.outbox = this.outbox.filter((o) => o.clientId !== message.clientId);
		const list = this.messages[roomId];
		if (list) {
			this.#setMessages(roomId, mergeMessages(list, [message]));
			this.#checkGap(roomId);
		}
		if (message.author) this.#typing.stopped(roomId, message.author.id);
		const members = this.members[roomId];
		if (members) this.members = { ...this.members, [roomId]: applyMemberLine(members, message) };
		if (this.activeRoomId === roomId) this.#scheduleRead(roomId);
	}

	#upsert(view: RoomView): void {
		this.rooms = upsertRoom(this.rooms, view);
		if (view.joined && this.activeRoomId === view.id) this.open(view.id);
	}

	/** I left the room, or it closed: drop what was loaded for it. */
	#gone(roomId: number, closed: boolean): void {
		const room = this.#room(roomId);
		if (closed || room?.isPrivate) this.rooms = this.rooms.filter((r) => r.id !== roomId);
		else if (room) Object.assign(room, { joined: false, unread: 0 });
		this.#forget(roomId);
		this.outbox = this.outbox.filter((o) => o.roomId !== roomId);
		if (closed && this.activeRoomId === roomId) this.activeRoomId = null;
	}

	#forget(roomId: number): void {
		const { [roomId]: _messages, ...messages } = this.messages;
		const { [roomId]: _members, ...members } = this.members;
		void [_messages, _members];
		this.messages = messages;
		this.members = members;
		this.#readUpTo.delete(roomId);
	}

	/** Reports the open room read up to its newest message, shortly, while the page is visible. */
	#scheduleRead(roomId: number): void {
		clearTimeout(this.#readTimer);
		this.#readTimer = setTimeout(() => {
			const room = this.#room(roomId);
			if (!room?.joined || this.activeRoomId !== roomId || !visible()) return;
			const upTo = Math.max(room.lastId, this.messages[roomId]?.at(-1)?.id ?? 0);
			room.unread = 0;
			if ((this.#readUpTo.get(roomId) ?? -1) >= upTo) return;
			this.#readUpTo.set(roomId, upTo);
			void this.call('read:mark', { roomId, id: upTo });
		}, READ_DELAY_MS);
	}
}

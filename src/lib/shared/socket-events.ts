import type { Ack, ChatMessage, ChatUser, Member, PresenceChange, RoomInfo, RoomView } from './chat';

/** The signed-in user as a socket sees them. */
export interface SocketUser {
	id: number;
	name: string;
}

/** Events the server sends; the one source of truth for `Server<…>` and the client `Socket<…>`. */
export interface ServerToClientEvents {
	/**
	 * Sent once a connection is authenticated (a recovered one too). Acknowledge it: a packet that
	 * asks for an ack is not kept for connection state recovery, which would hold it for every
	 * socket for two minutes.
	 */
	welcome: (info: { user: SocketUser; serverTime: number }, ack: () => void) => void;
	/** A message or system line in one of my rooms; a room's messages come in id order. */
	'message:new': (message: ChatMessage) => void;
	/** A room appeared or changed (public rooms: to everyone; private ones: to their members). */
	'room:updated': (room: RoomInfo) => void;
	/** I joined a room or created one (in this tab or another). */
	'room:joined': (room: RoomView) => void;
	/** I left a room (in this tab or another). */
	'room:left': (info: { roomId: number }) => void;
	/** A room I could see was closed by its owner: it leaves every list. */
	'room:closed': (info: { roomId: number; by: ChatUser }) => void;
	/** Someone invited me into a room. */
	'room:invited': (info: { room: RoomView; by: ChatUser }) => void;
	/** I read a room up to `id` (in some tab). */
	'room:read': (info: { roomId: number; id: number }) => void;
	/** Members of one of my rooms came online or went offline (the changes of about a tenth of a second, the last per user). */
	'presence:changed': (info: { roomId: number; changes: PresenceChange[] }) => void;
	/** Someone is typing in one of my rooms (renewed while they type; expires after TYPING_TTL_MS). */
	'typing:started': (info: { roomId: number; user: ChatUser }) => void;
}

/**
 * Events a client sends; each but `typing:start` ends with an acknowledgement, `{ ok: true, … }` or
 * `{ ok: false, error }`. Method names: `noun:verb` becomes `verbNoun`.
 * @client ChatClient extends ChatSession
 */
export interface ClientToServerEvents {
	/** Round-trip check: the server acknowledges with its time. */
	ping: (ack: (reply: Ack<{ serverTime: number }>) => void) => void;
	/** Public rooms, and private ones I am in or invited to, with member and unread counts. */
	'rooms:list': (ack: (reply: Ack<{ rooms: RoomView[] }>) => void) => void;
	/** Creates a room that I own and am the first member of. */
	'room:create': (input: { name: string; topic?: string; isPrivate?: boolean }, ack: (reply: Ack<{ room: RoomView }>) => void) => void;
	/** Joins a public room, or a private one I was invited to. */
	'room:join': (input: { roomId: number }, ack: (reply: Ack<{ room: RoomView }>) => void) => void;
	/** Leaves a room (a private one then needs a new invitation). */
	'room:leave': (input: { roomId: number }, ack: (reply: Ack) => void) => void;
	/** Closes a room I own: its members are told and it leaves every list. */
	'room:close': (input: { roomId: number }, ack: (reply: Ack) => void) => void;
	/** Invites someone, by name, into a room I am in. */
	'invite:send': (input: { roomId: number; name: string }, ack: (reply: Ack<{ user: ChatUser }>) => void) => void;
	/** The members of a room I am in, and who is online. */
	'members:list': (input: { roomId: number }, ack: (reply: Ack<{ members: Member[] }>) => void) => void;
	/**
	 * A page of a room's messages, oldest first: the newest ones, those `before` an id (scrolling
	 * up), or those `after` one (catching up); `more` says whether the page stopped short.
	 */
	'messages:list': (
		input: { roomId: number; before?: number; after?: number; limit?: number },
		ack: (reply: Ack<{ messages: ChatMessage[]; more: boolean }>) => void
	) => void;
	/** Sends a message; the same `clientId` again returns the stored message instead of a second one. */
	'message:send': (
		input: { roomId: number; clientId: string; text: string },
		ack: (reply: Ack<{ message: ChatMessage; duplicate: boolean }>) => void
	) => void;
	/** Marks a room read up to a message id; answers with what is still unread. */
	'read:mark': (input: { roomId: number; id: number }, ack: (reply: Ack<{ unread: number }>) => void) => void;
	/**
	 * Says I am typing in a room; sent volatile, without an acknowledgement.
	 * @volatile
	 */
	'typing:start': (input: { roomId: number }) => void;
}

/** Per-socket data set by the handshake. */
export interface SocketData {
	user: SocketUser;
	sessionId: string;
}

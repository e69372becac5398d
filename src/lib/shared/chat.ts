// Chat as both ends see it: messages, rooms, members, the ack shape and the limits.

/** Longest message, in characters (UTF-16 code units, as `String.length` counts). */
export const MESSAGE_MAX = 4000;
/** Room names: 1–40 characters. */
export const ROOM_NAME_MAX = 40;
/** Room topics: at most 200 characters. */
export const ROOM_TOPIC_MAX = 200;
/** Messages per history page (the last ones on opening a room, then older pages). */
export const HISTORY_PAGE = 50;
/** Longest page a client may ask for. */
export const HISTORY_MAX = 200;
/** A client sends `typing:start` at most this often while someone types. */
export const TYPING_EVERY_MS = 2000;
/** A typing line disappears when no `typing:started` renewed it for this long. */
export const TYPING_TTL_MS = 5000;

/**
 * Every acknowledgement: `ok` with the result's fields, or a sentence saying what went wrong
 * (`retryAfter`, in ms, when waiting helps).
 */
export type Ack<T extends object = object> = ({ ok: true } & T) | { ok: false; error: string; retryAfter?: number };

/** A person in chat. */
export interface ChatUser {
	id: number;
	name: string;
}

/** A member who came online or went offline. */
export interface PresenceChange {
	user: ChatUser;
	online: boolean;
}

/** `text` is what a person wrote; the others are system lines. */
export type MessageKind = 'text' | 'join' | 'leave' | 'file' | 'closed';

/** A message or system line; `id` counts 1, 2, 3… within its room, in the order everyone sees. */
export interface ChatMessage {
	roomId: number;
	id: number;
	kind: MessageKind;
	/** Who wrote it, joined, left, shared or closed (null once their account is gone). */
	author: ChatUser | null;
	/** The message; for system lines the sentence to show ("ana joined"). */
	text: string;
	/** For `file` lines: the shared file, downloadable by the room's members. */
	file: { id: string; name: string } | null;
	/** The sender's own id for a `text` message (what makes a retried send idempotent). */
	clientId: string | null;
	/** Unix ms, from the server. */
	created: number;
}

/** What anyone who can see a room knows of it. */
export interface RoomInfo {
	id: number;
	name: string;
	topic: string;
	isPrivate: boolean;
	ownerId: number | null;
	/** Member count. */
	members: number;
	/** The newest message id (0 when none). */
	lastId: number;
}

/** A room as one user sees it in their list. */
export interface RoomView extends RoomInfo {
	joined: boolean;
	/** Invited and not joined yet. */
	invited: boolean;
	/** Messages by others after what this user read. */
	unread: number;
}

/** A member of a room, and whether they are connected now. */
export interface Member extends ChatUser {
	online: boolean;
}

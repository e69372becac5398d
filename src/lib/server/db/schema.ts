import type { Generated, Insertable, Selectable } from 'kysely';

/** Times are Unix milliseconds; flags are 0 or 1, so SQLite and PostgreSQL share one shape. */
export interface UsersTable {
	id: Generated<number>;
	name: string;
	/** Lower-cased name: names are unique regardless of case. */
	name_key: string;
	password_hash: string;
	role: 'user' | 'admin';
	created_at: number;
}

export interface SessionsTable {
	/** SHA-256 of the cookie token, so a leaked database holds no usable session. */
	id: string;
	user_id: number;
	created_at: number;
	expires_at: number;
}

export interface RoomsTable {
	id: Generated<number>;
	name: string;
	topic: string;
	is_private: number;
	owner_id: number | null;
	created_at: number;
	closed_at: number | null;
}

export interface RoomMembersTable {
	room_id: number;
	user_id: number;
	joined_at: number;
}

/** One event on a bus topic; `seq` counts 1, 2, 3… per topic; `data` is JSON text. */
export interface BusEventsTable {
	topic: string;
	seq: number;
	type: string;
	data: string;
	created_at: number;
}

/** Per topic: the last sequence handed out and the oldest one still retained. */
export interface BusTopicsTable {
	topic: string;
	last_seq: number;
	/** `last_seq + 1` once every event has been trimmed: nothing older can be replayed. */
	min_seq: number;
}

/** A notification for one user; `read_at` is null while unread. */
export interface NotificationsTable {
	id: Generated<number>;
	user_id: number;
	type: string;
	title: string;
	body: string;
	link: string | null;
	created_at: number;
	read_at: number | null;
}

/** Instance-wide settings, such as the secret that tags stream ids. */
export interface SettingsTable {
	key: string;
	value: string;
}

/** A published file: `id` is what URLs carry; `stored` is the generated name on disk (never user input). */
export interface FilesTable {
	id: string;
	owner_id: number;
	/** The original name, sanitised; metadata only. */
	name: string;
	size: number;
	/** Hex SHA-256 of the content. */
	sha256: string;
	type: string;
	stored: string;
	is_public: number;
	created_at: number;
}

/** A file shared into a chat room: its members may download it. */
export interface FileSharesTable {
	file_id: string;
	room_id: number;
	shared_by: number;
	shared_at: number;
}

/** An unfinished upload: the declared size and SHA-256, and how many bytes the server holds. */
export interface UploadsTable {
	id: string;
	owner_id: number;
	name: string;
	size: number;
	sha256: string;
	type: string;
	offset: number;
	created_at: number;
	updated_at: number;
}

/** Every table, as Kysely sees it. */
export interface Database {
	users: UsersTable;
	sessions: SessionsTable;
	rooms: RoomsTable;
	room_members: RoomMembersTable;
	bus_events: BusEventsTable;
	bus_topics: BusTopicsTable;
	notifications: NotificationsTable;
	settings: SettingsTable;
	files: FilesTable;
	file_shares: FileSharesTable;
	uploads: UploadsTable;
}

export type User = Selectable<UsersTable>;
export type NewUser = Insertable<UsersTable>;
export type Room = Selectable<RoomsTable>;

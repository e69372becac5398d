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

/** One analytics event: seeded history or something that happened in the app. */
export interface AnalyticsEventsTable {
	id: Generated<number>;
	time: number;
	metric: string;
	region: string;
	channel: string;
	value: number;
}

/** How many analytics events a UTC day holds per metric and dimension values. */
export interface AnalyticsCountsTable {
	/** The day's start, Unix ms (UTC). */
	day: number;
	metric: string;
	region: string;
	channel: string;
	count: number;
}

// ---- chat tables (issue 6) go here ----

/** Per chat room: the last message id handed out (ids count 1, 2, 3… per room). */
export interface ChatRoomSeqsTable {
	room_id: number;
	last_seq: number;
}

/**
 * A chat message or system line; `seq` is its id within the room. `client_id` (the sender's own id
 * for it) is unique per user, so a retried send is stored once; system lines have none.
 */
export interface ChatMessagesTable {
	room_id: number;
	seq: number;
	user_id: number | null;
	client_id: string | null;
	/** `text`, or a system line: `join`, `leave`, `file` (body: the file's name), `closed`. */
	kind: 'text' | 'join' | 'leave' | 'file' | 'closed';
	body: string;
	file_id: string | null;
	created_at: number;
}

/** How far a member has read a room (its unread count is what came after). */
export interface ChatReadsTable {
	room_id: number;
	user_id: number;
	last_read: number;
}

/** An invitation into a (private) room, until the user joins. */
export interface ChatInvitesTable {
	room_id: number;
	user_id: number;
	invited_by: number;
	created_at: number;
}

/** A job in the queue or done; `params`, `progress` and `output` are JSON text. */
export interface JobsTable {
	id: Generated<number>;
	owner_id: number;
	/** What runs it: `export`. */
	kind: string;
	params: string;
	state: 'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled';
	created_at: number;
	/** When the current (or last) run started; null while queued. */
	started_at: number | null;
	finished_at: number | null;
	/** Runs started, restarts included. */
	attempts: number;
	/** The instance running it, and when that instance last said it still is (its lease). */
	worker: string | null;
	heartbeat_at: number | null;
	progress: string | null;
	output_file_id: string | null;
	output: string | null;
	error: string | null;
	/** When a cancel reached an instance that was not running it (its worker stops on seeing it). */
	cancel_requested_at: number | null;
	/** The last `estimation` published while queued (JSON): instances publish a change by swapping it. */
	estimation: string | null;
}

/** A live job worker pool (one per instance) and how many jobs it runs at once. */
export interface JobWorkersTable {
	worker: string;
	concurrency: number;
	/** Its last heartbeat (Unix ms). */
	seen_at: number;
}

/** One line of a job's log; `line` counts 1, 2, 3… per job. */
export interface JobLogsTable {
	job_id: number;
	line: number;
	time: number;
	level: 'info' | 'warn' | 'error';
	text: string;
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
	analytics_events: AnalyticsEventsTable;
	analytics_counts: AnalyticsCountsTable;
	// ---- chat tables (issue 6) ----
	chat_room_seqs: ChatRoomSeqsTable;
	chat_messages: ChatMessagesTable;
	chat_reads: ChatReadsTable;
	chat_invites: ChatInvitesTable;
	jobs: JobsTable;
	job_logs: JobLogsTable;
	job_workers: JobWorkersTable;
}

export type User = Selectable<UsersTable>;
export type NewUser = Insertable<UsersTable>;
export type Room = Selectable<RoomsTable>;

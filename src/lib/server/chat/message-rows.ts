import { sql, type Kysely } from 'kysely';
import type { ChatMessage, ChatUser, MessageKind } from '$lib/shared/chat';
import type { Database, SyncSqlite } from '../db';
import { compiledOnce, compiledPerCount, syncOf } from '../db/compiled';
import { runtime } from '../runtime';
import { ChatError } from './errors';

/** A stored message with its author's name, as the queries read it. */
export function selectMessages(db: Kysely<Database> = runtime().store.db) {
	return db
		.selectFrom('chat_messages as c')
		.leftJoin('users as u', 'u.id', 'c.user_id')
		.select(['c.room_id', 'c.seq', 'c.user_id', 'c.client_id', 'c.kind', 'c.body', 'c.file_id', 'c.created_at', 'u.name as author_name']);
}

export type Row = Awaited<ReturnType<ReturnType<typeof selectMessages>['executeTakeFirstOrThrow']>>;

const SENTENCES: Record<Exclude<MessageKind, 'text'>, (who: string, body: string) => string> = {
	join: (who) => `${who} joined`,
	leave: (who) => `${who} left`,
	file: (who, body) => `${who} shared ${body}`,
	closed: (who) => `${who} closed the room`
};

/** A stored row as the chat sends it. */
export function view(row: Row): ChatMessage {
	const author = row.user_id !== null && row.author_name !== null ? { id: row.user_id, name: row.author_name } : null;
	return {
		roomId: row.room_id,
		id: Number(row.seq),
		kind: row.kind,
		author,
		text: row.kind === 'text' ? row.body : SENTENCES[row.kind](author?.name ?? 'Someone', row.body),
		file: row.kind === 'file' && row.file_id ? { id: row.file_id, name: row.body } : null,
		clientId: row.client_id,
		created: Number(row.created_at)
	};
}

/** Most rows one compiled statement covers; a larger batch takes several (so at most this many shapes are compiled). */
const SHAPE_MAX = 32;

/** A query over `n` rows' arguments, compiled once per database for each `n` up to SHAPE_MAX. */
const perCount = <R>(build: (db: Kysely<Database>, n: number, args: unknown[]) => { compile(): unknown }) =>
	compiledPerCount<Database, R>((db, n, args) => build(db, n, args) as never);

const byClientIds = perCount<Row>((db, n, args) =>
	selectMessages(db).where((eb) =>
		eb.or(Array.from({ length: n }, (_, i) => eb.and([eb('c.user_id', '=', args[2 * i] as number), eb('c.client_id', '=', args[2 * i + 1] as string)])))
	)
);

/** The stored messages among these (author id, clientId) pairs. */
export async function findByClientIds(pairs: { userId: number; clientId: string }[]): Promise<Row[]> {
	const { db } = runtime().store;
	const found: Row[] = [];
	for (let i = 0; i < pairs.length; i += SHAPE_MAX) {
		const slice = pairs.slice(i, i + SHAPE_MAX);
		found.push(...(await byClientIds(slice.length)(db, ...slice.flatMap((p) => [p.userId, p.clientId]))));
	}
	return found;
}

/** The members of the room while it is open (none once it is closed): narrowed by user by each query that uses it. */
function openMembers(db: Kysely<Database>, roomId: number) {
	return db.selectFrom('room_members as m').innerJoin('rooms as r', 'r.id', 'm.room_id').select('m.user_id').where('m.room_id', '=', roomId).where('r.closed_at', 'is', null);
}

const membersOf = perCount<{ user_id: number }>((db, n, args) => openMembers(db, args[0] as number).where('m.user_id', 'in', args.slice(1, n + 1) as number[]));

/** Of these users, the members of the room while it is open (none once it is closed). */
export async function openRoomMembers(roomId: number, userIds: number[]): Promise<Set<number>> {
	const { db } = runtime().store;
	const found = new Set<number>();
	for (let i = 0; i < userIds.length; i += SHAPE_MAX) {
		const slice = userIds.slice(i, i + SHAPE_MAX);
		for (const row of await membersOf(slice.length)(db, roomId, ...slice)) found.add(row.user_id);
	}
	return found;
}

const takeSeqs = compiledOnce((db: Kysely<Database>, roomId: number, count: number) =>
	db
		.insertInto('chat_room_seqs')
		.values({ room_id: roomId, last_seq: count })
		.onConflict((oc) => oc.column('room_id').doUpdateSet({ last_seq: sql`chat_room_seqs.last_seq + ${count}` }))
		.returning('last_seq')
);

/** The columns of a chat_messages row, in the order insertRows passes them. */
const COLUMNS = ['room_id', 'seq', 'user_id', 'client_id', 'kind', 'body', 'file_id', 'created_at'] as const;

const insertRows = perCount<never>((db, n, args) =>
	db.insertInto('chat_messages').values(
		Array.from({ length: n }, (_, i) => Object.fromEntries(COLUMNS.map((column, c) => [column, args[i * COLUMNS.length + c]])) as never)
	)
);

/** What a post stores. */
export interface NewRow {
	author: ChatUser | null;
	kind: MessageKind;
	body: string;
	clientId?: string | null;
	fileId?: string | null;
}

/** Each slice's insert arguments (SHAPE_MAX rows at most), from the first id on. */
function slices(roomId: number, inputs: NewRow[], first: number, created: number): unknown[][] {
	const out: unknown[][] = [];
	for (let i = 0; i < inputs.length; i += SHAPE_MAX) {
		out.push(inputs.slice(i, i + SHAPE_MAX).flatMap((input, j) => [roomId, first + i + j, input.author?.id ?? null, input.clientId ?? null, input.kind, input.body, input.fileId ?? null, created]));
	}
	return out;
}

/** A failed insert as the post's answer: a clientId stored before is a ChatError. */
function refusal(inputs: NewRow[], error: unknown): unknown {
	if (inputs.some((input) => input.clientId != null) && /unique/i.test(String(error))) return new ChatError('This clientId was already used for another message.');
	return error;
}

/** New posts stored from `first` on, as the chat sends them. */
function views(roomId: number, inputs: NewRow[], first: number, created: number): ChatMessage[] {
	return inputs.map((input, i) =>
		view({
			room_id: roomId,
			seq: first + i,
			user_id: input.author?.id ?? null,
			client_id: input.clientId ?? null,
			kind: input.kind,
			body: input.body,
			file_id: input.fileId ?? null,
			created_at: created,
			author_name: input.author?.name ?? null
		})
	);
}

/**
 * insertAll() on SQLite, synchronously: the transaction runs in this turn (`sync` from syncOf: only
 * while no other transaction is open on the connection).
 */
function insertNow(sync: SyncSqlite, db: Kysely<Database>, roomId: number, inputs: NewRow[]): ChatMessage[] {
	const created = Date.now();
	let first = 0;
	try {
		sync.transaction(() => {
			first = Number(takeSeqs.now(db, roomId, inputs.length)[0].last_seq) - inputs.length + 1;
			for (const values of slices(roomId, inputs, first, created)) insertRows(values.length / COLUMNS.length).now(db, ...values);
		});
	} catch (error) {
		throw refusal(inputs, error);
	}
	return views(roomId, inputs, first, created);
}

/** Stores the posts under the room's next ids, in one transaction; a clientId used before is refused with a ChatError. */
export async function insertAll(roomId: number, inputs: NewRow[]): Promise<ChatMessage[]> {
	const { db } = runtime().store;
	const sync = syncOf(db);
	if (sync) return insertNow(sync, db, roomId, inputs);
	const created = Date.now();
	let first = 0;
	try {
		await db.transaction().execute(async (trx) => {
			first = Number((await takeSeqs(trx, roomId, inputs.length))[0].last_seq) - inputs.length + 1;
			for (const values of slices(roomId, inputs, first, created)) await insertRows(values.length / COLUMNS.length)(trx, ...values);
		});
	} catch (error) {
		throw refusal(inputs, error);
	}
	return views(roomId, inputs, first, created);
}

/**
 * The room's next id, taken only for a member of the open room: no row otherwise (nothing changes).
 * One statement for the membership check and the id, compiled once.
 */
const takeSeqAsMember = compiledOnce((db: Kysely<Database>, roomId: number, userId: number) =>
	db
		.insertInto('chat_room_seqs')
		.columns(['room_id', 'last_seq'])
		.expression(
			db
				.selectNoFrom((eb) => [eb.val(roomId).as('room_id'), sql<number>`1`.as('last_seq')])
				.where((eb) => eb.exists(openMembers(db, roomId).where('m.user_id', '=', userId)))
		)
		.onConflict((oc) => oc.column('room_id').doUpdateSet({ last_seq: sql`chat_room_seqs.last_seq + 1` }))
		.returning('last_seq')
);

/**
 * SQLite, now (`sync` from syncOf): one message from a member, in one transaction of three steps: the next
 * id if the author is a member of the open room, the row (its clientId unique per author), then
 * `admit()`, which may throw to refuse it (a rate limit counts only what gets this far). Undefined,
 * with nothing stored, when the author is not a member, the room is closed, or the clientId was
 * used before: the general way answers those.
 */
export function storeNow(sync: SyncSqlite, roomId: number, input: NewRow & { author: ChatUser }, admit: () => void): ChatMessage | undefined {
	const { db } = runtime().store;
	const created = Date.now();
	let seq: number | undefined;
	try {
		sync.transaction(() => {
			const [row] = takeSeqAsMember.now(db, roomId, input.author.id);
			if (!row) return;
			seq = Number(row.last_seq);
			insertRows(1).now(db, ...slices(roomId, [input], seq, created)[0]);
			admit();
		});
	} catch (error) {
		if ((error as { code?: string })?.code === 'SQLITE_CONSTRAINT_UNIQUE') return undefined;
		throw error;
	}
	return seq === undefined ? undefined : views(roomId, [input], seq, created)[0];
}

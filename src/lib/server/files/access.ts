import { isAbsolute, relative, resolve } from 'node:path';
import { sql, type Expression, type ExpressionBuilder, type Kysely, type SqlBool } from 'kysely';
import type { FileSource } from '$lib/stream/server';
import { compiledOnce } from '../db/compiled';
import type { Database } from '../db/schema';
import { HttpError } from '../errors';
import { runtime } from '../runtime';
import { filesPath, type FileInfo } from './store';

/** Who is asking: the signed-in user (routes pass `locals.user`). */
export type Viewer = { id: number };

/** A file as one user sees it: with the rooms (of theirs) it was shared into. */
export type FileView = FileInfo & { sharedInto: { id: number; name: string }[] };

/** A page of files, newest first; `nextBefore` is the cursor for the next page. */
export interface FilePage {
	items: FileView[];
	nextBefore: string | null;
}

const ID = /^[A-Za-z0-9_-]{16,64}$/;
const CURSOR = /^(\d{1,16})\.([A-Za-z0-9_-]{16,64})$/;
const PAGE_SIZE = 50;

/** The one answer for a file that is missing, hidden, malformed or unsafe: existence never leaks. */
export const notFound = () => new HttpError(404, 'No such file.');

/** Checks an id's shape before any query; 404 otherwise. */
export function checkId(id: string): string {
	if (!ID.test(id)) throw notFound();
	return id;
}

/** SQL: file `f` is visible to the user (owner, public, or shared into one of their rooms). */
export function visibleTo(eb: ExpressionBuilder<Database & { f: Database['files'] }, 'f'>, userId: number): Expression<SqlBool> {
	return eb.or([
		eb('f.owner_id', '=', userId),
		eb('f.is_public', '=', 1),
		eb.exists(
			eb
				.selectFrom('file_shares as s')
				.innerJoin('room_members as m', 'm.room_id', 's.room_id')
				.select(sql`1`.as('one'))
				.whereRef('s.file_id', '=', 'f.id')
				.where('m.user_id', '=', userId)
		)
	]);
}

function visibleFiles(userId: number, db: Kysely<Database> = runtime().store.db) {
	return db
		.selectFrom('files as f')
		.innerJoin('users as u', 'u.id', 'f.owner_id')
		.selectAll('f')
		.select(['u.name as owner_name'])
		.where((eb) => visibleTo(eb, userId));
}

type Row = Awaited<ReturnType<ReturnType<typeof visibleFiles>['executeTakeFirstOrThrow']>>;

async function views(user: Viewer, rows: Row[]): Promise<FileView[]> {
	if (rows.length === 0) return [];
	const shares = await runtime()
		.store.db.selectFrom('file_shares as s')
		.innerJoin('rooms as r', 'r.id', 's.room_id')
		.innerJoin('room_members as m', (join) => join.onRef('m.room_id', '=', 'r.id').on('m.user_id', '=', user.id))
		.select(['s.file_id', 'r.id', 'r.name'])
		.where('s.file_id', 'in', rows.map((row) => row.id))
		.orderBy('r.name')
		.execute();
	return rows.map((row) => ({
		id: row.id,
		name: row.name,
		size: Number(row.size),
		sha256: row.sha256,
		type: row.type,
		owner: { id: row.owner_id, name: row.owner_name },
		isPublic: row.is_public === 1,
		created: Number(row.created_at),
		sharedInto: shares.filter((s) => s.file_id === row.id).map((s) => ({ id: s.id, name: s.name }))
	}));
}

// Every download asks this: compiled once, not built by Kysely each time.
const visibleFile = compiledOnce((db: Kysely<Database>, userId: number, id: string) => visibleFiles(userId, db).where('f.id', '=', id));

async function row(user: Viewer, id: string): Promise<Row> {
	const [found] = await visibleFile(runtime().store.db, user.id, checkId(id));
	if (!found) throw notFound();
	return found;
}

/** A file the user may see; 404 for anything else (never 403). */
export async function get(user: Viewer, id: string): Promise<FileView> {
	return (await views(user, [await row(user, id)]))[0];
}

/** The absolute path of a stored name, or null when it would leave the files folder. */
export function storedPath(stored: string): string | null {
	const dir = resolve(filesPath());
	const path = resolve(dir, stored);
	const rel = relative(dir, path);
	if (!rel || rel.startsWith('..') || isAbsolute(rel) || rel.includes('/') || rel.includes('\\')) return null;
	return path;
}

/**
 * A file the user may download, as the `FileSource` for `file()`: the path comes from the stored
 * name in the database and must stay inside the files folder. Nothing here touches the disk:
 * `file()` opens it once without following symlinks and checks the open file, so a path swapped
 * after this check is never served.
 * @example return file(request, await files.open(locals.user, params.id));
 */
export async function open(user: Viewer, id: string): Promise<FileSource> {
	const found = await row(user, id);
	const path = storedPath(found.stored);
	if (!path) throw notFound();
	return { path, size: Number(found.size), sha256: found.sha256, name: found.name, type: found.type };
}

/** Files the user may see, newest first, older than the `before` cursor when given. */
export async function list(user: Viewer, options: { before?: string; limit?: number } = {}): Promise<FilePage> {
	const limit = Math.min(Math.max(options.limit ?? PAGE_SIZE, 1), 100);
	let query = visibleFiles(user.id);
	if (options.before !== undefined) {
		const cursor = CURSOR.exec(options.before);
		if (!cursor) throw new HttpError(400, 'The "before" parameter must be a cursor from a previous page.');
		const [created, id] = [Number(cursor[1]), cursor[2]];
		query = query.where((eb) => eb.or([eb('f.created_at', '<', created), eb.and([eb('f.created_at', '=', created), eb('f.id', '<', id)])]));
	}
	const rows = await query.orderBy('f.created_at', 'desc').orderBy('f.id', 'desc').limit(limit + 1).execute();
	const items = await views(user, rows.slice(0, limit));
	const last = items[items.length - 1];
	return { items, nextBefore: rows.length > limit ? `${last.created}.${last.id}` : null };
}

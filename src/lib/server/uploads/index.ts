import { mkdirSync } from 'node:fs';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { HttpError } from '../errors';
import * as files from '../files/store';
import { runtime } from '../runtime';
import * as chunk from './chunk';
import { uploadLocks } from './lock';
import { sanitizeName } from './sanitize';
import { startSweeper } from './sweep';

export { sweep } from './sweep';

/** An unfinished upload as its owner sees it. */
export interface UploadInfo {
	id: string;
	name: string;
	size: number;
	/** Bytes the server holds; the next chunk starts here. */
	offset: number;
}

/** What a chunk did: moved the offset, was at the wrong place (nothing written), or finished the file. */
export type ChunkResult = { kind: 'progress'; offset: number } | { kind: 'conflict'; offset: number } | { kind: 'done'; file: files.FileInfo };

const TYPE = /^[\w.+-]{1,100}\/[\w.+-]{1,100}$/;

/** The folder of part files: `<id>.part`, named by the generated id only. */
export function partPath(id: string): string {
	const dir = join(runtime().config.dataDir, 'uploads');
	mkdirSync(dir, { recursive: true });
	return join(dir, `${id}.part`);
}

/**
 * Starts an upload of a declared size and SHA-256; 400 on bad input, 413 over MAX_UPLOAD_BYTES.
 * @example const { id, chunkSize } = await uploads.start(user.id, { name: 'a.txt', size: 3, sha256 });
 */
export async function start(ownerId: number, input: Record<string, unknown>) {
	await startSweeper();
	const { name, size, sha256, type } = input;
	if (typeof name !== 'string' || name.length > 4096) throw new HttpError(400, 'Give the file a name.');
	if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) throw new HttpError(400, 'The size must be a whole number of bytes.');
	const max = runtime().config.maxUploadBytes;
	if (size > max) throw new HttpError(413, `The file is too large: at most ${max} bytes.`);
	if (typeof sha256 !== 'string' || !/^[0-9a-f]{64}$/i.test(sha256)) throw new HttpError(400, 'The sha256 must be 64 hex digits.');
	if (type !== undefined && (typeof type !== 'string' || !TYPE.test(type))) throw new HttpError(400, 'The type must be a media type such as text/plain.');
	const id = files.newId();
	const now = Date.now();
	await writeFile(partPath(id), new Uint8Array(0), { mode: 0o600 });
	await runtime()
		.store.db.insertInto('uploads')
		.values({ id, owner_id: ownerId, name: sanitizeName(name), size, sha256: sha256.toLowerCase(), type: (type as string | undefined)?.toLowerCase() ?? 'application/octet-stream', offset: 0, created_at: now, updated_at: now })
		.execute();
	return { id, offset: 0, chunkSize: Math.min(chunk.maxChunkBytes(), 4 * 1024 ** 2) };
}

async function row(ownerId: number, id: string) {
	const found = await runtime().store.db.selectFrom('uploads').selectAll().where('id', '=', id).where('owner_id', '=', ownerId).executeTakeFirst();
	if (!found) throw new HttpError(404, 'No such upload: it finished, was cancelled or expired.');
	return { ...found, size: Number(found.size), offset: Number(found.offset) };
}

/** Where one of my uploads stands; 404 for anyone else's. */
export async function status(ownerId: number, id: string): Promise<UploadInfo> {
	await startSweeper();
	const { name, size, offset } = await row(ownerId, id);
	return { id, name, size, offset };
}

/**
 * Appends one chunk (checked against its SHA-256 before a byte is kept); the last one verifies the
 * whole file and publishes it. 404, 409 (as a result), 411, 413, 423, 460, 422 otherwise.
 */
export async function append(ownerId: number, id: string, request: Request): Promise<ChunkResult> {
	await row(ownerId, id);
	const release = await uploadLocks().tryLock(id);
	if (!release) throw new HttpError(423, 'Another chunk of this upload is being written: wait for it, then ask for the offset.');
	try {
		const upload = await row(ownerId, id);
		const chunkInfo = chunk.declared(request.headers);
		if (chunkInfo.offset !== upload.offset) return { kind: 'conflict', offset: upload.offset };
		if (chunkInfo.length > chunk.maxChunkBytes()) throw new HttpError(413, `A chunk may carry at most ${chunk.maxChunkBytes()} bytes.`);
		if (upload.offset + chunkInfo.length > upload.size) throw new HttpError(413, `The chunk goes past the declared size of ${upload.size} bytes.`);
		const bytes = await chunk.readBody(request, chunkInfo.length);
		if (!chunk.matches(bytes, chunkInfo.digest)) throw new HttpError(460, 'The chunk does not match its Upload-Checksum; it was not kept: send it again.');
		const path = partPath(id);
		await chunk.writeAt(path, upload.offset, bytes);
		const offset = upload.offset + bytes.length;
		await runtime().store.db.updateTable('uploads').set({ offset, updated_at: Date.now() }).where('id', '=', id).execute();
		if (offset < upload.size) return { kind: 'progress', offset };
		if ((await chunk.sha256File(path)) !== upload.sha256) {
			await remove(id);
			throw new HttpError(422, "The file's SHA-256 does not match the declared one; it was not saved.");
		}
		const file = await files.create({ ownerId, name: upload.name, size: upload.size, sha256: upload.sha256, type: upload.type, fromPath: path });
		await runtime().store.db.deleteFrom('uploads').where('id', '=', id).execute();
		return { kind: 'done', file };
	} finally {
		await release();
	}
}

/** Cancels one of my uploads: its row and part file are gone; 404 for anyone else's. */
export async function cancel(ownerId: number, id: string): Promise<void> {
	await row(ownerId, id);
	await remove(id);
}

/** Removes an upload's row and part file, whoever owns it. */
export async function remove(id: string): Promise<void> {
	await runtime().store.db.deleteFrom('uploads').where('id', '=', id).execute();
	await rm(partPath(id), { force: true });
}

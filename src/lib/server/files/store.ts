import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { rename } from 'node:fs/promises';
import { join } from 'node:path';
import { runtime } from '../runtime';

/** A file as the API shows it. */
export interface FileInfo {
	id: string;
	name: string;
	size: number;
	sha256: string;
	type: string;
	owner: { id: number; name: string };
	isPublic: boolean;
	/** Unix ms. */
	created: number;
}

/** The bus topic that announces new files (to everyone who may list them). */
export const FILES_TOPIC = 'files';

/** Where published files live (generated names only), without touching the disk. */
export function filesPath(): string {
	return join(runtime().config.dataDir, 'files');
}

/** The folder of published files, made if missing. */
export function filesDir(): string {
	const dir = filesPath();
	mkdirSync(dir, { recursive: true });
	return dir;
}

/** A fresh random id for URLs or stored names. */
export function newId(): string {
	return randomBytes(16).toString('base64url');
}

/**
 * Publishes a finished, verified file: moves it from `fromPath` into the store under a generated
 * name, records it, and announces it on the bus.
 * @example const info = await create({ ownerId: 1, name: 'a.txt', size: 3, sha256, type: 'text/plain', fromPath });
 */
export async function create(input: {
	ownerId: number;
	name: string;
	size: number;
	sha256: string;
	type: string;
	fromPath: string;
}): Promise<FileInfo> {
	const rt = runtime();
	const id = newId();
	const stored = newId();
	await rename(input.fromPath, join(filesDir(), stored));
	const created = Date.now();
	await rt.store.db
		.insertInto('files')
		.values({ id, owner_id: input.ownerId, name: input.name, size: input.size, sha256: input.sha256, type: input.type, stored, is_public: 0, created_at: created })
		.execute();
	const owner = await rt.store.db.selectFrom('users').select(['id', 'name']).where('id', '=', input.ownerId).executeTakeFirstOrThrow();
	const info: FileInfo = { id, name: input.name, size: input.size, sha256: input.sha256, type: input.type, owner, isPublic: false, created };
	await rt.bus.publish(FILES_TOPIC, { type: 'created', data: info });
	return info;
}

import { createHash, timingSafeEqual } from 'node:crypto';
import { constants, createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { HttpError } from '../errors';

/** The largest chunk a PATCH may carry: 16 MiB, or less when adapter-node's BODY_SIZE_LIMIT is lower. */
export function maxChunkBytes(env: Record<string, string | undefined> = process.env): number {
	const match = /^(\d+)([KMG]?)$/i.exec(env.BODY_SIZE_LIMIT?.trim() || '512K');
	const scale = { '': 1, K: 1024, M: 1024 ** 2, G: 1024 ** 3 }[(match?.[2] ?? '').toUpperCase()] ?? 1;
	const limit = env.BODY_SIZE_LIMIT?.trim() === 'Infinity' ? Infinity : match ? Number(match[1]) * scale : 512 * 1024;
	return Math.min(16 * 1024 ** 2, limit);
}

/** The chunk's place, size and digest as the request headers declare them; 400/411 otherwise. */
export function declared(headers: Headers): { offset: number; length: number; digest: Buffer } {
	const offset = headers.get('upload-offset')?.trim() ?? '';
	if (!/^\d{1,16}$/.test(offset)) throw new HttpError(400, 'Send the chunk\'s position as Upload-Offset: <bytes>.');
	const length = headers.get('content-length')?.trim() ?? '';
	if (!/^\d{1,16}$/.test(length)) throw new HttpError(411, 'Send the chunk with a Content-Length.');
	const checksum = /^sha256 ([A-Za-z0-9+/]{43}=)$/.exec(headers.get('upload-checksum')?.trim() ?? '');
	if (!checksum) throw new HttpError(400, 'Send the chunk\'s digest as Upload-Checksum: sha256 <base64>.');
	return { offset: Number(offset), length: Number(length), digest: Buffer.from(checksum[1], 'base64') };
}

/** Reads exactly `length` bytes of body into memory (chunks are small); 400 when it is cut short. */
export async function readBody(request: Request, length: number): Promise<Buffer> {
	let bytes: Buffer;
	try {
		bytes = Buffer.from(await request.arrayBuffer());
	} catch (error) {
		const status = (error as { status?: number }).status === 413 ? 413 : 400;
		throw new HttpError(status, status === 413 ? 'The chunk is too large.' : 'The chunk was cut short; send it again.');
	}
	if (bytes.length !== length) throw new HttpError(400, 'The chunk was cut short; send it again.');
	return bytes;
}

/** Whether `bytes` hash to `digest` (SHA-256). */
export function matches(bytes: Buffer, digest: Buffer): boolean {
	return timingSafeEqual(createHash('sha256').update(bytes).digest(), digest);
}

/** Writes `bytes` at `offset` of the part file (dropping anything after it) and flushes to disk. */
export async function writeAt(path: string, offset: number, bytes: Buffer): Promise<void> {
	const handle = await open(path, constants.O_WRONLY | constants.O_CREAT, 0o600);
	try {
		await handle.truncate(offset);
		let written = 0;
		while (written < bytes.length) {
			const { bytesWritten } = await handle.write(bytes, written, bytes.length - written, offset + written);
			written += bytesWritten;
		}
		await handle.sync();
	} finally {
		await handle.close();
	}
}

/** The hex SHA-256 of a whole file, streamed. */
export async function sha256File(path: string): Promise<string> {
	const hash = createHash('sha256');
	for await (const piece of createReadStream(path)) hash.update(piece as Buffer);
	return hash.digest('hex');
}

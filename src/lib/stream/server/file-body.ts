import { randomBytes } from 'node:crypto';
import type { FileHandle } from 'node:fs/promises';
import { Readable } from 'node:stream';
import type { ByteRange } from './file-range';

/** Read size for the file: memory stays flat at about this much per download. */
export const CHUNK_BYTES = 1024 * 1024;

/** A body ready to send: its stream (null when empty), length and content type. */
export interface FileBody {
	stream: ReadableStream<Uint8Array> | null;
	length: number;
	type: string;
}

/** The parts of a `multipart/byteranges` body, each head written before its range. */
function multipartLayout(ranges: ByteRange[], size: number, type: string) {
	const boundary = randomBytes(16).toString('hex');
	const heads = ranges.map(({ start, end }, index) =>
		Buffer.from(
			`${index ? '\r\n' : ''}--${boundary}\r\ncontent-type: ${type}\r\ncontent-range: bytes ${start}-${end}/${size}\r\n\r\n`
		)
	);
	const tail = Buffer.from(`\r\n--${boundary}--\r\n`);
	const length = heads.reduce((sum, head, i) => sum + head.length + ranges[i].end - ranges[i].start + 1, tail.length);
	return { boundary, heads, tail, length };
}

/** Each part's head then its bytes, read lazily one part at a time from the one open file. */
async function* multipartChunks(handle: FileHandle, ranges: ByteRange[], heads: Buffer[], tail: Buffer) {
	for (const [index, { start, end }] of ranges.entries()) {
		yield heads[index];
		yield* handle.createReadStream({ start, end, highWaterMark: CHUNK_BYTES, autoClose: false });
	}
	yield tail;
}

/** Node stream to web stream, destroyed (closing the file) when the client goes away. */
function toWeb(node: Readable, signal: AbortSignal): ReadableStream<Uint8Array> {
	if (signal.aborted) node.destroy();
	else signal.addEventListener('abort', () => node.destroy(), { once: true });
	return Readable.toWeb(node) as unknown as ReadableStream<Uint8Array>;
}

/**
 * Streams one range of the open file (the handle closes when the body ends or is cancelled).
 * @example rangeBody(handle, { start: 0, end: size - 1 }, request.signal, 'application/pdf')
 */
export function rangeBody(handle: FileHandle, { start, end }: ByteRange, signal: AbortSignal, type: string): FileBody {
	if (end < start) {
		void handle.close();
		return { stream: null, length: 0, type };
	}
	const node = handle.createReadStream({ start, end, highWaterMark: CHUNK_BYTES });
	return { stream: toWeb(node, signal), length: end - start + 1, type };
}

/**
 * Streams several ranges as one `multipart/byteranges` body (RFC 9110 §14.6).
 * @example multipartBody(handle, [{ start: 0, end: 1 }, { start: 8, end: 9 }], 10, request.signal, 'text/plain')
 */
export function multipartBody(
	handle: FileHandle,
	ranges: ByteRange[],
	size: number,
	signal: AbortSignal,
	type: string
): FileBody {
	const { boundary, heads, tail, length } = multipartLayout(ranges, size, type);
	const node = Readable.from(multipartChunks(handle, ranges, heads, tail), { objectMode: false });
	node.once('close', () => void handle.close()); // after the end, an error or a destroy, even before the first read
	return { stream: toWeb(node, signal), length, type: `multipart/byteranges; boundary=${boundary}` };
}

import { randomBytes } from 'node:crypto';
import type { ByteRange } from './file-range';
import { drained, type DirectBody, type BodySink } from './node-body';
import type { OpenFile } from './open-file';

/** Read size for the file: memory stays flat at about two of these per download. */
export const CHUNK_BYTES = 1024 * 1024;
/** Read buffers of CHUNK_BYTES kept for the next downloads once written out (direct path only): 16 MiB at most. */
const POOL_MAX = 16;
/** Reads shorter than this get a buffer of their own size instead of a pooled one. */
const POOLED_FROM = 64 * 1024;
const pool: Buffer[] = [];

/** A read buffer for `length` bytes: a kept one if any (its pages are already mapped), else a new one; undefined for a short read. */
function takeBuffer(length: number): Buffer | undefined {
	if (length < POOLED_FROM) return undefined;
	return pool.pop() ?? Buffer.allocUnsafeSlow(CHUNK_BYTES);
}

function releaseBuffer(buffer: Buffer | undefined): void {
	if (buffer && pool.length < POOL_MAX) pool.push(buffer);
}

/** A body ready to send: its bytes (null when empty), length and content type. */
export interface FileBody {
	pieces: FilePieces | null;
	length: number;
	type: string;
}

/** What a body is made of, in order: bytes sent as they are, or a range of the file. */
type Piece = Buffer | ByteRange;

/** One chunk of a body: the bytes to send, and the pooled buffer under them to give back once sent. */
interface Chunk {
	bytes: Buffer;
	pooled?: Buffer;
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

const CUT_OFF = 'The download was cut off: the client went away.';

/**
 * The pieces of one download over its open file, read in order in positioned reads of up to
 * CHUNK_BYTES. Sent either by writeTo() straight to the socket (the production server: pooled
 * buffers, one chunk read ahead while the last one is written, no web stream) or through
 * toReadableStream() (adapter-node's setResponse, dev, tests). The handle closes at the end, on an
 * error, on cancel, or when `signal` aborts (the client went away).
 */
export class FilePieces implements DirectBody {
	#handle: OpenFile;
	#pieces: Piece[];
	#index = 0;
	#position = -1;
	#closed = false;
	#signal: AbortSignal | undefined;

	constructor(handle: OpenFile, pieces: Piece[], signal: AbortSignal | undefined) {
		this.#handle = handle;
		this.#pieces = pieces;
		if (signal?.aborted) this.close();
		else if (signal) {
			this.#signal = signal;
			signal.addEventListener('abort', this);
		}
	}

	/** Every piece was read. */
	get done(): boolean {
		return this.#index === this.#pieces.length;
	}

	/** The request's signal aborted. */
	handleEvent(): void {
		this.close();
	}

	/** Stops watching the request's signal (the socket's close is watched instead). */
	detachSignal(): void {
		this.#signal?.removeEventListener('abort', this);
		this.#signal = undefined;
	}

	/** Closes the file (once); reading after this fails as cut off. */
	close(): void {
		if (this.#closed) return;
		this.#closed = true;
		this.detachSignal();
		this.#handle.close();
	}

	/** Reads the next chunk, into `into` when given (a chunk of a file range), and closes the file after the last one. */
	async next(into?: Buffer): Promise<Chunk> {
		if (this.#closed) throw new Error(CUT_OFF);
		const piece = this.#pieces[this.#index];
		let chunk: Chunk;
		if (Buffer.isBuffer(piece)) {
			this.#index++;
			chunk = { bytes: piece };
		} else {
			if (this.#position < 0) this.#position = piece.start;
			const length = Math.min(CHUNK_BYTES, piece.end + 1 - this.#position);
			const buffer = into ?? (length < POOLED_FROM ? Buffer.allocUnsafe(length) : Buffer.allocUnsafeSlow(length));
			let bytesRead: number;
			try {
				bytesRead = await this.#handle.read(buffer, length, this.#position);
				if (bytesRead === 0) throw new Error(`The stored file ended at byte ${this.#position}, before its recorded size.`);
			} catch (error) {
				this.close();
				throw error;
			}
			if (this.#closed) throw new Error(CUT_OFF); // cancelled or aborted while reading
			this.#position += bytesRead;
			if (this.#position > piece.end) {
				this.#index++;
				this.#position = -1;
			}
			chunk = { bytes: bytesRead === buffer.length ? buffer : buffer.subarray(0, bytesRead), pooled: into };
		}
		if (this.done) this.close();
		return chunk;
	}

	/** A pull stream over the pieces (nothing is read until the first pull; fresh buffers, handed on as they are). */
	toReadableStream(): ReadableStream<Uint8Array> {
		return new ReadableStream<Uint8Array>(
			{
				pull: async (controller) => {
					controller.enqueue((await this.next()).bytes);
					if (this.done) controller.close();
				},
				cancel: () => this.close()
			},
			{ highWaterMark: 0 }
		);
	}

	/**
	 * Writes the whole body to the socket with backpressure: each chunk is read into a pooled buffer
	 * that goes back to the pool once the socket has written it; the next chunk is read meanwhile.
	 * Ends the response, or destroys it if reading fails; the file closes if the client goes away.
	 */
	async writeTo(res: BodySink): Promise<void> {
		this.detachSignal();
		const gone = () => this.close();
		res.once('close', gone);
		try {
			let reading: Promise<Chunk> | undefined = this.#read();
			while (reading) {
				const chunk = await reading;
				if (res.destroyed) {
					releaseBuffer(chunk.pooled);
					break;
				}
				reading = this.done ? undefined : this.#read();
				// Given back once the socket has written it; after a failed write it is left to the GC.
				const written = res.write(chunk.bytes, (error) => error || releaseBuffer(chunk.pooled));
				if (!written) await drained(res);
			}
			if (!res.destroyed) res.end();
		} catch (error) {
			if (!res.destroyed) res.destroy(error as Error);
		} finally {
			res.off('close', gone);
			this.close();
		}
	}

	/** The next chunk, into a pooled buffer when it is a long part of the file; a failed read is caught where awaited. */
	#read(): Promise<Chunk> {
		const piece = this.#pieces[this.#index];
		const into = Buffer.isBuffer(piece) ? undefined : takeBuffer(piece.end + 1 - (this.#position < 0 ? piece.start : this.#position));
		const reading = this.next(into);
		reading.catch(() => releaseBuffer(into));
		return reading;
	}
}

/**
 * The body of one range of the open file (the handle closes when the body ends or is cancelled).
 * @example rangeBody(handle, { start: 0, end: size - 1 }, request.signal, 'application/pdf')
 */
export function rangeBody(handle: OpenFile, range: ByteRange, signal: AbortSignal | undefined, type: string): FileBody {
	if (range.end < range.start) {
		handle.close();
		return { pieces: null, length: 0, type };
	}
	return { pieces: new FilePieces(handle, [range], signal), length: range.end - range.start + 1, type };
}

/**
 * The body of several ranges as one `multipart/byteranges` body (RFC 9110 §14.6).
 * @example multipartBody(handle, [{ start: 0, end: 1 }, { start: 8, end: 9 }], 10, request.signal, 'text/plain')
 */
export function multipartBody(
	handle: OpenFile,
	ranges: ByteRange[],
	size: number,
	signal: AbortSignal | undefined,
	type: string
): FileBody {
	const { boundary, heads, tail, length } = multipartLayout(ranges, size, type);
	const pieces = ranges.flatMap((range, i) => [heads[i], range]);
	return { pieces: new FilePieces(handle, [...pieces, tail], signal), length, type: `multipart/byteranges; boundary=${boundary}` };
}

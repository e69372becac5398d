// The bench's file content: each 4-byte little-endian word holds its own index, so any byte range
// can be checked by the client as it arrives, without hashing and without holding the file.
import { open } from 'node:fs/promises';

const BLOCK = 16 * 1024 * 1024;

/**
 * Writes `size` bytes of the pattern to `path` and flushes them to disk (so no writeback runs later).
 * @example await writePatternFile('/tmp/x/big.bin', 1024 ** 3);
 */
export async function writePatternFile(path, size) {
	const handle = await open(path, 'w', 0o644);
	try {
		const words = new Uint32Array(BLOCK / 4);
		for (let offset = 0; offset < size; offset += BLOCK) {
			const first = offset / 4;
			for (let i = 0; i < words.length; i++) words[i] = first + i;
			const length = Math.min(BLOCK, size - offset);
			await handle.write(new Uint8Array(words.buffer, 0, length), 0, length, offset);
		}
		await handle.sync();
	} finally {
		await handle.close();
	}
}

/**
 * Whether `n` bytes of `buf` from `start`, which should be the file's bytes from `fileOffset`, carry
 * the pattern: checks the first and the last whole word in them (cheap enough for every read).
 * @example if (!carriesPattern(buf, 0, n, bodyOffset)) throw new Error('wrong bytes');
 */
export function carriesPattern(buf, start, n, fileOffset) {
	const firstWord = Math.ceil(fileOffset / 4);
	const lastWord = Math.floor((fileOffset + n) / 4) - 1;
	if (lastWord < firstWord) return true; // no whole word in this piece
	for (const word of [firstWord, lastWord]) {
		if (buf.readUInt32LE(start + word * 4 - fileOffset) !== word >>> 0) return false;
	}
	return true;
}

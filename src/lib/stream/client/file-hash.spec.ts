import { createHash, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { toBase64, toHex } from './bytes';
import { chunkChecksum, hashBlob } from './file-hash';

describe('file hashing', () => {
	it('hashes a Blob across 4 MiB slices like node:crypto, reporting progress', async () => {
		const bytes = randomBytes(9 * 1024 * 1024 + 123);
		const seen: number[] = [];
		const hex = await hashBlob(new Blob([bytes]), { onProgress: (done) => seen.push(done) });
		expect(hex).toBe(createHash('sha256').update(bytes).digest('hex'));
		expect(seen).toEqual([4 * 1024 * 1024, 8 * 1024 * 1024, bytes.length]);
	});

	it('hashes an empty Blob', async () => {
		expect(await hashBlob(new Blob([]))).toBe(createHash('sha256').digest('hex'));
	});

	it('stops when aborted', async () => {
		const controller = new AbortController();
		controller.abort();
		await expect(hashBlob(new Blob([randomBytes(10)]), { signal: controller.signal })).rejects.toThrow();
	});

	it('gives a chunk checksum in base64 and encodes hex/base64 like Buffer', async () => {
		const chunk = randomBytes(1000);
		const copy = chunk.buffer.slice(chunk.byteOffset, chunk.byteOffset + chunk.length);
		expect(await chunkChecksum(copy)).toBe(createHash('sha256').update(chunk).digest('base64'));
		expect(toHex(chunk)).toBe(chunk.toString('hex'));
		expect(toBase64(chunk)).toBe(chunk.toString('base64'));
	});
});

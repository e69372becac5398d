import { sha256 } from '@noble/hashes/sha2.js';
import { toBase64, toHex } from './bytes';

const SLICE = 4 * 1024 * 1024;

/**
 * SHA-256 (hex) of a whole Blob, read in 4 MiB slices so memory stays flat for any size.
 * @example const hex = await hashBlob(file, { onProgress: (done) => bar.value = done });
 */
export async function hashBlob(blob: Blob, options: { signal?: AbortSignal; onProgress?: (done: number) => void } = {}): Promise<string> {
	const hash = sha256.create();
	for (let start = 0; start < blob.size; start += SLICE) {
		options.signal?.throwIfAborted();
		hash.update(new Uint8Array(await blob.slice(start, start + SLICE).arrayBuffer()));
		options.onProgress?.(Math.min(blob.size, start + SLICE));
	}
	return toHex(hash.digest());
}

/** Base64 SHA-256 of one chunk, by WebCrypto. */
export async function chunkChecksum(bytes: ArrayBuffer): Promise<string> {
	return toBase64(new Uint8Array(await crypto.subtle.digest('SHA-256', bytes)));
}

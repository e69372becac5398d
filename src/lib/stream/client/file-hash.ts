import { sha256 } from '@noble/hashes/sha2.js';

const SLICE = 4 * 1024 * 1024;

/** Lowercase hex of bytes. */
export function toHex(bytes: Uint8Array): string {
	let hex = '';
	for (const byte of bytes) hex += byte.toString(16).padStart(2, '0');
	return hex;
}

/** Base64 of bytes (for the `Upload-Checksum` header). */
export function toBase64(bytes: Uint8Array): string {
	let binary = '';
	for (const byte of bytes) binary += String.fromCharCode(byte);
	return btoa(binary);
}

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

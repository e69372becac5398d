import { ApiError } from './api-error';
import { backoffDelay, waitToRetry } from './backoff';
import { chunkChecksum, hashBlob } from './file-hash';

/** Where an upload is. */
export interface UploadProgress {
	phase: 'hashing' | 'uploading';
	/** Bytes hashed or held by the server. */
	done: number;
	total: number;
}

/** Options of uploadFile. */
export interface UploadOptions {
	name?: string;
	type?: string;
	/** Bytes per PATCH (default 1 MiB; the server caps it). */
	chunkSize?: number;
	/** Pauses or cancels: the server keeps what it has; call again with `uploadId` to resume. */
	signal?: AbortSignal;
	/** Resume this upload (from the server's offset) instead of creating one. */
	uploadId?: string;
	/** The upload id once created: keep it (say, in localStorage) to resume after a reload. */
	onCreated?: (id: string) => void;
	onProgress?: (progress: UploadProgress) => void;
	/** Network attempts in a row without progress before giving up (default 5). */
	retries?: number;
	fetch?: typeof fetch;
}

/**
 * Uploads a Blob in checksummed chunks to /api/uploads, resuming from the server's offset after a
 * broken connection, and resolves with the server's answer once the whole file is verified.
 * @example const { file } = await uploadFile<{ file: FileInfo }>(picked, { onProgress, signal });
 */
export async function uploadFile<T = unknown>(blob: Blob, options: UploadOptions = {}): Promise<T> {
	const http = options.fetch ?? fetch;
	const { signal } = options;
	let id = options.uploadId;
	let offset: number;
	let chunkSize = options.chunkSize ?? 1024 * 1024;
	if (id) {
		offset = await serverOffset(http, id, signal);
	} else {
		const sha256 = await hashBlob(blob, { signal, onProgress: (done) => options.onProgress?.({ phase: 'hashing', done, total: blob.size }) });
		const name = options.name ?? (blob instanceof File ? blob.name : 'file');
		const created = await json<{ id: string; offset: number; chunkSize?: number }>(http, '/api/uploads', {
			method: 'POST',
			headers: { 'content-type': 'application/json' },
			body: JSON.stringify({ name, size: blob.size, sha256, type: options.type ?? blob.type ?? '' }),
			signal
		});
		id = created.id;
		offset = created.offset;
		if (created.chunkSize) chunkSize = Math.min(chunkSize, created.chunkSize);
		options.onCreated?.(id);
	}
	let failures = 0;
	for (;;) {
		options.onProgress?.({ phase: 'uploading', done: offset, total: blob.size });
		const bytes = await blob.slice(offset, Math.min(blob.size, offset + chunkSize)).arrayBuffer();
		let response: Response;
		try {
			response = await http(`/api/uploads/${encodeURIComponent(id)}`, {
				method: 'PATCH',
				headers: {
					'content-type': 'application/offset+octet-stream',
					'upload-offset': String(offset),
					'upload-checksum': `sha256 ${await chunkChecksum(bytes)}`
				},
				body: bytes,
				signal
			});
		} catch (error) {
			if (signal?.aborted || ++failures > (options.retries ?? 5)) throw error;
			await waitToRetry(backoffDelay(failures, 500, 10_000), signal);
			offset = await serverOffset(http, id, signal).catch(() => offset);
			continue;
		}
		if (response.status === 409 || response.status === 423 || response.status >= 500) {
			if (++failures > (options.retries ?? 5)) throw await ApiError.from(response);
			await waitToRetry(backoffDelay(failures, 500, 10_000), signal);
			offset = await serverOffset(http, id, signal);
			continue;
		}
		if (!response.ok) throw await ApiError.from(response);
		failures = 0;
		if (response.status === 201 || response.status === 200) {
			options.onProgress?.({ phase: 'uploading', done: blob.size, total: blob.size });
			return (await response.json()) as T;
		}
		offset = Number(response.headers.get('upload-offset') ?? offset + bytes.byteLength);
	}
}

/** The number of bytes the server holds for an upload. */
async function serverOffset(http: typeof fetch, id: string, signal?: AbortSignal): Promise<number> {
	const response = await http(`/api/uploads/${encodeURIComponent(id)}`, { method: 'HEAD', signal });
	if (!response.ok) throw await ApiError.from(response);
	return Number(response.headers.get('upload-offset'));
}

async function json<T>(http: typeof fetch, url: string, init: RequestInit): Promise<T> {
	const response = await http(url, init);
	if (!response.ok) throw await ApiError.from(response);
	return (await response.json()) as T;
}

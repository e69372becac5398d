import { ApiError } from './api-error';
import { toHex } from './bytes';
import { backoffDelay, waitToRetry } from './backoff';

/** Options of downloadFile. */
export interface DownloadOptions {
	/** Aborts the download: it rejects with the signal's reason (an AbortError) and retries no more. */
	signal?: AbortSignal;
	/** Called as bytes arrive; `received` goes back to 0 if the file changed and the download starts over. */
	onProgress?: (progress: { received: number; total: number | null }) => void;
	/** The fetch to use: pass SvelteKit's from a load function. */
	fetch?: typeof fetch;
	/** Attempts after a broken connection (default 5), with a short backoff; an attempt that brought bytes resets the count. */
	retries?: number;
}

/** What the last whole (200) response said about the file. */
interface Representation {
	/** Strong ETag, the If-Range validator; null when there is none (a resume then starts over). */
	etag: string | null;
	/** Expected SHA-256 in lowercase hex, from Repr-Digest or a 64-hex-digit ETag; null: not verifiable. */
	sha256: string | null;
	type: string;
	total: number | null;
}

/** The bytes so far, of the representation they belong to. */
interface Transfer {
	chunks: Uint8Array<ArrayBuffer>[];
	received: number;
	representation: Representation | null;
}

/** A network failure (fetch or body read rejected): worth another attempt. */
class Broken {
	constructor(readonly error: unknown) {}
}

const RETRY_BASE_MS = 100;
const RETRY_CAP_MS = 2_000;
const CORRUPT = 'The download is corrupt: its SHA-256 does not match';

/**
 * Downloads a file as a Blob: resumes a broken transfer with Range + If-Range from the bytes it has
 * (a changed file is fetched again whole), and checks the SHA-256 (`Repr-Digest`, else a hex ETag)
 * before handing it over; a response with neither is returned unverified. Throws ApiError on a
 * non-2xx answer. The check reads the whole file into memory once (WebCrypto has no incremental hash).
 * @example const blob = await downloadFile('/api/files/42', { onProgress: ({ received, total }) => (done = received / (total ?? 1)) });
 */
export async function downloadFile(url: string, options: DownloadOptions = {}): Promise<Blob> {
	const { signal, onProgress, retries = 5 } = options;
	const transfer: Transfer = { chunks: [], received: 0, representation: null };
	for (let failures = 0; ; ) {
		signal?.throwIfAborted();
		const before = transfer.received;
		try {
			const response = await (options.fetch ?? fetch)(url, { signal, headers: resumeHeaders(transfer) }).catch(
				(error: unknown) => Promise.reject(new Broken(error))
			);
			await accept(response, transfer, onProgress);
			await readBody(response, transfer, onProgress);
			return await verified(transfer);
		} catch (error) {
			if (signal?.aborted) throw signal.reason;
			if (!(error instanceof Broken)) throw error;
			if (isComplete(transfer)) return await verified(transfer);
			failures = transfer.received > before ? 1 : failures + 1;
			if (failures > retries) throw error.error;
			await waitToRetry(backoffDelay(failures - 1, RETRY_BASE_MS, RETRY_CAP_MS), signal);
		}
	}
}

function resumeHeaders({ representation, received }: Transfer): Record<string, string> {
	const etag = representation?.etag;
	return etag ? { range: `bytes=${received}-`, 'if-range': etag } : {};
}

/** Takes in a response's headers: 200 starts over, 206 must continue exactly where the bytes end. */
async function accept(response: Response, transfer: Transfer, onProgress: DownloadOptions['onProgress']): Promise<void> {
	if (!response.ok) throw await ApiError.from(response);
	const current = transfer.representation;
	if (response.status === 200) {
		const representation = representationOf(response.headers);
		Object.assign(transfer, { chunks: [], received: 0, representation });
		onProgress?.({ received: 0, total: representation.total });
		return;
	}
	const range = /^bytes (\d+)-(\d+)\/(\d+)$/.exec(response.headers.get('content-range')?.trim() ?? '');
	const etag = response.headers.get('etag');
	const fits =
		response.status === 206 && current !== null && range !== null && Number(range[1]) === transfer.received &&
		Number(range[2]) === Number(range[3]) - 1 && (current.total ?? Number(range[3])) === Number(range[3]) &&
		(etag === null || etag === current.etag);
	if (!fits || !range || !current) {
		await response.body?.cancel().catch(() => {});
		throw new Error(`The server answered a download with ${response.status} ${response.headers.get('content-range') ?? ''}`.trim());
	}
	current.total = Number(range[3]);
}

function representationOf(headers: Headers): Representation {
	const tag = headers.get('etag');
	const etag = tag && !tag.startsWith('W/') ? tag : null;
	const encoded = (headers.get('content-encoding') ?? 'identity').toLowerCase() !== 'identity';
	const length = headers.get('content-length');
	const total = !encoded && length !== null && /^\d+$/.test(length) ? Number(length) : null;
	return { etag, sha256: expectedSha256(headers.get('repr-digest'), etag), type: headers.get('content-type') ?? '', total };
}

/** The `sha-256` member of a Repr-Digest (base64) as hex, else the ETag when it is 64 hex digits. */
function expectedSha256(reprDigest: string | null, etag: string | null): string | null {
	const digest = /(?:^|,)\s*sha-256\s*=\s*:([A-Za-z0-9+/]+={0,2}):/i.exec(reprDigest ?? '');
	if (digest) {
		const binary = atob(digest[1]);
		if (binary.length === 32) return toHex(Uint8Array.from(binary, (char) => char.charCodeAt(0)));
	}
	const hexTag = /^"([0-9a-f]{64})"$/i.exec(etag ?? '');
	return hexTag ? hexTag[1].toLowerCase() : null;
}

async function readBody(response: Response, transfer: Transfer, onProgress: DownloadOptions['onProgress']): Promise<void> {
	if (!response.body) return;
	const reader = response.body.getReader();
	for (;;) {
		const result = await reader.read().catch((error: unknown) => Promise.reject(new Broken(error)));
		if (result.done) break;
		transfer.chunks.push(result.value);
		transfer.received += result.value.byteLength;
		onProgress?.({ received: transfer.received, total: transfer.representation?.total ?? null });
	}
	const total = transfer.representation?.total;
	if (total != null && transfer.received < total) throw new Broken(new Error('The download ended early'));
}

function isComplete({ representation, received }: Transfer): boolean {
	return representation?.total != null && received === representation.total;
}

/** The Blob, once its SHA-256 matches the expected one (when there is one). */
async function verified({ chunks, representation }: Transfer): Promise<Blob> {
	const blob = new Blob(chunks, { type: representation?.type ?? '' });
	const expected = representation?.sha256;
	if (!expected) return blob;
	const actual = toHex(new Uint8Array(await crypto.subtle.digest('SHA-256', await blob.arrayBuffer())));
	if (actual !== expected) throw new Error(CORRUPT);
	return blob;
}



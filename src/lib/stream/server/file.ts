import { constants } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { multipartBody, rangeBody, type FileBody } from './file-body';
import { representationHeaders, safeContentType, type FileSource } from './file-headers';
import { isNotModified, selectRanges, type RangeSelection } from './file-range';
import { errorResponse } from './errors';
import type { FileResponse } from './types';

export type { FileSource } from './file-headers';

const ALLOW = 'GET, HEAD';
// Never through a symlink (ELOOP), and never block on a FIFO or a device put where a file should be.
const OPEN_FLAGS = constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK;
const UNAVAILABLE = 'This file is no longer available.';

/**
 * Opens the stored file once, without following a symlink, and checks what was opened (a regular
 * file of the recorded size) on the open handle, which is then what gets served: nothing can swap
 * the path between the check and the read. A string says why not.
 */
async function openStored(source: FileSource): Promise<{ handle: FileHandle; modified: Date } | string> {
	let handle: FileHandle;
	try {
		handle = await open(source.path, OPEN_FLAGS);
	} catch (error) {
		if (['ENOENT', 'ELOOP', 'ENOTDIR'].includes((error as NodeJS.ErrnoException).code ?? '')) return UNAVAILABLE;
		throw error;
	}
	const stats = await handle.stat().catch(async (error) => (await handle.close(), Promise.reject(error)));
	if (!stats.isFile()) {
		await handle.close();
		return UNAVAILABLE;
	}
	if (stats.size === source.size) return { handle, modified: source.modified ?? stats.mtime };
	await handle.close();
	throw new Error(`Stored file ${source.path} has ${stats.size} bytes, its record says ${source.size}.`);
}

/**
 * Answers GET or HEAD with a stored file as a download, per RFC 9110: strong ETag from the SHA-256,
 * `Repr-Digest`, 304 for If-None-Match, `Range` (one range: 206; several: `multipart/byteranges`;
 * invalid: ignored; unsatisfiable: 416) guarded by `If-Range`, and headers that keep the browser
 * from rendering it as our page. The file is opened once without following symlinks, served from
 * that handle in 1 MiB reads, and closed if the client leaves; a symlink or anything but a regular
 * file is 404.
 * @example
 * export const GET = async ({ request, params, locals }) => file(request, await files.open(locals.user, params.id));
 */
export async function file(request: Request, source: FileSource): Promise<FileResponse> {
	const method = request.method.toUpperCase();
	if (method !== 'GET' && method !== 'HEAD') return errorResponse(405, `${method} is not allowed here; use GET.`, { headers: { allow: ALLOW } }) as FileResponse;
	const opened = await openStored(source);
	if (typeof opened === 'string') return errorResponse(404, opened) as FileResponse;
	const { handle } = opened;
	let headers: Headers;
	try {
		headers = representationHeaders({ ...source, modified: opened.modified });
	} catch (error) {
		await handle.close();
		throw error;
	}
	const validators = { etag: headers.get('etag')!, lastModified: headers.get('last-modified')! };
	if (isNotModified(request.headers, validators)) {
		await handle.close();
		return new Response(null, { status: 304, headers }) as FileResponse;
	}
	const type = safeContentType(source.type);
	const selection: RangeSelection =
		method === 'GET' ? selectRanges(request.headers, source.size, validators) : { kind: 'whole' };
	if (selection.kind === 'unsatisfiable') {
		await handle.close();
		headers.set('content-range', `bytes */${source.size}`);
		return new Response(null, { status: 416, headers }) as FileResponse;
	}
	const status = selection.kind === 'ranges' ? 206 : 200;
	if (method === 'HEAD') {
		await handle.close();
		headers.set('content-type', type);
		headers.set('content-length', String(source.size));
		return new Response(null, { status, headers }) as FileResponse;
	}
	const body = bodyOf(handle, selection, source.size, request.signal, type);
	if (selection.kind === 'ranges' && selection.ranges.length === 1) {
		const [{ start, end }] = selection.ranges;
		headers.set('content-range', `bytes ${start}-${end}/${source.size}`);
	}
	headers.set('content-type', body.type);
	headers.set('content-length', String(body.length));
	return new Response(body.stream, { status, headers }) as FileResponse;
}

function bodyOf(handle: FileHandle, selection: RangeSelection, size: number, signal: AbortSignal, type: string): FileBody {
	if (selection.kind !== 'ranges') return rangeBody(handle, { start: 0, end: size - 1 }, signal, type);
	if (selection.ranges.length === 1) return rangeBody(handle, selection.ranges[0], signal, type);
	return multipartBody(handle, selection.ranges, size, signal, type);
}

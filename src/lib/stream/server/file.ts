import { open, type FileHandle } from 'node:fs/promises';
import { multipartBody, rangeBody, type FileBody } from './file-body';
import { representationHeaders, safeContentType, type FileSource } from './file-headers';
import { isNotModified, selectRanges, type RangeSelection } from './file-range';
import { errorResponse } from './errors';
import type { FileResponse } from './types';

export type { FileSource } from './file-headers';

const ALLOW = 'GET, HEAD';

/** Opens the stored file and checks it still has its recorded size; a string says why not. */
async function openStored(source: FileSource): Promise<FileHandle | string> {
	let handle: FileHandle;
	try {
		handle = await open(source.path, 'r');
	} catch (error) {
		if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 'This file is no longer available.';
		throw error;
	}
	const { size } = await handle.stat().catch(async (error) => (await handle.close(), Promise.reject(error)));
	if (size === source.size) return handle;
	await handle.close();
	throw new Error(`Stored file ${source.path} has ${size} bytes, its record says ${source.size}.`);
}

/**
 * Answers GET or HEAD with a stored file as a download, per RFC 9110: strong ETag from the SHA-256,
 * `Repr-Digest`, 304 for If-None-Match, `Range` (one range: 206; several: `multipart/byteranges`;
 * invalid: ignored; unsatisfiable: 416) guarded by `If-Range`, and headers that keep the browser
 * from rendering it as our page. The file is read in 1 MiB chunks and closed if the client leaves.
 * @example
 * export const GET = async ({ request, params, locals }) => file(request, await files.open(locals.user, params.id));
 */
export async function file(request: Request, source: FileSource): Promise<FileResponse> {
	const method = request.method.toUpperCase();
	if (method !== 'GET' && method !== 'HEAD') return errorResponse(405, `${method} is not allowed here; use GET.`, { headers: { allow: ALLOW } }) as FileResponse;
	const headers = representationHeaders(source);
	const validators = { etag: headers.get('etag')!, lastModified: headers.get('last-modified')! };
	const handle = await openStored(source);
	if (typeof handle === 'string') return errorResponse(404, handle) as FileResponse;
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

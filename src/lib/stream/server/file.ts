import type { IncomingMessage, ServerResponse } from 'node:http';
import { FilePieces, multipartBody, rangeBody, type FileBody } from './file-body';
import { representationHeaders, safeContentType, type FileSource } from './file-headers';
import { isNotModified, selectRanges, type HeaderSource, type RangeSelection } from './file-range';
import { markDirectBody } from './node-body';
import { OpenFile } from './open-file';
import type { FileResponse } from './types';

export type { FileSource } from './file-headers';

const ALLOW = 'GET, HEAD';
const UNAVAILABLE = 'This file is no longer available.';

/**
 * Opens the stored file once, without following a symlink, and checks what was opened (a regular
 * file of the recorded size) on the open descriptor, which is then what gets served: nothing can
 * swap the path between the check and the read. A string says why not.
 */
function openStored(source: FileSource): { file: OpenFile; modified: Date } | string {
	const opened = OpenFile.open(source.path);
	if (!opened) return UNAVAILABLE;
	const { stats } = opened;
	if (!stats.isFile()) {
		opened.close();
		return UNAVAILABLE;
	}
	if (stats.size === source.size) return { file: opened, modified: source.modified ?? stats.mtime };
	opened.close();
	throw new Error(`Stored file ${source.path} has ${stats.size} bytes, its record says ${source.size}.`);
}

/** What fileAnswer() reads of a request: a web Request, or a node request through nodeFileRequest(). */
export interface FileRequest {
	method: string;
	headers: HeaderSource;
	/** Aborts when the client goes away (the direct path watches the socket instead). */
	signal?: AbortSignal;
}

/** A download's answer before it is a Response or written to a socket: a JSON error text, the file's pieces, or no body. */
export interface FileAnswer {
	status: number;
	headers: Record<string, string>;
	body: FilePieces | string | null;
}

/**
 * The `{"error": …}` answer of errorResponse(), as a FileAnswer.
 * @example await sendFileAnswer(res, errorAnswer(404, 'No such file.'));
 */
export function errorAnswer(status: number, message: string, headers: Record<string, string> = {}): FileAnswer {
	return { status, headers: { ...headers, 'content-type': 'application/json', 'cache-control': 'no-store' }, body: JSON.stringify({ error: message }) };
}

/**
 * Answers GET or HEAD with a stored file as a download, per RFC 9110: strong ETag from the SHA-256,
 * `Repr-Digest`, 304 for If-None-Match, `Range` (one range: 206; several: `multipart/byteranges`;
 * invalid: ignored; unsatisfiable: 416) guarded by `If-Range`, and headers that keep the browser
 * from rendering it as our page. The file is opened once without following symlinks, served from
 * that descriptor in 1 MiB reads, and closed if the client leaves; a symlink or anything but a
 * regular file is 404. fileResponse() makes it a Response; the production server writes it to the
 * socket itself (node-level.ts), with pooled read buffers.
 * @example const answer = fileAnswer(request, await files.open(user, id));
 */
export function fileAnswer(request: FileRequest, source: FileSource): FileAnswer {
	const method = request.method.toUpperCase();
	if (method !== 'GET' && method !== 'HEAD') return errorAnswer(405, `${method} is not allowed here; use GET.`, { allow: ALLOW });
	const opened = openStored(source);
	if (typeof opened === 'string') return errorAnswer(404, opened);
	const { file: handle } = opened;
	let headers: Record<string, string>;
	try {
		headers = representationHeaders({ ...source, modified: opened.modified });
	} catch (error) {
		handle.close();
		throw error;
	}
	const validators = { etag: headers.etag, lastModified: headers['last-modified'] };
	if (isNotModified(request.headers, validators)) {
		handle.close();
		return { status: 304, headers, body: null };
	}
	const type = safeContentType(source.type);
	const selection: RangeSelection =
		method === 'GET' ? selectRanges(request.headers, source.size, validators) : { kind: 'whole' };
	if (selection.kind === 'unsatisfiable') {
		handle.close();
		headers['content-range'] = `bytes */${source.size}`;
		return { status: 416, headers, body: null };
	}
	const status = selection.kind === 'ranges' ? 206 : 200;
	if (method === 'HEAD') {
		handle.close();
		headers['content-type'] = type;
		headers['content-length'] = String(source.size);
		return { status, headers, body: null };
	}
	const body = bodyOf(handle, selection, source.size, request.signal, type);
	if (selection.kind === 'ranges' && selection.ranges.length === 1) {
		const [{ start, end }] = selection.ranges;
		headers['content-range'] = `bytes ${start}-${end}/${source.size}`;
	}
	headers['content-type'] = body.type;
	headers['content-length'] = String(body.length);
	return { status, headers, body: body.pieces };
}

/**
 * A FileAnswer as a Response; its pieces stay marked so writeResponse() can still write them itself.
 * @example return fileResponse(fileAnswer(request, source));
 */
export function fileResponse(answer: FileAnswer): FileResponse {
	const { status, headers, body } = answer;
	if (!(body instanceof FilePieces)) return new Response(body, { status, headers }) as FileResponse;
	return markDirectBody(new Response(body.toReadableStream(), { status, headers }), body) as FileResponse;
}

/**
 * The file download response for a request: fileAnswer() as a Response.
 * @example
 * export const GET = async ({ request, params, locals }) => file(request, await files.open(locals.user, params.id));
 */
export async function file(request: Request, source: FileSource): Promise<FileResponse> {
	return fileResponse(fileAnswer(request, source));
}

/**
 * Writes a FileAnswer to a node response, `extra` headers first (the answer's own win); the file's
 * pieces write themselves. Resolves when the body is written or the client went away.
 * @example await sendFileAnswer(res, fileAnswer(nodeFileRequest(req), source), SECURITY_HEADERS);
 */
export async function sendFileAnswer(res: ServerResponse, answer: FileAnswer, extra: Record<string, string> = {}): Promise<void> {
	const { status, headers, body } = answer;
	if (typeof body === 'string') {
		const bytes = Buffer.from(body);
		res.writeHead(status, { ...extra, ...headers, 'content-length': String(bytes.length) }).end(bytes);
	} else if (body) {
		res.writeHead(status, { ...extra, ...headers });
		await body.writeTo(res);
	} else {
		body satisfies null;
		res.writeHead(status, { ...extra, ...headers }).end();
	}
}

/**
 * A node request as a FileRequest: its method and a header reader (repeated headers joined).
 * @example fileAnswer(nodeFileRequest(req), source)
 */
export function nodeFileRequest(req: IncomingMessage): FileRequest {
	return {
		method: req.method ?? 'GET',
		headers: {
			get(name) {
				const value = req.headers[name];
				return value === undefined ? null : Array.isArray(value) ? value.join(', ') : value;
			}
		}
	};
}

function bodyOf(handle: OpenFile, selection: RangeSelection, size: number, signal: AbortSignal | undefined, type: string): FileBody {
	if (selection.kind !== 'ranges') return rangeBody(handle, { start: 0, end: size - 1 }, signal, type);
	if (selection.ranges.length === 1) return rangeBody(handle, selection.ranges[0], signal, type);
	return multipartBody(handle, selection.ranges, size, signal, type);
}

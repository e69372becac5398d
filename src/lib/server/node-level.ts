// What the production server answers at the node level, without adapter-node's Request/Response
// conversion: event streams, which SvelteKit still routes (hooks, +server.ts) but whose SseStream
// writes to the socket itself (no AbortController, reader or web stream kept per connection); and
// file downloads, answered here outright (session, access, file()), which SvelteKit's per-request
// cost would make slower than a plain static file server.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { errorAnswer, fileAnswer, nodeFileRequest, sendFileAnswer } from '$lib/stream/server/file';
import { GENERIC_ERROR } from '$lib/stream/server/errors';
import { writeResponse } from '$lib/stream/server/node-body';
import * as accounts from './accounts';
import { HttpError } from './errors';
import * as files from './files';
import { SECURITY_HEADERS, SIGN_IN_FIRST } from './http';
import { readCookie } from './realtime/handshake';

/** SvelteKit's respond() as the adapter calls it (`Server.respond` of the build). */
export type Respond = (request: Request, options: { platform: { req: IncomingMessage }; getClientAddress: () => string }) => Promise<Response>;

/** True for a GET that asks for `text/event-stream` (EventSource and our client always do). */
export function isEventStreamRequest(req: IncomingMessage): boolean {
	return req.method === 'GET' && (req.headers.accept ?? '').includes('text/event-stream');
}

/** A file download's path, its id captured: /api/files/:id/download, with or without a query. */
const DOWNLOAD = /^\/api\/files\/([^/?]+)\/download(?:\?|$)/;

/**
 * The file id of a GET or HEAD of a download (`/api/files/:id/download`), else null.
 * @example const id = downloadIdOf(req); if (id !== null) return void answerDownload(id, req, res);
 */
export function downloadIdOf(req: IncomingMessage): string | null {
	if (req.method !== 'GET' && req.method !== 'HEAD') return null;
	const match = DOWNLOAD.exec(req.url ?? '');
	if (!match) return null;
	try {
		return decodeURIComponent(match[1]);
	} catch {
		return ''; // malformed escapes: no such file
	}
}

/**
 * Answers GET or HEAD /api/files/:id/download as the route and hooks.server.ts would, without
 * SvelteKit: 401 without a session, then files.openForDownload() (404 unless the user may see it)
 * and file()'s answer, with the security headers. The body writes itself to the socket in pooled
 * buffers. An unexpected failure is a 500 and is thrown on for the log.
 * @example const id = downloadIdOf(req); if (id !== null) return void answerDownload(id, req, res);
 */
export async function answerDownload(id: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
	const request = nodeFileRequest(req);
	try {
		const user = await accounts.authenticate(readCookie(req.headers.cookie, accounts.SESSION_COOKIE));
		if (!user) return await sendFileAnswer(res, errorAnswer(401, SIGN_IN_FIRST), SECURITY_HEADERS);
		await sendFileAnswer(res, fileAnswer(request, await files.openForDownload(user, id, request)), SECURITY_HEADERS);
	} catch (error) {
		if (res.headersSent) return void res.destroy();
		if (error instanceof HttpError) return await sendFileAnswer(res, errorAnswer(error.status, error.message), SECURITY_HEADERS);
		await sendFileAnswer(res, errorAnswer(500, GENERIC_ERROR), SECURITY_HEADERS);
		throw error;
	}
}

/** One header's value, as adapter-node reads it (a repeated header is refused). */
function header(req: IncomingMessage, name: string): string | undefined {
	if (!name) return undefined;
	const value = req.headers[name];
	if (Array.isArray(value)) throw new Error(`Multiple values provided for ${name} header where only one expected`);
	return value;
}

/** The request's origin the way adapter-node computes it: ORIGIN, else PROTOCOL_HEADER, HOST_HEADER and PORT_HEADER. */
export function originOf(req: IncomingMessage, env: NodeJS.ProcessEnv = process.env): string {
	if (env.ORIGIN) return new URL(env.ORIGIN).origin;
	const protocol = decodeURIComponent(header(req, (env.PROTOCOL_HEADER ?? '').toLowerCase()) || 'https');
	if (protocol.includes(':')) throw new Error(`The protocol header specified ${protocol}, which includes ':'`);
	const host = header(req, (env.HOST_HEADER ?? '').toLowerCase()) || header(req, 'host');
	if (!host) throw new Error('Could not determine host');
	const port = header(req, (env.PORT_HEADER ?? '').toLowerCase());
	if (port && isNaN(+port)) throw new Error(`The port header specified ${port}, which is not a number`);
	return port ? `${protocol}://${host}:${port}` : `${protocol}://${host}`;
}

/** The client's address the way adapter-node reads it: ADDRESS_HEADER (with XFF_DEPTH), else the socket's. */
export function clientAddressOf(req: IncomingMessage, env: NodeJS.ProcessEnv = process.env): string {
	const name = (env.ADDRESS_HEADER ?? '').toLowerCase();
	if (!name) return req.socket.remoteAddress ?? '';
	const value = header(req, name);
	if (value === undefined) throw new Error(`Address header was specified with ADDRESS_HEADER=${name} but is absent from request`);
	if (name !== 'x-forwarded-for') return value;
	const addresses = value.split(',');
	const depth = parseInt(env.XFF_DEPTH ?? '1');
	if (!(depth >= 1) || depth > addresses.length) throw new Error(`XFF_DEPTH is ${depth}, but only found ${addresses.length} addresses`);
	return addresses[addresses.length - depth].trim();
}

/**
 * Answers an event-stream request with SvelteKit's `respond`: a Request without an AbortSignal of
 * its own (the stream ends when the socket closes), and the Response written by writeResponse(),
 * which hands an sse() body to the socket directly.
 * @example if (isEventStreamRequest(req)) return void answerEventStream(server.respond.bind(server), req, res);
 */
export async function answerEventStream(respond: Respond, req: IncomingMessage, res: ServerResponse): Promise<void> {
	let request: Request;
	try {
		request = new Request(originOf(req) + req.url, { headers: Object.entries(req.headers) as [string, string][] });
	} catch {
		res.writeHead(400).end('Bad Request');
		return;
	}
	try {
		await writeResponse(res, await respond(request, { platform: { req }, getClientAddress: () => clientAddressOf(req) }));
	} catch (error) {
		if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' });
		res.end();
		throw error;
	}
}

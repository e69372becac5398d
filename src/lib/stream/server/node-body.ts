// Bodies that a node server writes to the socket themselves: sse()'s SseStream and file()'s FilePieces.
import type { ServerResponse } from 'node:http';

// Symbol.for: the app's bundle and server.ts's bundle each hold a copy of this module.
const BODY = Symbol.for('runnel.direct.body');

/** The part of a node ServerResponse that a direct body writes to. */
export interface BodySink {
	readonly destroyed: boolean;
	write(chunk: Uint8Array, callback?: (error?: Error | null) => void): boolean;
	end(chunk?: Uint8Array): unknown;
	destroy(error?: Error): unknown;
	once(event: 'close' | 'drain', listener: () => void): unknown;
	off(event: 'close' | 'drain', listener: () => void): unknown;
}

/** A response body that can write itself to a node response, bypassing its web ReadableStream. */
export interface DirectBody {
	/** Stops watching the request's signal: the socket's close is watched from here on. */
	detachSignal(): void;
	/** Writes the body (the headers are out); resolves once handed over (a stream may go on after). */
	writeTo(res: BodySink): void | Promise<void>;
}

type Marked = Response & { [BODY]?: DirectBody };

/** Remembers on a response the direct body behind its web stream. */
export function markDirectBody(response: Response, body: DirectBody): Response {
	(response as Marked)[BODY] = body;
	return response;
}

/** The direct body behind a response whose web stream nobody has touched, else undefined. */
function untouchedBody(response: Response): DirectBody | undefined {
	const body = (response as Marked)[BODY];
	return body && !response.bodyUsed && !response.body?.locked ? body : undefined;
}

/**
 * Lets `setResponse()` of `@sveltejs/kit/node` (adapter-node, and Vite in dev) read an sse()
 * response straight from its SseStream, which is a pull reader itself: no web ReadableStream,
 * reader or request-signal listener stays behind per idle connection; setResponse cancels the
 * stream when the socket closes. Any other response, or one whose body was touched, is returned as
 * it is (a file download is read through its web stream there).
 * @example const response = await resolve(event); return forSetResponse(response);
 */
export function forSetResponse(response: Response): Response {
	const body = untouchedBody(response);
	if (!body || !('getReader' in body)) return response;
	body.detachSignal();
	Object.defineProperty(response, 'body', { value: body, configurable: true });
	return response;
}

/**
 * Writes a response to a node ServerResponse: a direct body (an event stream, a file download)
 * by itself, anything else by reading its web body, with backpressure. Resolves once the body is
 * handed over (an event stream goes on in the background).
 * @example await writeResponse(res, await server.respond(request, options));
 */
export async function writeResponse(res: ServerResponse, response: Response): Promise<void> {
	const headers: Record<string, string | string[]> = {};
	response.headers.forEach((value, name) => (headers[name] = value));
	if (response.headers.has('set-cookie')) headers['set-cookie'] = response.headers.getSetCookie();
	res.writeHead(response.status, headers);
	const body = untouchedBody(response);
	if (body) return body.writeTo(res);
	if (!response.body) return void res.end();
	const reader = response.body.getReader();
	const cancel = () => void reader.cancel().catch(() => {});
	res.once('close', cancel);
	try {
		for (let result = await reader.read(); !result.done; result = await reader.read()) {
			if (res.destroyed) break;
			if (!res.write(result.value)) await drained(res);
		}
		res.end();
	} catch (error) {
		res.destroy(error as Error);
	} finally {
		res.off('close', cancel);
	}
}

/**
 * Resolves when `res` drains or closes, leaving no listener behind.
 * @example if (!res.write(chunk)) await drained(res);
 */
export function drained(res: BodySink): Promise<void> {
	return new Promise((resolve) => {
		if (res.destroyed) return resolve();
		const done = () => {
			res.off('drain', done);
			res.off('close', done);
			resolve();
		};
		res.once('drain', done);
		res.once('close', done);
	});
}

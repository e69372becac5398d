// The node paths of sse(): a server hands the SseStream behind a response to the socket itself.
import type { ServerResponse } from 'node:http';
import type { SseStream } from './sse-stream';

// Symbol.for: the app's bundle and server.ts's bundle each hold a copy of this module.
const STREAM = Symbol.for('runnel.sse.stream');

type Marked = Response & { [STREAM]?: SseStream };

/** Remembers on a response of sse() the stream behind its body. */
export function markEventStream(response: Response, stream: SseStream): Response {
	(response as Marked)[STREAM] = stream;
	return response;
}

/** The SseStream behind a response of sse() whose body nobody has touched, else undefined. */
function untouchedStream(response: Response): SseStream | undefined {
	const stream = (response as Marked)[STREAM];
	return stream && !response.bodyUsed && !response.body?.locked ? stream : undefined;
}

/**
 * Lets `setResponse()` of `@sveltejs/kit/node` (adapter-node, and Vite in dev) read a response of
 * sse() straight from its SseStream: no web ReadableStream, reader or request-signal listener
 * stays behind per idle connection; setResponse cancels the stream when the socket closes. Any
 * other response, or one whose body was already touched, is returned as it is.
 * @example const response = await resolve(event); return forSetResponse(response);
 */
export function forSetResponse(response: Response): Response {
	const stream = untouchedStream(response);
	if (!stream) return response;
	stream.detachSignal();
	Object.defineProperty(response, 'body', { value: stream, configurable: true });
	return response;
}

/**
 * Writes a response to a node ServerResponse: a response of sse() by its SseStream itself
 * (SseStream.writeTo), anything else by reading its body, with backpressure. Resolves once the
 * body is handed over (an event stream goes on in the background).
 * @example await writeResponse(res, await server.respond(request, options));
 */
export async function writeResponse(res: ServerResponse, response: Response): Promise<void> {
	const headers: Record<string, string | string[]> = {};
	response.headers.forEach((value, name) => (headers[name] = value));
	if (response.headers.has('set-cookie')) headers['set-cookie'] = response.headers.getSetCookie();
	res.writeHead(response.status, headers);
	const stream = untouchedStream(response);
	if (stream) return stream.writeTo(res);
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

/** Resolves when `res` drains or closes, leaving no listener behind. */
function drained(res: ServerResponse): Promise<void> {
	return new Promise((resolve) => {
		if (res.destroyed) return resolve();
		const done = () => {
			res.off('drain', done).off('close', done);
			resolve();
		};
		res.on('drain', done).on('close', done);
	});
}

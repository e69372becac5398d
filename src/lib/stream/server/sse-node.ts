// The light path of sse(): the server hands setResponse() the event stream itself, not a web ReadableStream.
import type { EventStream } from './sse-stream';

// Symbol.for: the app's bundle and server.ts's bundle each hold a copy of this module.
const STREAM = Symbol.for('runnel.sse.stream');

type Marked = Response & { [STREAM]?: EventStream };

/** Remembers on a response of sse() the stream behind its body. */
export function markEventStream(response: Response, stream: EventStream): Response {
	(response as Marked)[STREAM] = stream;
	return response;
}

/**
 * Lets `setResponse()` of `@sveltejs/kit/node` (adapter-node, and Vite in dev) read a response of
 * sse() straight from its EventStream: no web ReadableStream, reader or request-signal listener
 * stays behind per idle connection; setResponse cancels the stream when the socket closes. Any
 * other response, or one whose body was already touched, is returned as it is.
 * @example const response = await resolve(event); return forSetResponse(response);
 */
export function forSetResponse(response: Response): Response {
	const stream = (response as Marked)[STREAM];
	if (!stream || response.bodyUsed || response.body?.locked) return response;
	stream.detachSignal();
	Object.defineProperty(response, 'body', { value: stream, configurable: true });
	return response;
}

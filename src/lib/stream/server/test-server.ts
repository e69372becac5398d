// Test utility: serves a fetch-style handler on node:http the way adapter-node does in production.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { getRequest, setResponse } from '@sveltejs/kit/node';
import { forSetResponse, writeResponse } from './node-body';

/** A running test server. */
export interface TestServer {
	/** Base URL, e.g. http://127.0.0.1:41234 */
	url: string;
	/** Stops listening and drops open connections. */
	close(): Promise<void>;
}

function toRequest(req: IncomingMessage, res: ServerResponse, base: string): Request {
	const aborted = new AbortController();
	res.on('close', () => {
		if (!res.writableFinished) aborted.abort();
	});
	const headers = new Headers();
	for (const [name, value] of Object.entries(req.headers)) {
		for (const one of Array.isArray(value) ? value : [value ?? '']) headers.append(name, one);
	}
	const hasBody = req.method !== 'GET' && req.method !== 'HEAD';
	return new Request(base + req.url, {
		method: req.method,
		headers,
		signal: aborted.signal,
		body: hasBody ? (Readable.toWeb(req) as ReadableStream<Uint8Array>) : undefined,
		// @ts-expect-error Node's fetch needs duplex for a streamed body; lib.dom does not know it.
		duplex: 'half'
	});
}

async function send(res: ServerResponse, response: Response): Promise<void> {
	const headers: Record<string, string | string[]> = {};
	response.headers.forEach((value, name) => (headers[name] = value));
	if (response.headers.has('set-cookie')) headers['set-cookie'] = response.headers.getSetCookie();
	res.writeHead(response.status, headers);
	if (!response.body) return void res.end();
	const reader = response.body.getReader();
	const closed = new Promise<void>((resolve) => res.once('close', resolve));
	void closed.then(() => reader.cancel().catch(() => {}));
	try {
		for (;;) {
			const result = await reader.read();
			if (result.done || res.destroyed) break;
			if (!res.write(result.value)) await Promise.race([new Promise((resolve) => res.once('drain', resolve)), closed]);
		}
		res.end();
	} catch (error) {
		res.destroy(error as Error);
	}
}

type Handler = (request: Request) => Response | Promise<Response>;

/** Runs `handler` for one node request, the way `serve` or `serveLikeProduction` does. */
type Adapter = (req: IncomingMessage, res: ServerResponse, base: string, handler: Handler) => Promise<void>;

const webBody: Adapter = async (req, res, base, handler) => send(res, await handler(toRequest(req, res, base)));

// adapter-node's getRequest/setResponse, with hooks.server.ts's forSetResponse() between (dev, and clients without Accept).
const throughSetResponse: Adapter = async (req, res, base, handler) =>
	setResponse(res, forSetResponse(await handler(await getRequest({ request: req, base }))));

// What the production server does with event streams and downloads (node-level.ts): no signal, writeResponse().
const atNodeLevel: Adapter = async (req, res, base, handler) =>
	writeResponse(res, await handler(new Request(base + req.url, { headers: Object.entries(req.headers) as [string, string][] })));

/**
 * Serves `handler` at 127.0.0.1 on a free port; the Request's signal aborts when the client goes
 * away and the Response body is read as a web stream and written with backpressure.
 * @example const server = await serve((request) => sse(request, source)); await fetch(server.url);
 */
export function serve(handler: Handler): Promise<TestServer> {
	return listen(handler, webBody);
}

/**
 * Serves `handler` through `getRequest`/`setResponse` of `@sveltejs/kit/node` and forSetResponse(),
 * as adapter-node and Vite do with hooks.server.ts: sse() responses are read without a web stream.
 * @example const server = await serveThroughSetResponse((request) => sse(request, source));
 */
export function serveThroughSetResponse(handler: Handler): Promise<TestServer> {
	return listen(handler, throughSetResponse);
}

/**
 * Serves `handler` as the production server answers event streams and downloads: a Request with no
 * signal, and writeResponse(), which lets an sse() body write to the socket itself.
 * @example const server = await serveAtNodeLevel((request) => sse(request, source));
 */
export function serveAtNodeLevel(handler: Handler): Promise<TestServer> {
	return listen(handler, atNodeLevel);
}

/**
 * Serves a node-level handler as is (what the production server does with downloads, see
 * src/lib/server/node-level.ts); a thrown error becomes a 500.
 * @example const server = await serveNode((req, res) => sendFileAnswer(res, fileAnswer(nodeFileRequest(req), source)));
 */
export function serveNode(handler: (req: IncomingMessage, res: ServerResponse) => Promise<void>): Promise<TestServer> {
	return listen(() => new Response(null), (req, res) => handler(req, res));
}

async function listen(handler: Handler, adapter: Adapter): Promise<TestServer> {
	let base = '';
	const server = createServer((req, res) => {
		void (async () => {
			try {
				await adapter(req, res, base, handler);
			} catch (error) {
				if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
				res.end(String(error));
			}
		})();
	});
	await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
	base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
	return {
		url: base,
		close: () =>
			new Promise<void>((resolve, reject) => {
				server.closeAllConnections();
				server.close((error) => (error ? reject(error) : resolve()));
			})
	};
}

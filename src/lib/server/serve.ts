import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { attachRealtime } from './realtime/attach';
import { answerDownload, answerEventStream, downloadIdOf, isEventStreamRequest, type Respond } from './node-level';
import { beginShutdown, closeRuntime, type Runtime } from './runtime';

type Handler = (req: IncomingMessage, res: ServerResponse, next: () => void) => void;

/** The header serve() sets on every request; server.ts points PROTOCOL_HEADER at it. */
export const LOCAL_PROTOCOL_HEADER = 'x-runnel-local-protocol';

const GRACE_MS = 1000;
const HARD_LIMIT_MS = 4500;

/**
 * Serves pages (adapter-node's handler) and Socket.IO from one HTTP server, and drains it on
 * SIGTERM/SIGINT: stop accepting, end streams, close sockets and the store, exit 0 within 5 s.
 * With `respond` (the build's SvelteKit server), event streams skip adapter-node's
 * Request/Response conversion; file downloads are answered without SvelteKit (see node-level.ts).
 */
export async function serve(rt: Runtime, handler: Handler, respond?: Respond): Promise<AddressInfo> {
	const server = createServer((req, res) => {
		// adapter-node assumes https without ORIGIN; tell it what this socket really speaks.
		req.headers[LOCAL_PROTOCOL_HEADER] = 'encrypted' in req.socket ? 'https' : 'http';
		if (respond && isEventStreamRequest(req)) {
			answerEventStream(respond, req, res).catch((error) => rt.log.error({ err: error }, 'event stream request failed'));
			return;
		}
		const download = downloadIdOf(req);
		if (download !== null) {
			answerDownload(download, req, res).catch((error) => rt.log.error({ err: error }, 'download failed'));
			return;
		}
		handler(req, res, () => {
			res.statusCode = 404;
			res.end('Not found');
		});
	});
	server.keepAliveTimeout = 10_000;
	const io = attachRealtime(server, rt);

	let stopping = false;
	const stop = async (signal: string) => {
		if (stopping) return;
		stopping = true;
		rt.log.info({ signal }, 'shutting down');
		setTimeout(() => {
			rt.log.warn('shutdown took too long; exiting');
			process.exit(0);
		}, HARD_LIMIT_MS).unref();
		beginShutdown();
		server.close();
		server.closeIdleConnections();
		await io.close();
		await new Promise((resolve) => setTimeout(resolve, Math.min(GRACE_MS, 200)));
		server.closeAllConnections();
		await closeRuntime();
		rt.log.info('stopped');
		process.exit(0);
	};
	process.once('SIGTERM', () => void stop('SIGTERM'));
	process.once('SIGINT', () => void stop('SIGINT'));

	await new Promise<void>((resolve, reject) => {
		server.once('error', reject);
		server.listen(rt.config.port, rt.config.host, () => resolve());
	});
	const address = server.address() as AddressInfo;
	const shown = rt.config.host === '0.0.0.0' || rt.config.host === '::' ? 'localhost' : rt.config.host;
	rt.log.info({ port: address.port, host: rt.config.host }, `Runnel is listening on http://${shown}:${address.port}`);
	return address;
}

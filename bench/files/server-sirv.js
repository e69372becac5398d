// sirv 3 over the same folder, on a plain node:http server (production mode: files listed at start).
import { createServer } from 'node:http';
import sirv from 'sirv';
import { answer } from '../sse-fanout/ipc.js';

const serveFiles = sirv(process.env.BENCH_DIR, { dev: false, etag: true });
const server = createServer((req, res) =>
	serveFiles(req, res, () => {
		res.writeHead(404, { 'content-length': '0' }).end();
	})
);
await new Promise((resolve) => server.listen({ port: 0, host: '127.0.0.1', backlog: 1024 }, resolve));
answer({ ready: () => ({ port: server.address().port }) });

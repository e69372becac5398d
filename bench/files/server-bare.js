// The Node floor: node:http with `fs.createReadStream(path).pipe(res)` at its default 64 KiB buffer for
// GET, and for POST the body piped into a file (`createWriteStream`), flushed to disk once at the end.
import { createReadStream, createWriteStream } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { answer } from '../sse-fanout/ipc.js';

const dir = process.env.BENCH_DIR;
const server = createServer(async (req, res) => {
	const path = join(dir, decodeURIComponent(new URL(req.url, 'http://x').pathname).replace(/[/\\]/g, ''));
	try {
		if (req.method === 'POST') {
			await pipeline(req, createWriteStream(path, { mode: 0o600 }));
			const handle = await open(path, 'r+');
			await handle.sync();
			await handle.close();
			res.writeHead(201, { 'content-length': '0' }).end();
			return;
		}
		const { size } = await stat(path);
		res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': size });
		createReadStream(path).pipe(res);
	} catch (error) {
		res.writeHead(500, { 'content-type': 'text/plain' }).end(String(error));
	}
});
await new Promise((resolve) => server.listen({ port: 0, host: '127.0.0.1', backlog: 1024 }, resolve));
answer({ ready: () => ({ port: server.address().port }) });

// The load generator (its own process, pinned apart from the servers): downloads, random ranges, uploads.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { Agent, request } from 'node:http';
import { pipeline } from 'node:stream/promises';
import { answer } from '../sse-fanout/ipc.js';
import { Connection } from './client.js';
import { carriesPattern } from './pattern.js';

/** Runs `body` and adds the wall and CPU time it took (ms) to its result. */
async function timed(body) {
	const cpu = process.cpuUsage();
	const start = performance.now();
	const result = await body();
	const used = process.cpuUsage(cpu);
	return { ...result, wallMs: performance.now() - start, cpuMs: (used.user + used.system) / 1000 };
}

/** Checks every piece of a body against the file's pattern, `from` being the body's first file offset. */
function checker(what, from = 0) {
	return (buf, start, n, bodyOffset) => {
		if (!carriesPattern(buf, start, n, from + bodyOffset)) throw new Error(`${what}: wrong bytes at file offset ${from + bodyOffset}`);
	};
}

/** A small fast PRNG (mulberry32): the same seed gives every server the same ranges. */
function random(seed) {
	let state = seed >>> 0;
	return () => {
		state = (state + 0x6d2b79f5) >>> 0;
		let t = state;
		t = Math.imul(t ^ (t >>> 15), t | 1);
		t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
		return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
	};
}

function percentile(sorted, p) {
	return sorted.length ? sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] : NaN;
}

const agent = new Agent({ keepAlive: true, maxSockets: 1 });

/** One node:http request; `body` is a Buffer, a Readable (piped) or nothing. Resolves with status, headers, text. */
function httpCall(port, method, path, headers, body) {
	return new Promise((resolve, reject) => {
		const req = request({ host: '127.0.0.1', port, method, path, headers, agent }, (res) => {
			let text = '';
			res.setEncoding('utf8');
			res.on('data', (chunk) => (text += chunk));
			res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, text }));
		});
		req.on('error', reject);
		if (body === undefined || Buffer.isBuffer(body)) req.end(body);
		else pipeline(body, req).catch(reject);
	});
}

/** SHA-256 of the first `size` bytes of the file, and of each `chunkBytes` piece of them (base64). */
async function hashes(path, size, chunkBytes) {
	const whole = createHash('sha256');
	const digests = [];
	const handle = await open(path, 'r');
	try {
		for (let offset = 0; offset < size; offset += chunkBytes) {
			const { buffer } = await handle.read(Buffer.allocUnsafe(Math.min(chunkBytes, size - offset)), 0, Math.min(chunkBytes, size - offset), offset);
			whole.update(buffer);
			digests.push(createHash('sha256').update(buffer).digest('base64'));
		}
	} finally {
		await handle.close();
	}
	return { sha256: whole.digest('hex'), digests };
}

answer({
	/** One whole GET on a fresh connection, every byte checked against the pattern. */
	download: ({ port, path, headers, size }) =>
		timed(async () => {
			const conn = await Connection.open(port);
			try {
				const { status, length } = await conn.get(path, headers, checker(`GET ${path}`));
				if (status !== 200 || length !== size) throw new Error(`GET ${path}: status ${status}, ${length} bytes (want 200, ${size})`);
				return { bytes: length };
			} finally {
				conn.close();
			}
		}),

	/** `connections` keep-alive connections each asking for random `rangeBytes` ranges until `ms` passed. */
	ranges: ({ port, path, headers, size, connections, ms, rangeBytes, seed }) =>
		timed(async () => {
			const conns = await Promise.all(Array.from({ length: connections }, () => Connection.open(port)));
			const latencies = [];
			let bytes = 0;
			const end = performance.now() + ms;
			const loop = async (conn, next) => {
				while (performance.now() < end) {
					const start = Math.floor(next() * (size - rangeBytes + 1));
					const last = start + rangeBytes - 1;
					const sent = performance.now();
					const answer = await conn.get(path, { ...headers, range: `bytes=${start}-${last}` }, checker(`range ${start}-${last}`, start));
					if (answer.status !== 206 || answer.length !== rangeBytes || answer.headers.get('content-range') !== `bytes ${start}-${last}/${size}`) {
						throw new Error(`range ${start}-${last}: status ${answer.status}, ${answer.length} bytes, content-range ${answer.headers.get('content-range')}`);
					}
					const done = performance.now();
					if (done <= end) {
						latencies.push(done - sent);
						bytes += answer.length;
					}
				}
			};
			try {
				await Promise.all(conns.map((conn, i) => loop(conn, random(seed + i))));
			} finally {
				for (const conn of conns) conn.close();
			}
			latencies.sort((a, b) => a - b);
			return { requests: latencies.length, bytes, windowMs: ms, p50: percentile(latencies, 50), p99: percentile(latencies, 99) };
		}),

	/**
	 * The first `size` bytes of the file through Runnel's upload protocol: POST, then PATCHes of
	 * `chunkBytes` with their Upload-Checksum. The SHA-256s are computed before the clock starts.
	 */
	async uploadRunnel({ port, cookie, path, size, chunkBytes, name }) {
		const { sha256, digests } = await hashes(path, size, chunkBytes);
		const handle = await open(path, 'r');
		try {
			return await timed(async () => {
				const created = await httpCall(port, 'POST', '/api/uploads', { cookie, 'content-type': 'application/json' }, Buffer.from(JSON.stringify({ name, size, sha256 })));
				if (created.status !== 201) throw new Error(`POST /api/uploads: ${created.status} ${created.text}`);
				const { id, chunkSize } = JSON.parse(created.text);
				if (chunkBytes > chunkSize) throw new Error(`the server takes chunks of at most ${chunkSize} bytes, not ${chunkBytes}`);
				let last;
				for (let offset = 0, i = 0; offset < size; offset += chunkBytes, i++) {
					const length = Math.min(chunkBytes, size - offset);
					const { buffer } = await handle.read(Buffer.allocUnsafe(length), 0, length, offset);
					last = await httpCall(port, 'PATCH', `/api/uploads/${id}`, {
						cookie,
						'content-type': 'application/offset+octet-stream',
						'content-length': String(length),
						'upload-offset': String(offset),
						'upload-checksum': `sha256 ${digests[i]}`
					}, buffer);
					const want = offset + length < size ? 204 : 201;
					if (last.status !== want) throw new Error(`PATCH at ${offset}: ${last.status} ${last.text}`);
				}
				const { file } = JSON.parse(last.text);
				if (file.sha256 !== sha256 || file.size !== size) throw new Error(`the stored file does not match: ${last.text}`);
				return { bytes: size, file, chunkSize: chunkBytes, serverChunkSize: chunkSize };
			});
		} finally {
			await handle.close();
		}
	},

	/** The first `size` bytes of the file in one plain POST (streamed from disk, Content-Length set). */
	uploadPlain: ({ port, path, size, target }) =>
		timed(async () => {
			const body = createReadStream(path, { start: 0, end: size - 1, highWaterMark: 1024 * 1024 });
			const answer = await httpCall(port, 'POST', `/${target}`, { 'content-type': 'application/octet-stream', 'content-length': String(size) }, body);
			if (answer.status !== 201) throw new Error(`plain POST: ${answer.status} ${answer.text}`);
			return { bytes: size };
		})
});

import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { file, type FileSource } from '../server/file';
import { serve, type TestServer } from '../server/test-server';
import { ApiError } from './api-error';
import { downloadFile } from './download';

const SIZE = 1024 * 1024 + 4321;
const CORRUPT = 'The download is corrupt: its SHA-256 does not match';

/** What the server saw and answered, one entry per request. */
interface Logged {
	range: string | null;
	ifRange: string | null;
	status: number;
}

/** How the test server answers one path. */
interface Route {
	source: FileSource;
	/** Attempt i has its body cut after cuts[i] bytes (the connection drops); none: not cut. */
	cuts?: number[];
	/** Runs at a cut, before the client can retry (e.g. to replace the file). */
	onCut?: () => void;
	/** Rewrites a response (a lying server), given the request and the attempt number. */
	tamper?: (response: Response, request: Request, attempt: number) => Response;
	log: Logged[];
}

let dir: string;
let server: TestServer;
let paths = 0;
const routes = new Map<string, Route>();

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');
const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function stored(bytes: Buffer): Promise<FileSource> {
	const path = join(dir, `file-${paths++}`);
	await writeFile(path, bytes);
	return { path, size: bytes.length, sha256: sha256(bytes), modified: new Date(), name: 'data.bin', type: 'application/x-test' };
}

/** Serves `route` at a fresh path and returns its URL. */
function route(options: Omit<Route, 'log'>): { url: string; log: Logged[] } {
	const path = `/f/${paths++}`;
	const log: Logged[] = [];
	routes.set(path, { ...options, log });
	return { url: server.url + path, log };
}

/** Passes `limit` bytes, then errors the body, which makes the test server destroy the socket. */
function cutAfter(limit: number, onCut?: () => void): TransformStream<Uint8Array, Uint8Array> {
	let sent = 0;
	return new TransformStream({
		async transform(chunk, controller) {
			if (sent + chunk.byteLength < limit) return void ((sent += chunk.byteLength), controller.enqueue(chunk));
			if (limit > sent) controller.enqueue(chunk.subarray(0, limit - sent));
			sent = limit;
			await delay(15); // let the head reach the client before the connection drops
			onCut?.();
			controller.error(new Error('connection cut by the test'));
		}
	});
}

/** Rewrites the body through `transform`, keeping status and headers. */
function rebody(response: Response, transform: TransformStream<Uint8Array, Uint8Array>): Response {
	return new Response(response.body!.pipeThrough(transform), { status: response.status, headers: response.headers });
}

function flipFirstByte(): TransformStream<Uint8Array, Uint8Array> {
	let first = true;
	return new TransformStream({
		transform(chunk, controller) {
			if (first) (chunk = Uint8Array.from(chunk)), (chunk[0] ^= 0xff), (first = false);
			controller.enqueue(chunk);
		}
	});
}

/** Small seeded PRNG (mulberry32) so a failing schedule can be replayed. */
function seeded(seed: number): () => number {
	return () => {
		seed = (seed + 0x6d2b79f5) | 0;
		let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
		t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
		return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
	};
}

let bytes: Buffer;
let source: FileSource;

beforeAll(async () => {
	dir = await mkdtemp(join(tmpdir(), 'runnel-download-'));
	bytes = randomBytes(SIZE);
	source = await stored(bytes);
	server = await serve(async (request) => {
		const current = routes.get(new URL(request.url).pathname)!;
		const attempt = current.log.length;
		let response: Response = await file(request, current.source);
		current.log.push({ range: request.headers.get('range'), ifRange: request.headers.get('if-range'), status: response.status });
		if (current.tamper) response = current.tamper(response, request, attempt);
		const cut = current.cuts?.[attempt];
		return cut === undefined ? response : rebody(response, cutAfter(cut, current.onCut));
	});
});
afterAll(async () => {
	await server?.close();
	await rm(dir, { recursive: true, force: true });
});

describe('downloadFile', () => {
	it('resumes 50 downloads cut at random points with Range + If-Range and verifies each', async () => {
		const random = seeded(20240601);
		const runs = Array.from({ length: 50 }, () => {
			const cuts = [1 + Math.floor(random() * (SIZE - 1))];
			if (random() < 0.4) cuts.push(1 + Math.floor(random() * (SIZE - cuts[0] - 1)));
			return { cuts, ...route({ source, cuts }) };
		});
		let resumedPastZero = 0;
		for (let i = 0; i < runs.length; i += 10) {
			await Promise.all(
				runs.slice(i, i + 10).map(async ({ url, log, cuts }) => {
					const blob = await downloadFile(url);
					expect(sha256(new Uint8Array(await blob.arrayBuffer())), `cuts ${cuts}`).toBe(source.sha256);
					expect(blob.type).toBe('application/x-test');
					expect(log).toHaveLength(cuts.length + 1);
					expect(log[0]).toEqual({ range: null, ifRange: null, status: 200 });
					let ceiling = 0;
					for (const [attempt, entry] of log.slice(1).entries()) {
						ceiling += cuts[attempt];
						const start = Number(/^bytes=(\d+)-$/.exec(entry.range ?? '')?.[1]);
						expect(start).toBeLessThanOrEqual(ceiling);
						if (start > 0) resumedPastZero++;
						expect(entry).toMatchObject({ ifRange: `"${source.sha256}"`, status: 206 });
					}
				})
			);
		}
		expect(resumedPastZero).toBeGreaterThan(50); // most resumes kept bytes (cuts: 50 + about 20)
	}, 60_000);

	it('starts over with the new file when it changed between the cut and the resume', async () => {
		const replacement = await stored(randomBytes(SIZE - 1000));
		const target = route({ source, cuts: [SIZE / 2] });
		routes.get(new URL(target.url).pathname)!.onCut = () => (routes.get(new URL(target.url).pathname)!.source = replacement);
		const progress: number[] = [];
		const blob = await downloadFile(target.url, { onProgress: ({ received }) => progress.push(received) });
		expect(sha256(new Uint8Array(await blob.arrayBuffer()))).toBe(replacement.sha256);
		expect(target.log).toHaveLength(2);
		expect(target.log[1]).toMatchObject({ ifRange: `"${source.sha256}"`, status: 200 });
		expect(target.log[1].range).toMatch(/^bytes=\d+-$/);
		expect(progress.at(-1)).toBe(replacement.size);
		expect(progress.lastIndexOf(0)).toBeGreaterThan(0); // reported the restart
	});

	it('rejects bytes that do not match the Repr-Digest, whole or resumed', async () => {
		const whole = route({ source, tamper: (response) => rebody(response, flipFirstByte()) });
		await expect(downloadFile(whole.url)).rejects.toThrow(CORRUPT);
		const resumed = route({
			source,
			cuts: [1000],
			tamper: (response, _, attempt) => (attempt === 1 ? rebody(response, flipFirstByte()) : response)
		});
		await expect(downloadFile(resumed.url)).rejects.toThrow(CORRUPT);
		expect(resumed.log.map((entry) => entry.status)).toEqual([200, 206]);
	});

	it('falls back to a hex ETag, and returns unverified bytes when there is no digest at all', async () => {
		const strip = (names: string[]) => (response: Response) => {
			names.forEach((name) => response.headers.delete(name));
			return rebody(response, flipFirstByte());
		};
		await expect(downloadFile(route({ source, tamper: strip(['repr-digest']) }).url)).rejects.toThrow(CORRUPT);
		const blob = await downloadFile(route({ source, tamper: strip(['repr-digest', 'etag']) }).url);
		expect(blob.size).toBe(SIZE);
	});

	it('rejects a 206 that does not continue where the bytes end', async () => {
		const shifted = (response: Response, _: Request, attempt: number) => {
			if (attempt === 1) response.headers.set('content-range', `bytes 0-${SIZE - 1}/${SIZE}`);
			return response;
		};
		const target = route({ source, cuts: [5000], tamper: shifted });
		await expect(downloadFile(target.url)).rejects.toThrow(/answered a download with 206/);
	});

	it('reports monotonic progress that ends at the total', async () => {
		const progress: { received: number; total: number | null }[] = [];
		await downloadFile(route({ source, cuts: [300_000] }).url, { onProgress: (p) => progress.push(p) });
		expect(progress.every((p, i) => p.total === SIZE && (i === 0 || p.received >= progress[i - 1].received))).toBe(true);
		expect(progress.at(-1)).toEqual({ received: SIZE, total: SIZE });
	});

	it('rejects with AbortError on abort mid-way and makes no more requests', async () => {
		const stall = (response: Response, request: Request) => {
			let sent = false;
			const hold = new TransformStream<Uint8Array, Uint8Array>({
				async transform(chunk, controller) {
					if (!sent) controller.enqueue(chunk.subarray(0, 65536)), (sent = true);
					await new Promise((resolve) => request.signal.addEventListener('abort', resolve));
				}
			});
			return rebody(response, hold);
		};
		const target = route({ source, tamper: stall });
		const controller = new AbortController();
		const download = downloadFile(target.url, {
			signal: controller.signal,
			onProgress: ({ received }) => received > 0 && controller.abort()
		});
		await expect(download).rejects.toMatchObject({ name: 'AbortError' });
		await delay(300);
		expect(target.log).toHaveLength(1);
	});

	it('gives up after `retries` attempts that bring no bytes', async () => {
		const target = route({ source, cuts: [0, 0, 0, 0] });
		await expect(downloadFile(target.url, { retries: 2 })).rejects.toThrow();
		expect(target.log).toHaveLength(3);
	});

	it("throws ApiError with the server's message on 404", async () => {
		const missing = { ...source, path: join(dir, 'nothing-here') };
		const error = await downloadFile(route({ source: missing }).url).catch((e: unknown) => e);
		expect(error).toBeInstanceOf(ApiError);
		expect(error).toMatchObject({ status: 404, message: 'This file is no longer available.' });
	});
});

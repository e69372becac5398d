import { createHash } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'content-disposition';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { file, fileAnswer, nodeFileRequest, sendFileAnswer, type FileSource } from './file';
import { serve, serveNode, type TestServer } from './test-server';

const BYTES = Buffer.from(Array.from({ length: 100 }, (_, i) => 97 + (i % 26))); // abc…z abc…
const SHA = createHash('sha256').update(BYTES).digest('hex');
const ETAG = `"${SHA}"`;
const MODIFIED = new Date('2024-01-02T03:04:05.678Z');
const LAST_MODIFIED = 'Tue, 02 Jan 2024 03:04:05 GMT';

let dir: string;
let server: TestServer;
const sources = new Map<string, FileSource>();

/** Registers a stored file served at `/<key>`. */
async function store(key: string, bytes: Buffer, extra: Partial<FileSource> = {}): Promise<FileSource> {
	const path = join(dir, key);
	await writeFile(path, bytes);
	const sha256 = createHash('sha256').update(bytes).digest('hex');
	const source = { path, size: bytes.length, sha256, modified: MODIFIED, name: `${key}.txt`, type: 'text/plain', ...extra };
	sources.set(key, source);
	return source;
}

const keyOf = (url: string) => new URL(url, 'http://x').pathname.slice(1);

beforeAll(async () => {
	dir = await mkdtemp(join(tmpdir(), 'runnel-file-'));
	await store('letters', BYTES);
	await store('empty', Buffer.alloc(0));
});
afterAll(async () => {
	await rm(dir, { recursive: true, force: true });
});

interface Case {
	name: string;
	method?: string;
	headers?: Record<string, string>;
	status: number;
	/** Exact body bytes; a function gets the multipart boundary. */
	body: string | ((boundary: string) => string);
	expect?: Record<string, string | null>;
}

const whole = (name: string, headers: Record<string, string>): Case => ({
	name,
	headers,
	status: 200,
	body: BYTES.toString(),
	expect: { 'content-range': null, 'content-length': '100' }
});
const part = (name: string, headers: Record<string, string>, start: number, end: number): Case => ({
	name,
	headers,
	status: 206,
	body: BYTES.subarray(start, end + 1).toString(),
	expect: { 'content-range': `bytes ${start}-${end}/100`, 'content-length': String(end - start + 1) }
});
const unsatisfiable = (name: string, range: string): Case => ({
	name,
	headers: { range },
	status: 416,
	body: '',
	expect: { 'content-range': 'bytes */100' }
});
const multipartPart = (boundary: string, start: number, end: number, first = false) =>
	`${first ? '' : '\r\n'}--${boundary}\r\ncontent-type: text/plain\r\ncontent-range: bytes ${start}-${end}/100\r\n\r\n` +
	BYTES.subarray(start, end + 1).toString();

const CASES: Case[] = [
	whole('no Range', {}),
	part('bytes=0-0', { range: 'bytes=0-0' }, 0, 0),
	part('bytes=-1 (last byte)', { range: 'bytes=-1' }, 99, 99),
	part('bytes=-500 (suffix longer than the file)', { range: 'bytes=-500' }, 0, 99),
	unsatisfiable('bytes=-0', 'bytes=-0'),
	whole('bytes=5-2 (invalid: ignored)', { range: 'bytes=5-2' }),
	whole('bytes=0-1,5-2 (one invalid spec: ignored)', { range: 'bytes=0-1,5-2' }),
	whole('abc (malformed: ignored)', { range: 'abc' }),
	whole('items=0-1 (other unit: ignored)', { range: 'items=0-1' }),
	whole('items=1000000- (other unit, never 416)', { range: 'items=1000000-' }),
	unsatisfiable('bytes=1000000- (beyond the end)', 'bytes=1000000-'),
	part('bytes=10- (open-ended)', { range: 'bytes=10-' }, 10, 99),
	part('bytes=10-99999999 (clamped)', { range: 'bytes=10-99999999' }, 10, 99),
	part('BYTES = 3-4 (unit is case-insensitive)', { range: 'BYTES=3-4' }, 3, 4),
	part('bytes=0-5,3-10 (overlapping: combined)', { range: 'bytes=0-5,3-10' }, 0, 10),
	part('bytes=0-4,5-9 (adjacent: combined)', { range: 'bytes=0-4,5-9' }, 0, 9),
	part('bytes=1000-2000,0-0 (the satisfiable one)', { range: 'bytes=1000-2000,0-0' }, 0, 0),
	{
		name: 'bytes=0-1,50-51,-2 (several: multipart/byteranges)',
		headers: { range: 'bytes=0-1,50-51,-2' },
		status: 206,
		body: (b) => multipartPart(b, 0, 1, true) + multipartPart(b, 50, 51) + multipartPart(b, 98, 99) + `\r\n--${b}--\r\n`,
		expect: { 'content-range': null }
	},
	part('If-Range matching ETag', { range: 'bytes=0-0', 'if-range': ETAG }, 0, 0),
	whole('If-Range stale ETag', { range: 'bytes=0-0', 'if-range': '"0000"' }),
	whole('If-Range weak ETag', { range: 'bytes=0-0', 'if-range': `W/${ETAG}` }),
	part('If-Range date equal to Last-Modified', { range: 'bytes=0-0', 'if-range': LAST_MODIFIED }, 0, 0),
	whole('If-Range other date', { range: 'bytes=0-0', 'if-range': 'Wed, 03 Jan 2024 03:04:05 GMT' }),
	{ ...whole('HEAD', {}), method: 'HEAD', body: '', expect: { 'content-length': '100', 'content-type': 'text/plain' } },
	{ ...whole('HEAD with Range (Range is for GET)', { range: 'bytes=0-0' }), method: 'HEAD', body: '' },
	{
		name: 'POST with Range',
		method: 'POST',
		headers: { range: 'bytes=0-0' },
		status: 405,
		body: '{"error":"POST is not allowed here; use GET."}',
		expect: { allow: 'GET, HEAD', etag: null }
	},
	{ name: 'If-None-Match', headers: { 'if-none-match': ETAG }, status: 304, body: '', expect: { etag: ETAG } },
	{ name: 'If-None-Match list, weak', headers: { 'if-none-match': `"x", W/${ETAG}` }, status: 304, body: '' },
	{ name: 'If-None-Match on HEAD', method: 'HEAD', headers: { 'if-none-match': ETAG }, status: 304, body: '' },
	whole('If-None-Match other', { 'if-none-match': '"x"' }),
	{ name: 'If-Modified-Since later', headers: { 'if-modified-since': 'Wed, 03 Jan 2024 00:00:00 GMT' }, status: 304, body: '' },
	whole('If-Modified-Since earlier', { 'if-modified-since': 'Mon, 01 Jan 2024 00:00:00 GMT' })
];

// file() as a Response (SvelteKit's route), and fileAnswer() written by sendFileAnswer() (the production server's downloads).
describe.each([
	['file() Response', () => serve((request) => file(request, sources.get(keyOf(request.url))!))],
	['sendFileAnswer() at the node level', () => serveNode((req, res) => sendFileAnswer(res, fileAnswer(nodeFileRequest(req), sources.get(keyOf(req.url!))!)))]
])('%s', (_, start) => {
	beforeAll(async () => {
		server = await start();
	});
	afterAll(() => server?.close());

	describe('file() conformance over HTTP', () => {
		it.each(CASES)('$name → $status', async ({ method, headers, status, body, expect: expected }) => {
			const response = await fetch(`${server.url}/letters`, { method: method ?? 'GET', headers });
			const bytes = Buffer.from(await response.arrayBuffer()).toString();
			expect(response.status).toBe(status);
			if (status !== 405) {
				expect(response.headers.get('etag')).toBe(ETAG);
				expect(response.headers.get('last-modified')).toBe(LAST_MODIFIED);
				expect(response.headers.get('accept-ranges')).toBe('bytes');
				expect(response.headers.get('cache-control')).toBe('private, no-cache');
				expect(response.headers.get('x-content-type-options')).toBe('nosniff');
				expect(response.headers.get('content-security-policy')).toBe('sandbox');
			}
			const boundary = /boundary=(\w+)/.exec(response.headers.get('content-type') ?? '')?.[1] ?? '';
			const want = typeof body === 'function' ? body(boundary) : body;
			expect(bytes).toBe(want);
			if (typeof body === 'function') expect(response.headers.get('content-length')).toBe(String(want.length));
			for (const [name, value] of Object.entries(expected ?? {})) expect(response.headers.get(name), name).toBe(value);
		});

		it('answers an empty file with 200 and no bytes, and any Range on it with 416', async () => {
			const response = await fetch(`${server.url}/empty`);
			expect([response.status, response.headers.get('content-length'), await response.text()]).toEqual([200, '0', '']);
			const ranged = await fetch(`${server.url}/empty`, { headers: { range: 'bytes=0-0' } });
			expect([ranged.status, ranged.headers.get('content-range')]).toEqual([416, 'bytes */0']);
		});
	});

	describe('file() headers', () => {
		it('sends Repr-Digest as the base64 SHA-256 of the whole file, also on a 206', async () => {
			const digest = `sha-256=:${createHash('sha256').update(BYTES).digest('base64')}:`;
			for (const headers of [{}, { range: 'bytes=3-5' }] as Record<string, string>[]) {
				const response = await fetch(`${server.url}/letters`, { headers });
				expect(response.headers.get('repr-digest')).toBe(digest);
			}
		});

		it('offers a risky Unicode name as filename* and a safe ASCII fallback', async () => {
			await store('named', BYTES, { name: 'résumé "final"\u202e.txt' });
			const header = (await fetch(`${server.url}/named`)).headers.get('content-disposition')!;
			expect(header).toBe(`attachment; filename="resume _final__.txt"; filename*=UTF-8''r%C3%A9sum%C3%A9%20%22final%22_.txt`);
			expect(parse(header).parameters.filename).toBe('résumé "final"_.txt');
			expect(parse(header, { extended: false }).parameters.filename).toBe('resume _final__.txt');
		});

		it.each([
			['text/html; charset=utf-8', 'application/octet-stream'],
			['image/svg+xml', 'application/octet-stream'],
			['Application/XHTML+XML', 'application/octet-stream'],
			['text/xml', 'application/octet-stream'],
			['application/xml', 'application/octet-stream'],
			[undefined, 'application/octet-stream'],
			['application/pdf', 'application/pdf']
		])('serves stored type %s as %s', async (type, sent) => {
			await store('typed', BYTES, { type, name: 'page.html' });
			expect((await fetch(`${server.url}/typed`)).headers.get('content-type')).toBe(sent);
		});

		it('answers a file missing on disk with 404 JSON', async () => {
			sources.set('gone', { ...sources.get('letters')!, path: join(dir, 'gone') });
			const response = await fetch(`${server.url}/gone`);
			expect(response.status).toBe(404);
			expect(await response.json()).toEqual({ error: 'This file is no longer available.' });
		});
	});
});

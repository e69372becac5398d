import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiError } from './api-error';
import { withQuery } from './query';
import { requestJson } from './request';

let base: string;
let last: { req: IncomingMessage; body: string };
const server = createServer((req, res) => {
	let body = '';
	req.on('data', (chunk) => (body += chunk));
	req.on('end', () => {
		last = { req, body };
		const path = new URL(req.url ?? '/', 'http://x').pathname;
		if (path === '/empty') return res.writeHead(204).end();
		if (path === '/signed-out') return res.writeHead(401, { 'content-type': 'application/json' }).end('{"error":"Signed out"}');
		if (path === '/broken') return res.writeHead(502, 'Bad Gateway').end('<html>');
		res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ echo: body || null }));
	});
});

beforeAll(async () => {
	await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
	base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => {
	server.closeAllConnections();
	server.close();
});

describe('withQuery', () => {
	it('joins arrays with commas, stringifies numbers and booleans, skips undefined, null and []', () => {
		const query = { types: ['a', 'b'], before: 5, unread: false, skip: undefined, none: null, empty: [] };
		expect(withQuery('/api/x', query)).toBe('/api/x?types=a%2Cb&before=5&unread=false');
		expect(withQuery('/api/x?page=2', { q: 'é &' })).toBe('/api/x?page=2&q=%C3%A9+%26');
		expect(withQuery('/api/x', { skip: undefined })).toBe('/api/x');
	});
});

describe('requestJson', () => {
	it('sends JSON and the query, parses the JSON answer', async () => {
		const result = await requestJson<{ echo: string }>('POST', `${base}/echo`, { body: { a: 1 }, query: { n: 2 } });
		expect(result).toEqual({ echo: '{"a":1}' });
		expect(last.req.url).toBe('/echo?n=2');
		expect(last.req.headers['content-type']).toBe('application/json');
	});

	it('gives undefined for 204 and uses the fetch it is given', async () => {
		const calls: string[] = [];
		const spy: typeof fetch = (input, init) => {
			calls.push(String(input));
			return fetch(input, init);
		};
		expect(await requestJson('DELETE', `${base}/empty`, { fetch: spy })).toBeUndefined();
		expect(calls).toEqual([`${base}/empty`]);
	});

	it('throws ApiError with the server message, or the status text', async () => {
		const signedOut = await requestJson('GET', `${base}/signed-out`).catch((error: unknown) => error);
		expect(signedOut).toBeInstanceOf(ApiError);
		expect(signedOut).toMatchObject({ status: 401, message: 'Signed out' });
		await expect(requestJson('GET', `${base}/broken`)).rejects.toMatchObject({ status: 502, message: 'Bad Gateway' });
	});

	it('honours an AbortSignal', async () => {
		await expect(requestJson('GET', `${base}/echo`, { signal: AbortSignal.abort() })).rejects.toThrow(/abort/i);
	});
});

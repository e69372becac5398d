import { createServer } from 'node:net';
import { EventSource } from 'eventsource';

/** Signs up over HTTP and returns the session cookie ("runnel_session=…"). */
export async function signUp(baseUrl: string, name: string, password = 'password-123'): Promise<string> {
	const response = await fetch(`${baseUrl}/api/auth/signup`, {
		method: 'POST',
		headers: { 'content-type': 'application/json' },
		body: JSON.stringify({ name, password })
	});
	if (response.status !== 201) throw new Error(`sign-up failed: ${response.status} ${await response.text()}`);
	return /runnel_session=[^;]+/.exec(response.headers.get('set-cookie')!)![0];
}

/** A JSON call with a session cookie; resolves with status and parsed body. */
export async function call(baseUrl: string, cookie: string, method: string, path: string, body?: unknown) {
	const response = await fetch(`${baseUrl}${path}`, {
		method,
		headers: { cookie, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
		body: body === undefined ? undefined : JSON.stringify(body)
	});
	const text = await response.text();
	return { status: response.status, body: text ? JSON.parse(text) : undefined };
}

/** One event as a test client saw it. */
export interface Seen {
	type: string;
	id: string;
	data: unknown;
}

/**
 * An `eventsource`-package client with a cookie (and optionally a first Last-Event-ID); records events.
 * A function as `url` is asked again on every (re)connect, as a load balancer picks an instance.
 * @example const client = follow(url, cookie, ['notification']); await client.opened;
 */
export function follow(url: string | (() => string), cookie: string, types: string[], lastEventId?: string) {
	const seen: Seen[] = [];
	const errors: { code?: number; message?: string }[] = [];
	const source = new EventSource(typeof url === 'string' ? url : url(), {
		fetch: (input, init) => {
			const headers: Record<string, string> = { ...(init.headers as Record<string, string>), cookie };
			if (lastEventId && !headers['Last-Event-ID'] && !headers['last-event-id']) headers['Last-Event-ID'] = lastEventId;
			return fetch(typeof url === 'string' ? input : url(), { ...init, headers });
		}
	});
	for (const type of types) {
		source.addEventListener(type, (event) => seen.push({ type, id: event.lastEventId, data: JSON.parse(event.data) }));
	}
	source.addEventListener('error', (event) => errors.push({ code: event.code, message: event.message }));
	const opened = new Promise<void>((resolve) => source.addEventListener('open', () => resolve(), { once: true }));
	return { source, seen, errors, opened, close: () => source.close() };
}

/** A TCP port free on 127.0.0.1 right now. */
export function freePort(): Promise<number> {
	return new Promise((resolve, reject) => {
		const server = createServer();
		server.once('error', reject);
		server.listen(0, '127.0.0.1', () => {
			const { port } = server.address() as { port: number };
			server.close(() => resolve(port));
		});
	});
}

/** Resolves when `check` is true, polling every 20 ms; rejects after `ms`. */
export async function until(check: () => boolean, ms = 10_000, what = 'condition'): Promise<void> {
	const deadline = Date.now() + ms;
	while (!check()) {
		if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
		await new Promise((resolve) => setTimeout(resolve, 20));
	}
}

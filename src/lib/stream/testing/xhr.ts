// Test helper: a browser-like XMLHttpRequest over node:http, so sse.js runs in Vitest (node).
// xmlhttprequest-ssl is not enough: it buffers the whole body (no progress events), calls
// listeners without an event object, and has no static readyState constants.
import { request as httpRequest, type ClientRequest } from 'node:http';

type Listener = (event: Event & { currentTarget: TestXhr }) => void;

/** A minimal streaming XMLHttpRequest (GET/POST over http:) for sse.js in tests. */
export class TestXhr {
	static readonly UNSENT = 0;
	static readonly OPENED = 1;
	static readonly HEADERS_RECEIVED = 2;
	static readonly LOADING = 3;
	static readonly DONE = 4;

	readyState = 0;
	status = 0;
	responseText = '';
	withCredentials = false;
	#listeners = new Map<string, Set<Listener>>();
	#method = 'GET';
	#url = '';
	#headers: Record<string, string> = {};
	#responseHeaders: Record<string, string | string[] | undefined> = {};
	#request: ClientRequest | null = null;
	#finished = false;

	get response(): string {
		return this.responseText;
	}

	addEventListener(type: string, listener: Listener): void {
		const set = this.#listeners.get(type) ?? new Set();
		this.#listeners.set(type, set.add(listener));
	}

	removeEventListener(type: string, listener: Listener): void {
		this.#listeners.get(type)?.delete(listener);
	}

	open(method: string, url: string): void {
		this.#method = method;
		this.#url = url;
		this.#state(TestXhr.OPENED);
	}

	setRequestHeader(name: string, value: string): void {
		this.#headers[name] = value;
	}

	getAllResponseHeaders(): string {
		return Object.entries(this.#responseHeaders)
			.map(([name, value]) => `${name}: ${Array.isArray(value) ? value.join(', ') : value}`)
			.join('\r\n');
	}

	send(body?: string | null): void {
		const decoder = new TextDecoder();
		const request = httpRequest(this.#url, { method: this.#method, headers: this.#headers }, (response) => {
			this.status = response.statusCode ?? 0;
			this.#responseHeaders = response.headers;
			this.#state(TestXhr.HEADERS_RECEIVED);
			response.on('data', (chunk: Buffer) => {
				if (this.#finished) return;
				this.responseText += decoder.decode(chunk, { stream: true });
				this.#state(TestXhr.LOADING);
				this.#fire('progress');
			});
			response.on('end', () => this.#finish('load'));
			response.on('close', () => this.#finish('error'));
		});
		request.on('error', () => this.#finish('error'));
		this.#request = request;
		request.end(body || undefined);
	}

	abort(): void {
		if (this.#finished || !this.#request) return;
		this.#request.destroy();
		this.#finish('abort');
		this.readyState = TestXhr.UNSENT;
	}

	#finish(type: 'load' | 'error' | 'abort') {
		if (this.#finished) return;
		this.#finished = true;
		if (type === 'error') [this.status, this.responseText] = [0, '']; // a network error, as browsers report it
		this.#state(TestXhr.DONE);
		this.#fire(type);
		this.#fire('loadend');
	}

	#state(state: number) {
		this.readyState = state;
		this.#fire('readystatechange');
	}

	#fire(type: string) {
		const event = new Event(type) as Event & { currentTarget: TestXhr };
		Object.defineProperty(event, 'currentTarget', { value: this });
		for (const listener of this.#listeners.get(type) ?? []) listener(event);
	}
}

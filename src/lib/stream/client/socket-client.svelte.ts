import { io, type Socket } from 'socket.io-client';
import { callWithRetry, type ArgsOf, type CallOptions, type EventMap, type ReplyOf } from './socket-call';

/** Where a SocketClient is: `reconnecting` covers the wait and the tries after a lost connection. */
export type SocketStatus = 'idle' | 'connecting' | 'connected' | 'reconnecting' | 'closed';

/** Options of a SocketClient (a generated `…Client` takes these). */
export interface SocketOptions extends CallOptions {
	/** Server URL; default: this page's origin. */
	url?: string;
	/** Default `['websocket', 'polling']`. */
	transports?: ('websocket' | 'polling')[];
	/** Reconnect backoff bounds (ms; defaults 500 and 5000). */
	reconnectionDelay?: number;
	reconnectionDelayMax?: number;
	/** Headers for the handshake (Node clients only: a browser sends its cookie itself). */
	extraHeaders?: Record<string, string>;
}

/** How long the "connection is back" notice stays. */
const BACK_NOTICE_MS = 4000;

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Handler = [event: string, listener: (...args: any[]) => void];

/**
 * A typed Socket.IO connection with `$state` status and acknowledged calls that retry on a lost
 * connection or a timeout. Generated clients extend it (or a class built on it) with one method per
 * event; nothing connects before `start()`, so it can be made during server-side rendering.
 */
export class SocketClient<S extends EventMap, C extends EventMap> {
	/** Connection state, for the page to show. */
	status = $state<SocketStatus>('idle');
	/** Why the last connection attempt failed; cleared on connect. */
	error = $state<string | null>(null);
	/** `lost` while a connection that was open is down; `back` for a few seconds after it returns. */
	notice = $state<'lost' | 'back' | null>(null);

	protected socket: Socket<S, C> | null = null;
	protected readonly options: SocketOptions;
	#handlers: Handler[] = [];
	#everConnected = false;
	#noticeTimer: ReturnType<typeof setTimeout> | undefined;

	constructor(options: SocketOptions = {}) {
		this.options = options;
	}

	/** Connects (browser, or Node with a `url`); later calls do nothing. */
	start(): void {
		if (this.socket || (typeof window === 'undefined' && !this.options.url)) return;
		const settings = {
			path: '/socket.io',
			transports: this.options.transports ?? ['websocket', 'polling'],
			reconnectionDelay: this.options.reconnectionDelay ?? 500,
			reconnectionDelayMax: this.options.reconnectionDelayMax ?? 5000,
			extraHeaders: this.options.extraHeaders,
			withCredentials: true
		};
		// Without a URL, socket.io-client connects to this page's origin.
		const socket = (this.options.url ? io(this.options.url, settings) : io(settings)) as Socket<S, C>;
		this.socket = socket;
		this.status = 'connecting';
		const raw = socket as unknown as Socket;
		for (const [event, listener] of this.#handlers) raw.on(event, listener);
		raw.on('connect', () => this.#connected(socket.recovered));
		raw.on('disconnect', (reason: string) => this.#disconnected(reason));
		raw.on('connect_error', (error: Error) => this.#failed(error));
	}

	/** Closes the connection for good. */
	close(): void {
		clearTimeout(this.#noticeTimer);
		this.socket?.close();
		this.status = 'closed';
		this.notice = null;
	}

	/** Calls `listener` for each `event` from the server; returns the unsubscribe. */
	on<K extends keyof S & string>(event: K, listener: S[K]): () => void {
		const handler: Handler = [event, listener as Handler[1]];
		this.#handlers.push(handler);
		(this.socket as unknown as Socket | null)?.on(handler[0], handler[1]);
		return () => {
			this.#handlers = this.#handlers.filter((h) => h !== handler);
			(this.socket as unknown as Socket | null)?.off(handler[0], handler[1]);
		};
	}

	/**
	 * Emits an acknowledged event and resolves with the server's reply; a call that got no answer
	 * (offline too long, timed out) resolves `{ ok: false, error }` too.
	 */
	protected call<K extends keyof C & string>(event: K, ...args: ArgsOf<C[K]>): Promise<ReplyOf<C[K]>> {
		return this.callWith(event, {}, ...args);
	}

	/** call() with its own timeouts and offline wait. */
	protected callWith<K extends keyof C & string>(event: K, options: CallOptions, ...args: ArgsOf<C[K]>): Promise<ReplyOf<C[K]>> {
		if (!this.socket) return Promise.resolve({ ok: false, error: 'Not connected: start() the client first.' } as ReplyOf<C[K]>);
		return callWithRetry(this.socket as unknown as Socket, event, args, { ...this.options, ...options }) as Promise<ReplyOf<C[K]>>;
	}

	/** Sends an event without acknowledgement, dropped unless connected right now (for typing signals). */
	protected emitVolatile<K extends keyof C & string>(event: K, ...args: ArgsOf<C[K]>): void {
		const socket = this.socket as unknown as Socket | null;
		if (socket?.connected) socket.volatile.emit(event, ...args);
	}

	/** Called on each connect; `recovered` when Socket.IO restored the session and replayed what was missed. */
	protected connected(recovered: boolean): void {
		void recovered;
	}

	#connected(recovered: boolean) {
		this.status = 'connected';
		this.error = null;
		clearTimeout(this.#noticeTimer);
		if (this.notice === 'lost') {
			this.notice = 'back';
			this.#noticeTimer = setTimeout(() => (this.notice = null), BACK_NOTICE_MS);
		}
		this.#everConnected = true;
		this.connected(recovered);
	}

	#disconnected(reason: string) {
		if (this.status === 'closed') return;
		clearTimeout(this.#noticeTimer);
		if (reason === 'io server disconnect' || reason === 'io client disconnect') {
			// The server closed it on purpose (signed out): do not come back.
			this.status = 'closed';
			this.notice = null;
			if (reason === 'io server disconnect') this.error = 'The server closed the connection: sign in again.';
			return;
		}
		this.status = 'reconnecting';
		this.notice = 'lost';
	}

	#failed(error: Error) {
		this.error = error.message;
		if (!this.socket?.active) {
			// Refused by the server (no session): retrying will not help.
			this.status = 'closed';
			this.notice = null;
			return;
		}
		this.status = this.#everConnected ? 'reconnecting' : 'connecting';
	}
}

import type { Socket } from 'socket.io-client';

/** Any Socket.IO event map (event name -> listener); `any`, so interfaces fit it as they fit Socket.IO's own. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type EventMap = { [event: string]: any };

/** The arguments of an event before its acknowledgement callback (none for an ack-only event). */
export type ArgsOf<F> = F extends (...args: infer A) => void ? (A extends [...infer P, (reply: never) => void] ? P : A) : never;

/** What an acknowledged event's callback receives. */
export type ReplyOf<F> = F extends (...args: infer A) => void ? (A extends [...unknown[], (reply: infer R) => void] ? R : never) : never;

/** The payload of an event (`void` when it takes none). */
export type PayloadOf<F> = ArgsOf<F> extends [infer P, ...unknown[]] ? P : void;

/** How an acknowledged call waits and retries. */
export interface CallOptions {
	/** How long one attempt waits for its acknowledgement (ms, default 5000). */
	ackTimeout?: number;
	/** Attempts after the first that may time out while connected (default 2); a lost connection is not counted: the call waits for it and sends again. */
	retries?: number;
	/** Longest wait for a connection before giving up (ms, default 30 000). */
	offlineWait?: number;
	signal?: AbortSignal;
}

/** A call that got no answer: the same shape as a refusal on the ack. */
export type CallFailure = { ok: false; error: string };

const DEFAULTS = { ackTimeout: 5000, retries: 2, offlineWait: 30_000 };

/** Resolves true once the socket is connected; false after `ms`, on abort, or when the socket was closed for good. */
export function whenConnected(socket: Socket, ms: number, signal?: AbortSignal): Promise<boolean> {
	if (socket.connected) return Promise.resolve(true);
	if (!socket.active || signal?.aborted) return Promise.resolve(false);
	return new Promise((resolve) => {
		const done = (ok: boolean) => {
			clearTimeout(timer);
			socket.off('connect', onConnect);
			socket.off('connect_error', onError);
			signal?.removeEventListener('abort', onAbort);
			resolve(ok);
		};
		const onConnect = () => done(true);
		const onError = () => !socket.active && done(false);
		const onAbort = () => done(false);
		const timer = setTimeout(() => done(false), ms);
		socket.on('connect', onConnect);
		socket.on('connect_error', onError);
		signal?.addEventListener('abort', onAbort, { once: true });
	});
}

/**
 * Emits an event and resolves with its acknowledgement, re-sending the same payload when the
 * connection drops before the answer or the answer times out: events sent this way must be
 * idempotent (chat messages carry a clientId). Never rejects: no answer becomes `{ ok: false, error }`.
 * (Not Socket.IO's own `retries` queue: its ESM build lacks the already-acknowledged guard, and it
 * re-sends a pending packet twice after a reconnect.)
 * @example const reply = await callWithRetry<Ack>(socket, 'message:send', [{ roomId, clientId, text }]);
 */
export async function callWithRetry<R>(socket: Socket, event: string, args: unknown[], options: CallOptions = {}): Promise<R | CallFailure> {
	const { ackTimeout, retries, offlineWait } = { ...DEFAULTS, ...options };
	let timeouts = 0;
	for (;;) {
		if (!(await whenConnected(socket, offlineWait, options.signal))) {
			return { ok: false, error: options.signal?.aborted ? 'Cancelled.' : 'Not connected to the server: try again once the connection is back.' };
		}
		try {
			return (await socket.timeout(ackTimeout).emitWithAck(event, ...args)) as R;
		} catch (error) {
			// A timeout while still connected counts; a dropped connection just waits for the next one.
			if (socket.connected && /timed out/.test((error as Error).message) && ++timeouts > retries) {
				return { ok: false, error: 'The server did not answer: try again.' };
			}
		}
	}
}

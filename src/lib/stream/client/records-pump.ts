import { ApiError } from './api-error';
import { backoffDelay, waitToRetry } from './backoff';
import { parseNdjson } from './ndjson-parser';
import { withQuery, type QueryParams } from './query';

/** First reconnect delay in ms (jittered, doubling while the stream makes no progress). */
const RETRY_BASE = 250;
/** Longest wait between reconnects in ms. */
const RETRY_CAP = 10_000;

/** What pumpRecords needs. */
export interface PumpInit {
	url: string;
	query?: QueryParams;
	signal: AbortSignal;
	fetch?: typeof fetch;
	/** The record field holding its cursor; without it a broken stream is an error. */
	cursor?: string;
	/** Reconnects in a row without a record in between (default 5). */
	retries?: number;
}

/** The network failed (fetch or a read); the only failure a cursor can resume. */
class ConnectionLost extends Error {
	constructor(cause: unknown) {
		super(`The records stream broke: ${(cause as Error)?.message ?? String(cause)}`, { cause });
		this.name = 'ConnectionLost';
	}
}

/** True for a final `{"error": "…"}` line: an object whose only key is `error`. */
function isErrorLine(value: unknown): value is { error: unknown } {
	return typeof value === 'object' && value !== null && !Array.isArray(value) && Object.keys(value).length === 1 && 'error' in value;
}


/**
 * Reads an NDJSON records stream and hands `emit` each network chunk's complete records, awaiting
 * it before the next read (that is the backpressure). Resolves at the end of the stream or on
 * abort; rejects with ApiError (non-2xx), the server's error line, a malformed line, or a broken
 * connection it could not resume by `cursor`.
 * @example await pumpRecords({ url: '/api/points', signal, cursor: 'id' }, async (batch) => draw(batch));
 */
export async function pumpRecords<R>(init: PumpInit, emit: (records: R[]) => void | Promise<void>): Promise<void> {
	const { signal, cursor, retries = 5 } = init;
	let after: string | undefined;
	let failures = 0;
	const progress = (record: R) => {
		failures = 0;
		const value = cursor ? (record as Record<string, unknown>)[cursor] : undefined;
		if (value !== undefined && value !== null) after = String(value);
	};
	for (;;) {
		try {
			const query = after === undefined ? init.query : { ...init.query, after };
			return await readOnce(withQuery(init.url, query), init, emit, progress);
		} catch (error) {
			if (signal.aborted) return;
			if (!(error instanceof ConnectionLost) || !cursor || failures >= retries) throw error;
			await waitToRetry(backoffDelay(failures++, RETRY_BASE, RETRY_CAP), signal).catch(() => {}); // aborted: checked below
			if (signal.aborted) return;
		}
	}
}

/** One request: emits batches until the body ends. */
async function readOnce<R>(
	url: string,
	init: PumpInit,
	emit: (records: R[]) => void | Promise<void>,
	progress: (record: R) => void
): Promise<void> {
	let response: Response;
	try {
		response = await (init.fetch ?? fetch)(url, { signal: init.signal, headers: { accept: 'application/x-ndjson' } });
	} catch (error) {
		throw new ConnectionLost(error);
	}
	if (!response.ok) throw await ApiError.from(response);
	if (!response.body) return;
	const body = response.body.getReader();
	let batch: R[] = [];
	const flush = async () => {
		if (batch.length) await emit(batch.splice(0));
	};
	// Every read ends the previous network chunk, so its records go out first.
	const reader = {
		async read() {
			await flush();
			try {
				return await body.read();
			} catch (error) {
				throw new ConnectionLost(error);
			}
		},
		cancel: (reason?: unknown) => body.cancel(reason)
	} as ReadableStreamDefaultReader<Uint8Array>;
	try {
		for await (const value of parseNdjson<R>(reader)) {
			if (isErrorLine(value)) throw new Error(String(value.error));
			batch.push(value);
			progress(value);
		}
	} finally {
		await flush();
	}
}

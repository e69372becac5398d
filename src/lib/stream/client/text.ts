import { ApiError } from './api-error';
import { withQuery, type QueryParams } from './query';

/** Options of a text stream; a generated `read…` helper for a text route takes these. */
export interface TextStreamOptions {
	/** Stops the stream: `done` resolves, no callback runs after. */
	signal?: AbortSignal;
	/** The fetch to use: pass SvelteKit's from a load function. */
	fetch?: typeof fetch;
	/** Each network chunk's text, decoded; a character split across chunks arrives whole, in the later one. */
	onText?: (text: string) => void;
	/** The server ended the stream. */
	onComplete?: () => void;
	/** The stream failed: ApiError (non-2xx) or a lost connection. */
	onError?: (error: Error) => void;
}

/** Options of readText. */
export interface ReadTextOptions extends TextStreamOptions {
	query?: QueryParams;
}

/** A running text stream. */
export interface TextStream {
	/** Resolves when the stream completes or is aborted; rejects with the error onError gets. */
	readonly done: Promise<void>;
	/** Stops the stream, like aborting `signal`. */
	abort(): void;
}

/**
 * Decodes a UTF-8 byte stream into text pieces with one streaming TextDecoder, so a multi-byte
 * character cut between chunks is put back together; empty pieces are skipped. Stopping early
 * cancels the reader.
 * @example for await (const piece of decodeText(response.body!.getReader())) log += piece;
 */
export async function* decodeText(reader: ReadableStreamDefaultReader<Uint8Array>): AsyncGenerator<string, void, undefined> {
	const decoder = new TextDecoder();
	let done = false;
	try {
		while (!done) {
			const result = await reader.read();
			done = result.done;
			const piece = result.done ? decoder.decode() : decoder.decode(result.value, { stream: true });
			if (piece) yield piece;
		}
	} finally {
		if (!done) await reader.cancel().catch(() => {});
	}
}

/**
 * Reads a `text/plain` stream (a job's log, say) and hands `onText` each decoded network chunk as
 * it arrives. It starts on the next microtask; abort it with `signal` or `abort()`.
 * @example const log = readText('/api/jobs/7/log', { onText: (text) => (shown += text) }); await log.done;
 */
export function readText(url: string, options: ReadTextOptions = {}): TextStream {
	const stop = new AbortController();
	const abort = () => stop.abort();
	if (options.signal?.aborted) abort();
	options.signal?.addEventListener('abort', abort, { once: true });
	const done = new Promise<void>((resolve) => queueMicrotask(resolve)).then(async () => {
		try {
			await pump(withQuery(url, options.query), options, stop.signal);
			if (!stop.signal.aborted) options.onComplete?.();
		} catch (error) {
			if (stop.signal.aborted) return;
			options.onError?.(error as Error);
			throw error;
		} finally {
			options.signal?.removeEventListener('abort', abort);
		}
	});
	done.catch(() => {});
	return { done, abort };
}

/** A network failure, said so. */
const broken = (error: unknown) =>
	Promise.reject(new Error(`The text stream broke: ${(error as Error)?.message ?? String(error)}`, { cause: error }));

async function pump(url: string, options: TextStreamOptions, signal: AbortSignal): Promise<void> {
	if (signal.aborted) return;
	const response = await (options.fetch ?? fetch)(url, { signal, headers: { accept: 'text/plain' } }).catch(broken);
	if (!response.ok) throw await ApiError.from(response);
	if (!response.body) return;
	const reader = response.body.getReader();
	const guarded = { read: () => reader.read().catch(broken), cancel: (reason?: unknown) => reader.cancel(reason) };
	for await (const piece of decodeText(guarded as ReadableStreamDefaultReader<Uint8Array>)) {
		if (signal.aborted) return;
		options.onText?.(piece);
	}
}

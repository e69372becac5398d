import { readStream } from './read-stream';

/** One dispatched server-sent event. */
export interface SseEvent {
	/** The last event id the stream set (it persists across events, as in `EventSource.lastEventId`). */
	id?: string;
	/** The `event:` field, `'message'` when absent. */
	event: string;
	/** The `data:` lines joined with "\n". */
	data: string;
	/** The latest reconnection delay (ms) the stream set with `retry:`, once it has set one. */
	retry?: number;
}

/** Options of parseSse. */
export interface SseParseOptions {
	/** Called as soon as a valid `retry:` field arrives, even in a block that dispatches no event. */
	onRetry?: (ms: number) => void;
}

/**
 * Parses a `text/event-stream` body as the WHATWG "event stream interpretation" does: CRLF, LF
 * or CR line ends, a leading BOM dropped, comments ignored, an event dispatched on a blank line
 * when it has data. A `retry:` is reported through `onRetry` and carried by every later event.
 * @example for await (const { event, data } of parseSse(response.body!.getReader())) console.log(event, data);
 */
export async function* parseSse(
	reader: ReadableStreamDefaultReader<Uint8Array>,
	options: SseParseOptions = {}
): AsyncGenerator<SseEvent, void, undefined> {
	let data = '';
	let event = '';
	let id = '';
	let retry: number | undefined;
	for await (const line of readStream(reader, /\r\n|\r|\n/)) {
		if (line === '') {
			if (data !== '') {
				const message: SseEvent = { event: event || 'message', data: data.slice(0, -1) };
				if (id) message.id = id;
				if (retry !== undefined) message.retry = retry;
				yield message;
			}
			data = event = '';
			continue;
		}
		if (line.startsWith(':')) continue;
		const colon = line.indexOf(':');
		const field = colon === -1 ? line : line.slice(0, colon);
		let value = colon === -1 ? '' : line.slice(colon + 1);
		if (value.startsWith(' ')) value = value.slice(1);
		if (field === 'data') data += value + '\n';
		else if (field === 'event') event = value;
		else if (field === 'id' && !value.includes('\0')) id = value;
		else if (field === 'retry' && /^\d+$/.test(value)) {
			retry = Number(value);
			options.onRetry?.(retry);
		}
	}
}

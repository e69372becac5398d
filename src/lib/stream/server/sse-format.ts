/** One event of an event map `E`: the `data` type follows the `event` name. */
export type SseMessage<E extends Record<string, unknown>> = {
	[K in keyof E & string]: { id?: string; event: K; data: E[K] };
}[keyof E & string];

const EVENT_NAME = /^[\w.:-]+$/;
const LINE_BREAK = /\r\n|\r|\n/;

// A broadcast hands one data object to every client: serialize it once. Data must not be mutated after it is sent.
const dataLines = new WeakMap<object, string>();

function linesOf(data: unknown): string {
	const cacheable = typeof data === 'object' && data !== null;
	if (cacheable) {
		const hit = dataLines.get(data);
		if (hit !== undefined) return hit;
	}
	let lines = '';
	for (const line of (JSON.stringify(data) ?? 'null').split(LINE_BREAK)) lines += `data: ${line}\n`;
	if (cacheable) dataLines.set(data, lines);
	return lines;
}

/**
 * Serializes one message as an SSE block; the data is always JSON, one `data:` line per line of
 * it, so a payload can never end the block or forge a field. Throws on an id with CR, LF or NUL
 * or an event name outside [\w.:-].
 * @example formatMessage({ id: '7', event: 'note', data: { text: 'hi' } }); // 'id: 7\nevent: note\ndata: {"text":"hi"}\n\n'
 */
export function formatMessage(message: { id?: string; event: string; data: unknown }): string {
	const { id, event, data } = message;
	if (!EVENT_NAME.test(event)) throw new TypeError(`SSE event name must match ${EVENT_NAME}, got ${JSON.stringify(event)}`);
	let block = '';
	if (id !== undefined) {
		if (/[\r\n\0]/.test(id)) throw new TypeError(`SSE id must not contain CR, LF or NUL, got ${JSON.stringify(id)}`);
		block += `id: ${id}\n`;
	}
	return block + `event: ${event}\n` + linesOf(data) + '\n';
}

/** A `retry:` block telling the client how long to wait before reconnecting. */
export function formatRetry(ms: number): string {
	return `retry: ${Math.max(0, Math.floor(ms))}\n\n`;
}

/** A comment block (ignored by clients; keeps proxies from timing the stream out). */
export function formatComment(text = ''): string {
	return `:${text && ' ' + text.replace(/[\r\n]+/g, ' ')}\n\n`;
}

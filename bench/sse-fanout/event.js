// The bench's event: data `{"t":<send time µs>,"p":"<padding>"}` sized so the whole SSE block is EVENT_BYTES.

/** Bytes of one SSE block on the wire (before HTTP chunk framing). */
export const EVENT_BYTES = 256;

/** The event name every server uses. */
export const EVENT_NAME = 'tick';

/** Microseconds on the system-wide monotonic clock: comparable between processes on one machine. */
export function nowMicros() {
	return Number(process.hrtime.bigint() / 1000n);
}

const pads = new Map();

/**
 * The data of one event whose block, with `framing` bytes of field names, separators and id around
 * the JSON, is EVENT_BYTES long.
 * @example eventData('id: 7\nevent: tick\ndata: \n\n'.length) // { t: 123…, p: 'xxx…' }
 */
export function eventData(framing) {
	const t = nowMicros();
	const length = EVENT_BYTES - framing - `{"t":${t},"p":""}`.length;
	let p = pads.get(length);
	if (p === undefined) pads.set(length, (p = 'x'.repeat(Math.max(0, length))));
	return { t, p };
}

/** Framing of `id: <id>\nevent: tick\ndata: <json>\n\n` (bare node:http and runnel). */
export const spacedFraming = (id) => `id: ${id}\nevent: ${EVENT_NAME}\ndata: \n\n`.length;

/** Framing of better-sse's `event:tick\nid:<id>\ndata:<json>\n\n`. */
export const compactFraming = (id) => `event:${EVENT_NAME}\nid:${id}\ndata:\n\n`.length;

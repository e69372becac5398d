/** Shape of a Redis stream id as the bus hands it out (`ms-seq`), or "0" for "before everything". */
const ID = /^(0|\d{1,15}-\d{1,10})$/;

/** True when `raw` has the shape of a Redis stream id of the bus. */
export function isStreamId(raw: string): boolean {
	return ID.test(raw);
}

function parts(id: string): [number, number] {
	const dash = id.indexOf('-');
	return dash < 0 ? [Number(id), 0] : [Number(id.slice(0, dash)), Number(id.slice(dash + 1))];
}

/** Orders two stream ids ("0" counts as 0-0): negative, 0 or positive. */
export function compareStreamIds(a: string, b: string): number {
	const [am, as] = parts(a);
	const [bm, bs] = parts(b);
	return am - bm || as - bs;
}

/** "0-0" (what Redis says of an empty history) as the bus's "0"; other ids unchanged. */
export function publicId(id: string): string {
	return id === '0-0' ? '0' : id;
}

/** Field `name` of a flat Redis reply such as XINFO STREAM's. */
export function field(reply: unknown, name: string): unknown {
	if (!Array.isArray(reply)) return undefined;
	for (let i = 0; i + 1 < reply.length; i += 2) if (reply[i] === name) return reply[i + 1];
	return undefined;
}

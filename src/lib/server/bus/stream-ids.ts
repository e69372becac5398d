import { createHmac } from 'node:crypto';
import { HttpError } from '../errors';

/**
 * Stream ids tie a bus id to its topic: `<tag>.<bus id>`, the tag an HMAC of the topic, so an id
 * from another stream (another user's, say) is refused and the topic never shows in the id.
 */
export class StreamIds {
	constructor(private readonly secret: Buffer) {}

	#tag(topic: string): string {
		return createHmac('sha256', this.secret).update(topic).digest('base64url').slice(0, 12);
	}

	/** The SSE id for a bus event of `topic`. */
	encode(topic: string, busId: string): string {
		return `${this.#tag(topic)}.${busId}`;
	}

	/** The bus id inside `raw`, or a 400 when it is malformed or belongs to another stream. */
	decode(topic: string, raw: string, isBusId: (id: string) => boolean): string {
		const dot = raw.indexOf('.');
		const busId = raw.slice(dot + 1);
		if (dot !== 12 || raw.length > 100 || !isBusId(busId)) {
			throw new HttpError(400, 'Malformed Last-Event-ID: reconnect without it.');
		}
		if (raw.slice(0, dot) !== this.#tag(topic)) {
			throw new HttpError(400, 'This Last-Event-ID belongs to another stream: reconnect without it.');
		}
		return busId;
	}
}

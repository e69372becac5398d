/** An error meant for the person at the other end: an HTTP status and a sentence they can act on. */
export class HttpError extends Error {
	override name = 'HttpError';
	constructor(
		readonly status: number,
		message: string,
		/** Seconds until a retry may succeed (for 429). */
		readonly retryAfter?: number
	) {
		super(message);
	}
}

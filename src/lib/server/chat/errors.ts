/** A refusal the sender can read and act on; it becomes `{ ok: false, error }` on the ack. */
export class ChatError extends Error {
	override name = 'ChatError';
	constructor(
		message: string,
		/** Milliseconds until trying again can succeed (rate limits). */
		readonly retryAfter?: number
	) {
		super(message);
	}
}

/** The one answer for a room that is missing, private to others or closed to a non-member: existence never leaks. */
export const noSuchRoom = () => new ChatError('No such room.');

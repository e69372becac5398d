// better-sse: one session per client, all registered on a Channel that broadcasts each event.
import { createChannel, createSession } from 'better-sse';
import { EVENT_NAME, compactFraming, eventData } from './event.js';
import { serveBench } from './harness.js';

const channel = createChannel();

await serveBench({
	async handle(req, res) {
		// Resolves once connected (headers and the retry line sent).
		channel.register(await createSession(req, res));
	},
	broadcast(seq) {
		const eventId = String(seq);
		channel.broadcast(eventData(compactFraming(eventId)), EVENT_NAME, { eventId });
	}
});

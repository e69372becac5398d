// Runnel's sse() on the production server's event-stream path (answerEventStream, as serve() runs it for a
// GET that accepts text/event-stream), fed by an in-memory broadcast; SvelteKit's respond() (hooks, routing) is left out.
import { answerEventStream } from '$lib/server/node-level';
import { sse } from '$lib/stream/server';
import { Broadcast } from './broadcast.js';
import { EVENT_NAME, eventData, spacedFraming } from './event.js';
import { serveBench } from './harness.js';

const hub = new Broadcast();

await serveBench({
	handle(req, res) {
		answerEventStream((request) => sse(request, () => hub.subscribe()), req, res).catch((error) => {
			console.error(error);
			res.destroy();
		});
	},
	broadcast(seq) {
		const id = String(seq);
		hub.send({ id, event: EVENT_NAME, data: eventData(spacedFraming(id)) });
	},
	backlog: () => hub.backlog()
});

// Context, not a contender: the least any helper behind SvelteKit's getRequest/setResponse can cost,
// a bare pull stream over the same broadcast that enqueues each block encoded once per broadcast.
import { getRequest, setResponse } from '@sveltejs/kit/node';
import { Broadcast } from './broadcast.js';
import { EVENT_NAME, eventData, spacedFraming } from './event.js';
import { serveBench } from './harness.js';

const hub = new Broadcast();
const encoder = new TextEncoder();
const retry = encoder.encode('retry: 3000\n\n');
const encoded = new WeakMap();

/** The block of a message, encoded by its first stream and shared by the rest. */
function bytesOf(message) {
	let bytes = encoded.get(message);
	if (!bytes) {
		bytes = encoder.encode(`id: ${message.id}\nevent: ${message.event}\ndata: ${JSON.stringify(message.data)}\n\n`);
		encoded.set(message, bytes);
	}
	return bytes;
}

await serveBench({
	async handle(req, res) {
		const request = await getRequest({ request: req, base: 'http://127.0.0.1' });
		const messages = hub.subscribe(request.signal);
		const body = new ReadableStream(
			{
				start: (controller) => controller.enqueue(retry),
				async pull(controller) {
					const { done, value } = await messages.next();
					if (done) controller.close();
					else controller.enqueue(bytesOf(value));
				},
				cancel: () => void messages.return()
			},
			{ highWaterMark: 0 }
		);
		await setResponse(res, new Response(body, { headers: { 'content-type': 'text/event-stream; charset=utf-8' } }));
	},
	broadcast(seq) {
		const id = String(seq);
		hub.send({ id, event: EVENT_NAME, data: eventData(spacedFraming(id)) });
	},
	backlog: () => hub.backlog()
});

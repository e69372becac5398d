// EXPERIMENT (temporary): the conversion floor, a pull-based ReadableStream over the same broadcast, through getRequest/setResponse.
import { getRequest, setResponse } from '@sveltejs/kit/node';
import { Broadcast } from './broadcast.js';
import { EVENT_NAME, eventData, spacedFraming } from './event.js';
import { serveBench } from './harness.js';

const hub = new Broadcast();
const encoder = new TextEncoder();
const blocks = new WeakMap();
function bytesOf(m) {
	let b = blocks.get(m);
	if (!b) blocks.set(m, (b = encoder.encode(`id: ${m.id}\nevent: ${m.event}\ndata: ${JSON.stringify(m.data)}\n\n`)));
	return b;
}

await serveBench({
	async handle(req, res) {
		const request = await getRequest({ request: req, base: 'http://127.0.0.1' });
		const it = hub.subscribe(request.signal);
		const body = new ReadableStream({
			start(c) { c.enqueue(encoder.encode('retry: 3000\n\n')); },
			async pull(c) {
				const { done, value } = await it.next();
				if (done) c.close();
				else c.enqueue(bytesOf(value));
			},
			cancel() { it.return(); }
		}, { highWaterMark: 0 });
		await setResponse(res, new Response(body, { headers: { 'content-type': 'text/event-stream' } }));
	},
	broadcast(seq) {
		const id = String(seq);
		hub.send({ id, event: EVENT_NAME, data: eventData(spacedFraming(id)) });
	},
	backlog: () => hub.backlog()
});

// Runnel's sse() behind SvelteKit's own node:http <-> Request/Response conversion, fed by an in-memory broadcast.
import { getRequest, setResponse } from '@sveltejs/kit/node';
import { sse } from '$lib/stream/server';
import { forSetResponse } from '$lib/stream/server/sse-node';
import { Broadcast } from './broadcast.js';
import { EVENT_NAME, eventData, spacedFraming } from './event.js';
import { serveBench } from './harness.js';

const hub = new Broadcast();

await serveBench({
	async handle(req, res) {
		try {
			const request = await getRequest({ request: req, base: 'http://127.0.0.1' });
			await setResponse(res, forSetResponse(await sse(request, () => hub.subscribe())));
		} catch (error) {
			console.error(error);
			res.destroy();
		}
	},
	broadcast(seq) {
		const id = String(seq);
		hub.send({ id, event: EVENT_NAME, data: eventData(spacedFraming(id)) });
	},
	backlog: () => hub.backlog()
});

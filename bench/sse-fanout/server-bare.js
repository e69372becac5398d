// The ceiling: node:http writing each block by hand, one res.write per client, nothing else.
import { EVENT_NAME, eventData, spacedFraming } from './event.js';
import { serveBench } from './harness.js';

const clients = new Set();

await serveBench({
	handle(req, res) {
		res.writeHead(200, {
			'content-type': 'text/event-stream; charset=utf-8',
			'cache-control': 'no-cache, no-transform',
			'x-accel-buffering': 'no'
		});
		res.write('retry: 3000\n\n');
		clients.add(res);
		res.once('close', () => clients.delete(res));
	},
	broadcast(seq) {
		const id = String(seq);
		const block = `id: ${id}\nevent: ${EVENT_NAME}\ndata: ${JSON.stringify(eventData(spacedFraming(id)))}\n\n`;
		for (const res of clients) res.write(block);
	}
});

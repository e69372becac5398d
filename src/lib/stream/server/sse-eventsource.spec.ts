import { EventSource } from 'eventsource';
import { afterEach, expect, it } from 'vitest';
import { sse } from './sse';
import { serve, type TestServer } from './test-server';

type Events = { note: { text: string } };

let server: TestServer | undefined;
afterEach(() => server?.close());

it('round-trips with the eventsource package, resuming by Last-Event-ID after the stream ends', async () => {
	const seen: (string | null)[] = [];
	server = await serve((request) =>
		sse<Events>(
			request,
			async function* ({ lastEventId }) {
				seen.push(lastEventId);
				const after = Number(lastEventId ?? 0);
				for (let id = after + 1; id <= Math.min(after + 3, 5); id++) {
					yield { id: String(id), event: 'note', data: { text: `ü ${id} 😀` } };
				}
			},
			{ retryMs: 20 }
		)
	);
	const source = new EventSource(server.url);
	const received: { id: string; text: string }[] = [];
	await new Promise<void>((resolve, reject) => {
		source.addEventListener('note', (event) => {
			received.push({ id: event.lastEventId, text: (JSON.parse(event.data) as Events['note']).text });
			if (event.lastEventId === '5') resolve();
		});
		setTimeout(() => reject(new Error(`timed out with ${JSON.stringify(received)}`)), 5000);
	});
	source.close();
	expect(received).toEqual([1, 2, 3, 4, 5].map((id) => ({ id: String(id), text: `ü ${id} 😀` })));
	expect(seen.slice(0, 2)).toEqual([null, '3']);
});

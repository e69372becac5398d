// The app's real path: the production server's event-stream path (answerEventStream), sse() over follow() over
// LocalBus (SQLite in a temp dir), one publish per broadcast; SvelteKit's respond() (hooks, routing) is left out.
import { follow } from '$lib/server/bus/follow';
import { answerEventStream } from '$lib/server/node-level';
import { loadConfig } from '$lib/server/config';
import { initRuntime } from '$lib/server/runtime';
import { sse } from '$lib/stream/server';
import { EVENT_NAME, eventData, spacedFraming } from './event.js';
import { serveBench } from './harness.js';

const TOPIC = 'bench:fanout';
/** follow() ids are `<12-character tag>.<bus id>`. */
const TAG = 'x'.repeat(12);

// index.js hands over an empty directory and removes it afterwards, however this process ends.
const dataDir = process.env.BENCH_DATA_DIR;
if (!dataDir) throw new Error('BENCH_DATA_DIR must name an empty directory for the SQLite store');
const rt = await initRuntime(loadConfig({ DATA_DIR: dataDir, DEMO_DATA: 'false', LOG_LEVEL: 'silent' }));

let committed = 0;
const readers = new Set();

/** Counts how far a client's source has been read, so the full-speed loop can wait for the slowest. */
function counted(iterable) {
	const inner = iterable[Symbol.asyncIterator]();
	const reader = { start: committed, calls: 0 };
	readers.add(reader);
	const iterator = {
		next() {
			reader.calls++;
			return inner.next();
		},
		return(value) {
			readers.delete(reader);
			return inner.return ? inner.return(value) : Promise.resolve({ done: true, value });
		},
		[Symbol.asyncIterator]: () => iterator
	};
	return iterator;
}

await serveBench({
	handle(req, res) {
		const respond = (request) =>
			sse(request, async (ctx) => counted(await follow(TOPIC, ctx)), {
				heartbeatMs: rt.config.sseHeartbeatMs,
				maxQueue: rt.config.sseMaxQueue
			});
		answerEventStream(respond, req, res).catch((error) => {
			console.error(error);
			res.destroy();
		});
	},
	async broadcast(seq) {
		const data = eventData(spacedFraming(`${TAG}.${seq}`));
		await rt.bus.publish(TOPIC, { type: EVENT_NAME, data });
		committed++;
	},
	backlog() {
		let most = 0;
		for (const { start, calls } of readers) most = Math.max(most, committed - start - Math.max(0, calls - 1));
		return most;
	}
});

// The server side of every contender: an HTTP server on 127.0.0.1 driven over IPC by index.js.
import { createServer } from 'node:http';
import { getHeapSpaceStatistics } from 'node:v8';
import { setImmediate as immediate, setTimeout as sleep } from 'node:timers/promises';
import { answer } from './ipc.js';

/** Unread source messages a client may hold before the full-speed loop waits (runnel's queue is bounded). */
const MAX_BACKLOG = 64;

/**
 * Serves one SSE implementation and runs the broadcast loops the orchestrator asks for.
 * `handle(req, res)` serves a stream; `broadcast(seq)` sends event `seq` to every client (may be
 * async); `backlog()` is the most messages any client's source holds unread (0 when none).
 * @example await serveBench({ handle, broadcast: (seq) => channel.broadcast(seq), backlog: () => 0 });
 */
export async function serveBench({ handle, broadcast, backlog = () => 0 }) {
	const responses = new Set();
	const server = createServer((req, res) => {
		responses.add(res);
		res.once('close', () => responses.delete(res));
		handle(req, res);
	});
	await new Promise((resolve) => server.listen({ port: 0, host: '127.0.0.1', backlog: 4096 }, resolve));
	let seq = 0;

	/** True while any client is behind: its socket needs a drain or its source has a backlog. */
	const behind = () => {
		if (backlog() > MAX_BACKLOG) return true;
		for (const res of responses) if (res.writableNeedDrain) return true;
		return false;
	};

	/** Runs `body`, returning its result with the wall and CPU time it took. */
	async function timed(body) {
		const cpu = process.cpuUsage();
		const start = performance.now();
		const result = await body();
		const used = process.cpuUsage(cpu);
		return { ...result, wallMs: performance.now() - start, cpuMs: (used.user + used.system) / 1000 };
	}

	answer({
		ready: () => ({ port: server.address().port }),
		clients: () => ({ count: responses.size }),
		async memory() {
			for (let i = 0; i < 3; i++) {
				global.gc();
				await sleep(50);
			}
			const { rss, heapUsed, external, arrayBuffers } = process.memoryUsage();
			// The young generation's resident pages: its size is fixed by the flags, but how much of it is
			// resident at this moment depends on where the last scavenges left it (0 to 32 MB).
			let young = 0;
			for (const space of getHeapSpaceStatistics()) if (space.space_name.startsWith('new_')) young += space.physical_space_size;
			return { rss, young, heapUsed, external, arrayBuffers };
		},
		// As fast as the clients take it: `batch` broadcasts per turn of the event loop, waiting while anyone is behind.
		flood: ({ ms, batch }) =>
			timed(async () => {
				const end = performance.now() + ms;
				let sent = 0;
				while (performance.now() < end) {
					if (behind()) {
						await immediate();
						continue;
					}
					const pending = [];
					for (let i = 0; i < batch; i++) {
						const result = broadcast(++seq);
						if (result) pending.push(result);
					}
					sent += batch;
					if (pending.length) await Promise.all(pending);
					await immediate();
				}
				return { sent };
			}),
		// One broadcast every `intervalMs`, on a fixed schedule.
		paced: ({ count, intervalMs }) =>
			timed(async () => {
				const start = performance.now();
				for (let i = 0; i < count; i++) {
					const wait = start + i * intervalMs - performance.now();
					if (wait > 0) await sleep(wait);
					await broadcast(++seq);
				}
				return { sent: count };
			})
	});
}

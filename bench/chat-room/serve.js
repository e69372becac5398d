// The server side of both contenders: IPC commands around a Socket.IO server on 127.0.0.1.
import { setTimeout as sleep } from 'node:timers/promises';
import { writeHeapSnapshot } from 'node:v8';
import { answer } from '../sse-fanout/ipc.js';

/**
 * Answers the orchestrator: `ready` (port and what the load generator needs to connect),
 * `clients` (sockets connected), `cpu` (CPU time so far), `gc`, `memory` (after gc(); with BENCH_HEAP_SNAPSHOT_DIR set, a heap snapshot too).
 * @example serveBench({ io, port, setup: { room: 'bench', clients: [{ auth: null }] } });
 */
export function serveBench({ io, port, setup }) {
	answer({
		ready: () => ({ port, ...setup }),
		clients: () => ({ count: io.of('/').sockets.size }),
		/** CPU time used so far (ms): read around a step, it gives the server's cost per message. */
		cpu: () => {
			const { user, system } = process.cpuUsage();
			return { ms: (user + system) / 1000 };
		},
		/** Collects garbage now (before the sweep: what connecting left is not collected during a step). */
		gc: async () => {
			for (let i = 0; i < 2; i++) {
				global.gc();
				await sleep(50);
			}
			return {};
		},
		async memory() {
			for (let i = 0; i < 3; i++) {
				global.gc();
				await sleep(50);
			}
			const { rss, heapUsed, external } = process.memoryUsage();
			// BENCH_HEAP_SNAPSHOT_DIR=/tmp/heap: a heap snapshot at each reading (before and with the clients), to diff.
			const dir = process.env.BENCH_HEAP_SNAPSHOT_DIR;
			if (dir) writeHeapSnapshot(`${dir}/${process.pid}-${Date.now()}.heapsnapshot`);
			return { rss, heapUsed, external };
		}
	});
}

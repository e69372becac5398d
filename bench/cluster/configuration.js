// One configuration of bench/cluster: N instances on a fresh database and Redis prefix, with an SSE
// and a chat load generator connected to them, measured a step at a time.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { call } from '../sse-fanout/ipc.js';
import { metered, startChild, stopChild, waitFor } from './children.js';
import { freshStores } from './stores.js';

const root = fileURLToPath(new URL('../..', import.meta.url));

/**
 * Starts `count` instances of `file` (one at a time: the first runs the migrations and publishes),
 * signs `chatClients` users into one room, and connects the SSE clients and chat sockets, split
 * evenly over the instances. `close()` stops everything and drops the database and prefix.
 * @example const one = await openConfiguration({ name: 'one instance', count: 1, … }); await one.sseBurst(300); await one.close();
 */
export async function openConfiguration({ name, count, file, databaseUrl, redisUrl, sseClients, chatClients }) {
	const stores = await freshStores(databaseUrl, redisUrl);
	const dataDirs = [];
	const instances = [];
	const loads = [];
	const close = async () => {
		await Promise.all([...loads, ...instances].map(stopChild));
		for (const dir of dataDirs) rmSync(dir, { recursive: true, force: true });
		await stores.drop();
	};
	try {
		const ports = [];
		for (let i = 0; i < count; i++) {
			dataDirs.push(mkdtempSync(join(tmpdir(), 'runnel-bench-cluster-')));
			instances.push(startChild(file, { ...stores.env, DATA_DIR: dataDirs.at(-1) }));
			ports.push((await call(instances[i], { type: 'ready' })).port);
		}
		const { roomId, cookies } = await call(instances[0], { type: 'setup', count: chatClients });
		const counts = async () => Promise.all(instances.map((i) => call(i, { type: 'clients' })));

		const sseLoad = startChild(`${root}bench/sse-fanout/load.js`);
		loads.push(sseLoad);
		for (const port of ports) {
			const { open, failed } = await call(sseLoad, { type: 'connect', port, count: sseClients / count });
			if (failed) throw new Error(`${name}: ${failed} SSE clients could not connect (${open} open)`);
		}
		await waitFor(async () => (await counts()).every((c) => c.streams === sseClients / count), 'every SSE client to be served');

		const chatLoad = startChild(`${root}bench/chat-room/load.js`);
		loads.push(chatLoad);
		const clients = cookies.map((cookie, i) => ({ cookie, port: ports[i % count] }));
		const { open, failed } = await call(chatLoad, { type: 'connect', port: ports[0], clients });
		if (open !== chatClients) throw new Error(`${name}: only ${open} of ${chatClients} sockets connected (${failed} refused)`);
		await waitFor(async () => (await counts()).reduce((n, c) => n + c.sockets, 0) === chatClients, 'every socket to be connected');

		/** Every SSE client must have all `sent` events: a missing one, or a client cut off, fails the bench. */
		const drain = async (sent) => {
			const drained = await call(sseLoad, { type: 'drain', perClient: sent, quietMs: 3000 });
			if (drained.open !== sseClients) throw new Error(`${name}: ${sseClients - drained.open} SSE clients were cut off`);
			if (drained.complete !== sseClients) throw new Error(`${name}: lost SSE events: ${sseClients - drained.complete} clients missed some of ${sent}`);
			return drained;
		};
		/** One chat run; a refused message or a delivery that never came fails the bench. */
		const chatRun = (rate, ms) =>
			metered(instances, async () => {
				const result = await call(chatLoad, { type: 'run', roomId, rate, ms });
				if (result.failed) throw new Error(`${name}: ${result.failed} of ${result.sent} messages refused at ${rate}/s: ${result.firstError}`);
				if (result.delivered < result.expected) throw new Error(`${name}: lost chat messages: ${result.expected - result.delivered} of ${result.expected} deliveries missing`);
				return { ...result, deliveries: result.delivered, perSec: result.delivered / (result.wallMs / 1000), loadCpuMs: result.cpuMs };
			});

		return {
			name,
			close,
			/** `rate` events a second for `ms`, latency from the publish call to each client. */
			ssePaced: (rate, ms) =>
				metered(instances, async () => {
					await call(sseLoad, { type: 'start', latency: true });
					const { sent } = await call(instances[0], { type: 'publish', rate, ms });
					const window = await call(sseLoad, { type: 'stop' });
					return { latency: (await drain(sent)).latency, loadCpuMs: window.cpuMs };
				}),
			/** `events` published at once: deliveries a second until every client has them all. */
			sseBurst: (events) =>
				metered(instances, async () => {
					await call(sseLoad, { type: 'start', latency: false });
					const start = performance.now();
					const { sent } = await call(instances[0], { type: 'burst', count: events });
					const drained = await drain(sent);
					const window = await call(sseLoad, { type: 'stop' });
					return { deliveries: drained.events, perSec: drained.events / ((performance.now() - start) / 1000), loadCpuMs: window.cpuMs };
				}),
			/** `rate` messages a second for `ms`, latency from sender to each receiver. */
			chatPaced: (rate, ms) => chatRun(rate, ms),
			/** `messages` sent over `ms`: deliveries a second until every socket has them all. */
			chatBurst: (messages, ms) => chatRun((messages * 1000) / ms, ms)
		};
	} catch (error) {
		await close();
		throw error;
	}
}

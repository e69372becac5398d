// The load generator: socket.io-client sockets over WebSocket, senders at a fixed rate, every receiver timing each message.
import { setTimeout as sleep } from 'node:timers/promises';
import { io } from 'socket.io-client';
import { answer } from '../sse-fanout/ipc.js';

/** Message text: the send time, padded to a typical chat line. */
const PAD = ' '.repeat(80);
const TICK_MS = 2;

let sockets = [];
let step = null;

function percentile(sorted, p) {
	return sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] : NaN;
}

function onMessage(message) {
	if (!step || typeof message?.text !== 'string') return;
	step.delivered++;
	if (step.delivered <= step.latencies.length) step.latencies[step.delivered - 1] = performance.now() - Number(message.text.slice(0, message.text.indexOf(' ')));
}

answer({
	/** Connects every client to `port`, or to its own `client.port` (bench/cluster spreads them over instances). */
	async connect({ port, clients }) {
		let failed = 0;
		let reason = null;
		sockets = await Promise.all(
			clients.map(
				(client) =>
					new Promise((resolve) => {
						const socket = io(`http://127.0.0.1:${client.port ?? port}`, {
							transports: ['websocket'],
							reconnection: false,
							// A thousand handshakes at once (the memory reading) can take a while on one core.
							timeout: 60_000,
							auth: client.auth ?? {},
							extraHeaders: client.cookie ? { cookie: client.cookie } : {}
						});
						socket.on('message:new', onMessage);
						// As the app's ChatSession does (runnel only; bare sends none).
						socket.on('welcome', (_info, ack) => ack?.());
						socket.once('connect', () => resolve(socket));
						socket.once('connect_error', (error) => {
							failed++;
							reason ??= error.message;
							resolve(socket);
						});
					})
			)
		);
		return { open: sockets.filter((s) => s.connected).length, failed, reason };
	},
	/** Sends `rate` messages a second for `ms`, round-robin over the sockets, then waits for every delivery (or 2 s of silence). */
	async run({ roomId, rate, ms }) {
		const cpu = process.cpuUsage();
		// Room for every delivery up front: a growing array would be copied (and collected) mid-step.
		step = { delivered: 0, latencies: new Float64Array(Math.ceil((rate * ms) / 1000) * sockets.length) };
		let sent = 0;
		let acked = 0;
		let failed = 0;
		let firstError = null;
		const start = performance.now();
		await new Promise((resolve) => {
			const timer = setInterval(() => {
				const elapsed = performance.now() - start;
				const due = Math.min(Math.floor((elapsed * rate) / 1000), Math.floor((ms * rate) / 1000));
				while (sent < due) {
					const socket = sockets[sent % sockets.length];
					sent++;
					const text = `${performance.now().toFixed(3)}${PAD}`;
					socket.emit('message:send', { roomId, clientId: `m${rate}-${sent}-${Math.random().toString(36).slice(2, 8)}`, text }, (reply) => {
						if (reply?.ok) return void acked++;
						failed++;
						firstError ??= reply?.error ?? String(reply);
					});
				}
				if (elapsed >= ms) {
					clearInterval(timer);
					resolve();
				}
			}, TICK_MS);
		});
		const expected = sent * sockets.length;
		let last = -1;
		let quietSince = performance.now();
		while (step.delivered < expected && performance.now() - quietSince < 2000) {
			if (step.delivered !== last) {
				last = step.delivered;
				quietSince = performance.now();
			}
			await sleep(20);
		}
		const wallMs = performance.now() - start;
		const used = process.cpuUsage(cpu);
		const sorted = step.latencies.subarray(0, Math.min(step.delivered, step.latencies.length)).sort();
		const result = {
			sent,
			acked,
			failed,
			firstError,
			expected,
			delivered: step.delivered,
			latency: { p50: percentile(sorted, 50), p99: percentile(sorted, 99), max: sorted.at(-1) ?? NaN, n: sorted.length },
			cpuMs: (used.user + used.system) / 1000,
			wallMs
		};
		step = null;
		return result;
	},
	async close() {
		for (const socket of sockets) socket.close();
		sockets = [];
		return {};
	}
});

// The load generator: N node:http SSE clients with a minimal parser that counts events and reads their send time.
import { Agent, request } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { nowMicros } from './event.js';
import { answer } from './ipc.js';

const agent = new Agent({ keepAlive: false, maxSockets: Infinity });
/** Connections opened at once while connecting. */
const WAVE = 100;

const clients = new Set();
let events = 0;
let bytes = 0;
let recording = false;
let latencies = new Float64Array(1 << 16);
let samples = 0;
let closedEarly = 0;
let window = { start: 0, cpu: process.cpuUsage() };

function record(micros) {
	if (samples === latencies.length) {
		const grown = new Float64Array(latencies.length * 2);
		grown.set(latencies);
		latencies = grown;
	}
	latencies[samples++] = micros;
}

let turnTime = 0;

/**
 * When this turn of the event loop woke up with data: every socket read in one turn shares it, so
 * the time this one process takes to get through 1,000 sockets (1,000 separate clients in real
 * life) does not count as server latency.
 */
function receiveTime() {
	if (turnTime === 0) {
		turnTime = nowMicros();
		setImmediate(() => (turnTime = 0));
	}
	return turnTime;
}

/**
 * Parses SSE as it arrives (LF line ends, as every contender sends): a blank line after a `data:`
 * line is one event; while recording, the event's latency is now minus its `"t":` send time.
 */
function onData(client, chunk) {
	const now = recording ? receiveTime() : 0;
	bytes += chunk.length;
	const text = client.rest ? client.rest + chunk.toString('latin1') : chunk.toString('latin1');
	let start = 0;
	for (let end = text.indexOf('\n'); end !== -1; start = end + 1, end = text.indexOf('\n', start)) {
		if (end === start) {
			if (!client.data) continue;
			events++;
			client.events++;
			if (recording && client.sentAt > 0) record(now - client.sentAt);
			client.data = false;
			client.sentAt = 0;
		} else if (text.startsWith('data:', start)) {
			client.data = true;
			if (recording) {
				const at = text.indexOf('"t":', start);
				if (at !== -1 && at < end) client.sentAt = parseInt(text.slice(at + 4, at + 24), 10);
			}
		}
	}
	client.rest = start < text.length ? text.slice(start) : '';
}

/** Opens one SSE client; resolves once its first body bytes (the retry line) arrived. */
function open(port) {
	return new Promise((resolve, reject) => {
		const req = request({ host: '127.0.0.1', port, path: '/events', agent, headers: { accept: 'text/event-stream' } });
		req.on('response', (res) => {
			if (res.statusCode !== 200) return reject(new Error(`status ${res.statusCode}`));
			const client = { req, res, rest: '', data: false, sentAt: 0, events: 0, closing: false };
			res.on('data', (chunk) => onData(client, chunk));
			res.once('data', () => {
				clients.add(client);
				resolve();
			});
			res.once('close', () => {
				if (!client.closing && clients.delete(client)) closedEarly++;
			});
		});
		req.on('error', reject);
		req.end();
	});
}

function percentile(sorted, p) {
	if (sorted.length === 0) return NaN;
	return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

answer({
	async connect({ port, count }) {
		const start = performance.now();
		let failed = 0;
		for (let opened = 0; opened < count; opened += WAVE) {
			const wave = Array.from({ length: Math.min(WAVE, count - opened) }, () => open(port));
			for (const result of await Promise.allSettled(wave)) if (result.status === 'rejected') failed++;
		}
		return { open: clients.size, failed, ms: performance.now() - start };
	},
	/** Starts a measuring window: counters from zero; latencies kept when `latency` is set. */
	start({ latency }) {
		events = 0;
		bytes = 0;
		samples = 0;
		recording = Boolean(latency);
		for (const client of clients) client.events = 0;
		window = { start: performance.now(), cpu: process.cpuUsage() };
		return {};
	},
	/** Ends the window: what arrived in it, and the CPU the load generator spent. */
	stop() {
		const used = process.cpuUsage(window.cpu);
		return { events, bytes, wallMs: performance.now() - window.start, cpuMs: (used.user + used.system) / 1000 };
	},
	/** Waits until every open client has `perClient` events (or nothing arrived for `quietMs`), then checks for loss. */
	async drain({ perClient, quietMs = 1000 }) {
		let last = -1;
		let quietSince = performance.now();
		for (;;) {
			let complete = 0;
			for (const client of clients) if (client.events >= perClient) complete++;
			if (complete === clients.size) break;
			if (events !== last) {
				last = events;
				quietSince = performance.now();
			} else if (performance.now() - quietSince > quietMs) break;
			await sleep(20);
		}
		recording = false;
		let complete = 0;
		for (const client of clients) if (client.events === perClient) complete++;
		const sorted = latencies.slice(0, samples).sort();
		return {
			events,
			open: clients.size,
			complete,
			closedEarly,
			latency: {
				n: samples,
				p50: percentile(sorted, 50) / 1000,
				p99: percentile(sorted, 99) / 1000,
				max: percentile(sorted, 100) / 1000
			}
		};
	},
	async close() {
		for (const client of clients) {
			client.closing = true;
			client.req.destroy();
		}
		clients.clear();
		return {};
	}
});

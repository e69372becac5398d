// One Runnel instance of the cluster bench, on PostgreSQL and Redis from its environment: sse() over
// follow() on one bus topic at /events, and the app's Socket.IO chat (attachRealtime) on the same
// port; driven over IPC by index.js.
import { createServer } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { getRequest, setResponse } from '@sveltejs/kit/node';
import { createSession, SESSION_COOKIE } from '$lib/server/accounts';
import { follow } from '$lib/server/bus/follow';
import * as chat from '$lib/server/chat';
import { loadConfig } from '$lib/server/config';
import { attachRealtime } from '$lib/server/realtime/attach';
import { initRuntime } from '$lib/server/runtime';
import { sse } from '$lib/stream/server';
import { EVENT_NAME, eventData, spacedFraming } from '../sse-fanout/event.js';
import { answer } from '../sse-fanout/ipc.js';

const TOPIC = 'bench:fanout';
/** An SSE id as follow() writes it (`<12-character tag>.<Redis stream id>`), to size events to 256 bytes. */
const SAMPLE_ID = `${'x'.repeat(12)}.${Date.now()}-0`;
const TICK_MS = 2;
/** Publishes in flight at once during a burst. */
const BURST_WINDOW = 50;

// DATABASE_URL, REDIS_URL, REDIS_PREFIX and DATA_DIR come from index.js.
const rt = await initRuntime(loadConfig({ ...process.env, DEMO_DATA: 'false', ANALYTICS_SEED_EVENTS: '0', LOG_LEVEL: 'warn', CHAT_RATE_MESSAGES: '1000000' }));

let streams = 0;
const http = createServer(async (req, res) => {
	if (req.url !== '/events') return void res.writeHead(404).end();
	streams++;
	res.once('close', () => streams--);
	try {
		const request = await getRequest({ request: req, base: 'http://127.0.0.1' });
		const response = await sse(request, (ctx) => follow(TOPIC, ctx), { heartbeatMs: rt.config.sseHeartbeatMs, maxQueue: rt.config.sseMaxQueue });
		await setResponse(res, response);
	} catch (error) {
		console.error(error);
		res.destroy();
	}
});
const io = attachRealtime(http, rt);
await new Promise((resolve) => http.listen({ port: 0, host: '127.0.0.1', backlog: 4096 }, resolve));

let cpuMark = process.cpuUsage();

answer({
	ready: () => ({ port: http.address().port }),
	/** SSE streams and Socket.IO connections open on this instance. */
	clients: () => ({ streams, sockets: io.of('/').sockets.size }),
	/** CPU ms this process used since the last call. */
	cpu() {
		const used = process.cpuUsage(cpuMark);
		cpuMark = process.cpuUsage();
		return { ms: (used.user + used.system) / 1000 };
	},
	/** `count` users with sessions, all in one room; the cookies go to the load generator. */
	async setup({ count }) {
		const users = [];
		const cookies = [];
		for (let i = 1; i <= count; i++) {
			const name = `bench${i}`;
			const { id } = await rt.store.db
				.insertInto('users')
				.values({ name, name_key: name, password_hash: '-', role: 'user', created_at: Date.now() })
				.returning('id')
				.executeTakeFirstOrThrow();
			users.push({ id, name });
			cookies.push(`${SESSION_COOKIE}=${(await createSession(id)).token}`);
		}
		const { room } = await chat.rooms.create(users[0], { name: 'bench' });
		for (const user of users.slice(1)) await chat.rooms.join(user, { roomId: room.id });
		return { roomId: room.id, cookies };
	},
	/** Publishes `count` events as fast as Redis takes them, `BURST_WINDOW` at a time. */
	async burst({ count }) {
		const framing = spacedFraming(SAMPLE_ID);
		for (let sent = 0; sent < count; ) {
			const batch = [];
			for (const end = Math.min(count, sent + BURST_WINDOW); sent < end; sent++) batch.push(rt.bus.publish(TOPIC, { type: EVENT_NAME, data: eventData(framing) }));
			await Promise.all(batch);
		}
		return { sent: count };
	},
	/** Publishes `rate` events a second to the topic for `ms`, each carrying its send time. */
	async publish({ rate, ms }) {
		const framing = spacedFraming(SAMPLE_ID);
		const pending = [];
		let sent = 0;
		const start = performance.now();
		const total = Math.floor((ms * rate) / 1000);
		while (sent < total) {
			const due = Math.min(total, Math.floor(((performance.now() - start) * rate) / 1000));
			for (; sent < due; sent++) pending.push(rt.bus.publish(TOPIC, { type: EVENT_NAME, data: eventData(framing) }));
			await sleep(TICK_MS);
		}
		await Promise.all(pending);
		return { sent };
	}
});

// Runnel's real realtime path: attachRealtime() (cookie auth, Origin check, chat) over a runtime with
// SQLite in a temp dir: every message validated, rate checked, stored with its room id, then emitted.
import { createServer } from 'node:http';
import { createSession, SESSION_COOKIE } from '$lib/server/accounts';
import * as chat from '$lib/server/chat';
import { loadConfig } from '$lib/server/config';
import { attachRealtime } from '$lib/server/realtime/attach';
import { initRuntime } from '$lib/server/runtime';
import { serveBench } from './serve.js';

const CLIENTS = Number(process.env.BENCH_CLIENTS ?? 200);
const dataDir = process.env.BENCH_DATA_DIR;
if (!dataDir) throw new Error('BENCH_DATA_DIR must name an empty directory for the SQLite store');
const rt = await initRuntime(loadConfig({ DATA_DIR: dataDir, DEMO_DATA: 'false', LOG_LEVEL: 'silent', CHAT_RATE_MESSAGES: '1000000' }));

// Users (no password: they only ever use a session), their sessions, and one room they are all in.
const clients = [];
const users = [];
for (let i = 1; i <= CLIENTS; i++) {
	const { id } = await rt.store.db
		.insertInto('users')
		.values({ name: `user${i}`, name_key: `user${i}`, password_hash: '-', role: 'user', created_at: Date.now() })
		.returning('id')
		.executeTakeFirstOrThrow();
	users.push({ id, name: `user${i}` });
	const { token } = await createSession(id);
	clients.push({ auth: null, cookie: `${SESSION_COOKIE}=${token}` });
}
const { room } = await chat.rooms.create(users[0], { name: 'bench' });
for (const user of users.slice(1)) await chat.rooms.join(user, { roomId: room.id });

const http = createServer();
const io = attachRealtime(http, rt);
await new Promise((resolve) => http.listen({ port: 0, host: '127.0.0.1', backlog: 4096 }, resolve));
serveBench({ io, port: http.address().port, setup: { roomId: room.id, clients } });

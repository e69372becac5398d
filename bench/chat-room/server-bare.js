// The floor: a bare Socket.IO 4.8 server that only relays: a room, an id counter, an ack, a broadcast.
import { createServer } from 'node:http';
import { Server } from 'socket.io';
import { serveBench } from './serve.js';

const CLIENTS = Number(process.env.BENCH_CLIENTS ?? 200);
const http = createServer();
// BARE_RECOVERY=1: connection state recovery on, with the app's window (the bench's context row).
const recovery = process.env.BARE_RECOVERY === '1' ? { connectionStateRecovery: { maxDisconnectionDuration: 2 * 60 * 1000 } } : {};
const io = new Server(http, { serveClient: false, ...recovery });
let seq = 0;

io.on('connection', (socket) => {
	const user = { id: Number(socket.handshake.auth?.user ?? 0), name: `user${socket.handshake.auth?.user ?? 0}` };
	socket.join('room:1');
	socket.on('message:send', ({ roomId, clientId, text }, ack) => {
		// The same message shape the app sends, so both carry the same bytes.
		const message = { roomId, id: ++seq, kind: 'text', author: user, text, file: null, clientId, created: Date.now() };
		io.to('room:1').emit('message:new', message);
		ack({ ok: true, message, duplicate: false });
	});
});

await new Promise((resolve) => http.listen({ port: 0, host: '127.0.0.1', backlog: 4096 }, resolve));
serveBench({ io, port: http.address().port, setup: { roomId: 1, clients: Array.from({ length: CLIENTS }, (_, i) => ({ auth: { user: i + 1 }, cookie: null })) } });

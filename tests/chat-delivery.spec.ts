import { expect, test } from '@playwright/test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Socket } from 'socket.io-client';
import type { ChatMessage } from '../src/lib/shared/chat';
import type { HistoryPage } from '../src/lib/stream/client/chat-log';
import { callWithRetry } from '../src/lib/stream/client/socket-call';
import { chatSocket, connected, must, RoomLog, type ChatSocket } from './support/chat';
import { openAppDb } from './support/app-db';
import { signUp, until } from './support/clients';
import { startServer, type AppServer } from './support/server';

// The delivery guarantee, end to end: the real server and the client kit's own send, merge and
// catch-up code (the ChatSession runs the same functions), under connections dropped at random
// and one server restart on the same data and port.

const CLIENTS = 20;
const PER_CLIENT = 100;
const RETRY = { ackTimeout: 3000, retries: 50, offlineWait: 30_000 };

/** One chat client: sends its messages one after another, keeps the room's history like the page does. */
class Member {
	acked: ChatMessage[] = [];
	connects = { recovered: 0, fresh: 0, sinceRestart: 0 };
	readonly log: RoomLog;

	constructor(
		readonly name: string,
		readonly socket: ChatSocket,
		readonly roomId: number
	) {
		this.log = new RoomLog(roomId, (after) => callWithRetry<HistoryPage>(this.raw, 'messages:list', [{ roomId, after, limit: 200 }], RETRY));
		this.log.use(socket, () => {
			if (socket.recovered) this.connects.recovered++;
			else this.connects.fresh++;
			this.connects.sinceRestart++;
		});
	}

	get raw(): Socket {
		return this.socket as unknown as Socket;
	}

	async sendAll(): Promise<void> {
		for (let i = 0; i < PER_CLIENT; i++) {
			const reply = await callWithRetry<{ ok: true; message: ChatMessage } | { ok: false; error: string }>(
				this.raw,
				'message:send',
				[{ roomId: this.roomId, clientId: `${this.name}-${i}`, text: `${this.name} #${i}` }],
				RETRY
			);
			if (!reply.ok) throw new Error(`${this.name} #${i} refused: ${reply.error}`);
			this.acked.push(reply.message);
			this.log.receive(reply.message);
		}
	}
}

test('20 clients × 100 messages through random drops and a restart: stored = sent, no duplicate, order kept, one history for all', async () => {
	test.setTimeout(120_000);
	const dataDir = mkdtempSync(join(tmpdir(), 'runnel-delivery-'));
	const env = { CHAT_RATE_MESSAGES: '100000' };
	let app: AppServer = await startServer({ dataDir, env });
	const members: Member[] = [];
	try {
		const cookies: string[] = [];
		for (let i = 0; i < CLIENTS; i++) cookies.push(await signUp(app.url, `deliver${i}`));
		const owner = chatSocket(app.url, cookies[0]);
		const roomId = (await must(owner, 'room:create', { name: 'delivery' })).room.id;
		owner.close();
		for (const [i, cookie] of cookies.entries()) {
			const socket = chatSocket(app.url, cookie, { reconnectionDelay: 50, reconnectionDelayMax: 250, randomizationFactor: 0.5 });
			await connected(socket);
			if (i > 0) await must(socket, 'room:join', { roomId });
			members.push(new Member(`deliver${i}`, socket, roomId));
		}

		// Chaos: every 25 ms one random client's transport is cut (it reconnects, usually with state recovery).
		let drops = 0;
		const chaos = setInterval(() => {
			const engine = members[Math.floor(Math.random() * members.length)].socket.io.engine;
			if (engine?.readyState === 'open') {
				engine.close();
				drops++;
			}
		}, 25);
		const sending = Promise.all(members.map((m) => m.sendAll()));
		const total = () => members.reduce((n, m) => n + m.acked.length, 0);

		// One restart, a third of the way: same data, same port; every client must come back to it.
		await until(() => total() >= (CLIENTS * PER_CLIENT) / 3, 60_000, 'a third of the messages');
		await app.stop();
		const sentBeforeRestart = total();
		for (const member of members) member.connects.sinceRestart = 0;
		app = await startServer({ dataDir, env: { ...env, PORT: String(app.port) } });
		await sending;
		clearInterval(chaos);
		expect(sentBeforeRestart).toBeLessThan(CLIENTS * PER_CLIENT);

		// The truth, from the server's database.
		const db = await openAppDb(app);
		const stored = await db.all<{ seq: number; client_id: string | null; kind: string; body: string }>(
			'select seq, user_id, client_id, kind, body from chat_messages where room_id = ? order by seq',
			roomId
		);
		await db.close();
		const texts = stored.filter((m) => m.kind === 'text');
		expect(stored.map((m) => m.seq)).toEqual(stored.map((_, i) => i + 1));
		expect(texts).toHaveLength(CLIENTS * PER_CLIENT);
		expect(new Set(texts.map((m) => m.client_id)).size).toBe(CLIENTS * PER_CLIENT);
		for (const member of members) {
			const mine = texts.filter((m) => m.client_id!.startsWith(`${member.name}-`)).map((m) => Number(m.body.split('#')[1]));
			expect(mine, `${member.name}'s order`).toEqual(Array.from({ length: PER_CLIENT }, (_, i) => i));
			expect(member.acked.map((m) => m.id), `${member.name}'s acks match the stored ids`).toEqual(
				texts.filter((m) => m.client_id!.startsWith(`${member.name}-`)).map((m) => m.seq)
			);
		}

		// Every client ends with exactly that history: same ids, same messages, same order.
		const expected = stored.map((m) => `${m.seq}:${m.client_id ?? m.kind}`);
		const caughtUp = () => {
			const failed = members.find((m) => m.log.failure);
			if (failed) throw failed.log.failure;
			return members.every((m) => m.log.list.length === stored.length);
		};
		await until(caughtUp, 20_000, 'every client to catch up');
		for (const member of members) await member.log.catchUp();
		for (const member of members) expect(member.log.list.map((m) => `${m.id}:${m.clientId ?? m.kind}`), member.name).toEqual(expected);

		// The run really went through drops (most recovered by Socket.IO) and one restart (caught up by id).
		expect(drops).toBeGreaterThan(40);
		expect(members.reduce((n, m) => n + m.connects.recovered, 0)).toBeGreaterThan(0);
		// Every client came back to the new server: fresh on the in-process adapter; in cluster mode
		// Socket.IO's sessions are in Redis, so the new instance may recover them.
		for (const member of members) expect(member.connects.sinceRestart, member.name).toBeGreaterThanOrEqual(1);
		console.log(`delivery: ${texts.length} messages, ${drops} drops, ${members.reduce((n, m) => n + m.connects.recovered, 0)} recovered reconnects, restart after ${sentBeforeRestart}`);
	} finally {
		for (const member of members) member.socket.close();
		await app.stop();
		rmSync(dataDir, { recursive: true, force: true });
	}
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChatMessage } from '$lib/shared/chat';
import * as accounts from '../accounts';
import { runtime } from '../runtime';
import { startRealtime, type TestRealtime } from '../testing/realtime';

// Who may post: the sending socket's channels answer first, the store decides in the room's line.

let realtime: TestRealtime;

beforeAll(async () => {
	realtime = await startRealtime('membership');
});

afterAll(() => realtime.close());

let counter = 0;

/** A connected socket on a new session of the user. */
async function tab(userId: number) {
	const { token } = await accounts.createSession(userId);
	const socket = await realtime.connect(token);
	const call = <R = { message: ChatMessage }>(event: string, input: unknown) =>
		socket.timeout(3000).emitWithAck(event, input) as Promise<R & { ok: boolean; error?: string }>;
	return { socket, token, call, send: (roomId: number, text: string) => call('message:send', { roomId, clientId: `c${++counter}`, text }) };
}

/** A signed-up user with one tab. */
async function person(prefix: string) {
	const user = await accounts.signUp(`${prefix}_${++counter}`, 'password-123');
	return { id: user.id, name: user.name, first: await tab(user.id) };
}

/** The server side of a client socket, found by its user and session. */
function serverSocket(userId: number) {
	return [...realtime.io.of('/').sockets.values()].filter((s) => s.data.user.id === userId);
}

async function stored(roomId: number, text: string): Promise<number> {
	const rows = await runtime().store.db.selectFrom('chat_messages').select('seq').where('room_id', '=', roomId).where('body', '=', text).execute();
	return rows.length;
}

async function newRoom(owner: Awaited<ReturnType<typeof person>>, name: string): Promise<number> {
	return (await owner.first.call<{ room: { id: number } }>('room:create', { name })).room.id;
}

describe('who may post', () => {
	it('keeps a socket in its own room, its user’s channel and its rooms’ channels, nothing per session', async () => {
		const ana = await person('rooms');
		const roomId = await newRoom(ana, 'own-rooms');
		const [socket] = serverSocket(ana.id);
		expect([...socket.rooms].sort()).toEqual([socket.id, `room:${roomId}`, `user:${ana.id}`].sort());
	});

	it('lets every tab of a user post the moment one of them joins, and none once one of them leaves', async () => {
		const [ana, bo] = [await person('own'), await person('tabs')];
		const roomId = await newRoom(ana, 'tabs');
		const second = await tab(bo.id);
		expect(await bo.first.call('room:join', { roomId })).toMatchObject({ ok: true });
		expect(await second.send(roomId, 'from the other tab')).toMatchObject({ ok: true, duplicate: false });

		expect(await bo.first.call('room:leave', { roomId })).toEqual({ ok: true });
		expect(await second.send(roomId, 'after leaving')).toEqual({ ok: false, error: 'You are not in #tabs: join it first.' });
		expect(serverSocket(bo.id).every((s) => !s.rooms.has(`room:${roomId}`))).toBe(true);
		expect(await stored(roomId, 'after leaving')).toBe(0);
	});

	it('refuses a socket still in the channel of a room its user left or that closed elsewhere (another instance not heard yet)', async () => {
		const [ana, bo] = [await person('elsewhere'), await person('late')];
		const roomId = await newRoom(ana, 'elsewhere');
		await bo.first.call('room:join', { roomId });
		const { db } = runtime().store;

		// Bo's membership ends in the store only, as another instance's leave does before its channel news arrives.
		await db.deleteFrom('room_members').where('room_id', '=', roomId).where('user_id', '=', bo.id).execute();
		expect(serverSocket(bo.id)[0].rooms.has(`room:${roomId}`)).toBe(true);
		expect(await bo.first.send(roomId, 'left elsewhere')).toEqual({ ok: false, error: 'You are not in #elsewhere: join it first.' });

		// The room closes in the store only: its owner's socket, still in the channel, posts nothing.
		await db.updateTable('rooms').set({ closed_at: Date.now() }).where('id', '=', roomId).execute();
		expect(await ana.first.send(roomId, 'closed elsewhere')).toEqual({ ok: false, error: 'This room is closed.' });
		expect((await stored(roomId, 'left elsewhere')) + (await stored(roomId, 'closed elsewhere'))).toBe(0);
	});

	it('honours a membership the channels do not know yet (a join on another instance) from the store', async () => {
		const [ana, bo] = [await person('honour'), await person('joiner')];
		const roomId = await newRoom(ana, 'honoured');
		await runtime().store.db.insertInto('room_members').values({ room_id: roomId, user_id: bo.id, joined_at: Date.now() }).execute();
		expect(serverSocket(bo.id)[0].rooms.has(`room:${roomId}`)).toBe(false);
		expect(await bo.first.send(roomId, 'joined elsewhere')).toMatchObject({ ok: true, message: { text: 'joined elsewhere' } });
	});

	it('closes the sockets of a session that signs out, not those of the user’s other sessions', async () => {
		const ana = await person('signout');
		const other = await tab(ana.id);
		const closed = new Promise<void>((resolve) => ana.first.socket.once('disconnect', () => resolve()));
		await accounts.signOut(ana.first.token);
		await closed;
		await new Promise((resolve) => setTimeout(resolve, 100));
		expect(other.socket.connected).toBe(true);
		expect(serverSocket(ana.id)).toHaveLength(1);
	});

	it('welcomes each socket with an ack, which connection state recovery does not keep', async () => {
		const ana = await person('welcome');
		let welcomed!: (user: { id: number }) => void;
		const welcome = new Promise<{ id: number }>((resolve) => (welcomed = resolve));
		const late = await realtime.connect(ana.first.token, (socket) =>
			socket.once('welcome', (info: { user: { id: number } }, ack: () => void) => {
				ack();
				welcomed(info.user);
			})
		);
		const user = await welcome;
		expect(user.id).toBe(ana.id);
		// A kept packet carries its offset, which the client keeps to recover with (either adapter).
		expect((late as unknown as { _lastOffset?: string })._lastOffset).toBeUndefined();
	});
});

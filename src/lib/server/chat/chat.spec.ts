import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChatMessage, PresenceChange } from '$lib/shared/chat';
import type { ClientToServerEvents, ServerToClientEvents } from '$lib/shared/socket-events';
import * as accounts from '../accounts';
import * as files from '../files';
import { startRealtime, type TestRealtime } from '../testing/realtime';
import { runtime } from '../runtime';
import * as chat from './index';
import { OFFLINE_GRACE_MS } from './presence';

type Client = Socket<ServerToClientEvents, ClientToServerEvents>;
type Seen = { event: string; data: unknown };

let realtime: TestRealtime;

beforeAll(async () => {
	realtime = await startRealtime('chat', { CHAT_RATE_MESSAGES: '12' });
	files.onShared(chat.postFileShared);
});

afterAll(() => realtime.close());

let counter = 0;

/** A signed-up user with a connected socket that records every event it receives. */
async function person(prefix: string) {
	const name = `${prefix}_${++counter}`;
	const user = await accounts.signUp(name, 'password-123');
	const { token } = await accounts.createSession(user.id);
	const seen: Seen[] = [];
	const socket = (await realtime.connect(token, (s) => s.onAny((event: string, data: unknown) => seen.push({ event, data })))) as Client;
	const call = <R = Record<string, unknown>>(event: string, ...args: unknown[]) =>
		(socket as unknown as Socket).timeout(3000).emitWithAck(event, ...args) as Promise<R & { ok: boolean; error?: string }>;
	const lines = (roomId: number) => seen.filter((s) => s.event === 'message:new' && (s.data as ChatMessage).roomId === roomId).map((s) => s.data as ChatMessage);
	return { user: { id: user.id, name: user.name }, socket, seen, call, lines };
}

type Person = Awaited<ReturnType<typeof person>>;

/** Every presence change a person heard, in order. */
const changes = (p: Person) => p.seen.filter((s) => s.event === 'presence:changed').flatMap((s) => (s.data as { changes: PresenceChange[] }).changes);

async function until(check: () => boolean, what: string, ms = 3000): Promise<void> {
	const deadline = Date.now() + ms;
	while (!check()) {
		if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
		await new Promise((resolve) => setTimeout(resolve, 10));
	}
}

async function room(owner: Person, name: string, isPrivate = false): Promise<number> {
	const reply = await owner.call<{ room: { id: number } }>('room:create', { name, isPrivate });
	expect(reply.error).toBeUndefined();
	return reply.room.id;
}

describe('rooms and messages', () => {
	it('creates, joins with a system line, sends with room-ordered ids, and stores a clientId once', async () => {
		const [ana, bo] = [await person('ana'), await person('bo')];
		const roomId = await room(ana, 'lobby');
		await until(() => bo.seen.some((s) => s.event === 'room:updated' && (s.data as { id: number }).id === roomId), 'bo to hear of the room');

		const joined = await bo.call<{ room: { joined: boolean; members: number } }>('room:join', { roomId });
		expect(joined.room).toMatchObject({ joined: true, members: 2 });
		await until(() => ana.lines(roomId).length === 1, 'the join line');
		expect(ana.lines(roomId)[0]).toMatchObject({ id: 1, kind: 'join', text: `${bo.user.name} joined`, author: bo.user });

		const first = await ana.call<{ message: ChatMessage; duplicate: boolean }>('message:send', { roomId, clientId: 'c-1', text: 'hello' });
		expect(first).toMatchObject({ ok: true, duplicate: false, message: { id: 2, kind: 'text', text: 'hello', clientId: 'c-1', author: ana.user } });
		const again = await ana.call<{ message: ChatMessage; duplicate: boolean }>('message:send', { roomId, clientId: 'c-1', text: 'hello' });
		expect(again).toMatchObject({ ok: true, duplicate: true, message: { id: 2 } });
		await until(() => bo.lines(roomId).length === 2, 'bo to get the message');
		await new Promise((resolve) => setTimeout(resolve, 50));
		expect(bo.lines(roomId).map((m) => m.id)).toEqual([1, 2]);
		const count = await runtime().store.db.selectFrom('chat_messages').select((eb) => eb.fn.countAll<number>().as('n')).where('room_id', '=', roomId).executeTakeFirstOrThrow();
		expect(Number(count.n)).toBe(2);

		const elsewhere = await room(ana, 'lobby-2');
		expect(await ana.call('message:send', { roomId: elsewhere, clientId: 'c-1', text: 'hello' })).toEqual({
			ok: false,
			error: 'This clientId was already used for a message in another room.'
		});
	});

	it('delivers concurrent senders in one order to everyone, with ids 1..n', async () => {
		const people = [await person('p'), await person('q'), await person('r')];
		const roomId = await room(people[0], 'busy');
		for (const p of people.slice(1)) await p.call('room:join', { roomId });
		const sends = people.flatMap((p, who) => Array.from({ length: 10 }, (_, i) => p.call('message:send', { roomId, clientId: `m${who}-${i}`, text: `${who}:${i}` })));
		const replies = await Promise.all(sends);
		expect(replies.every((r) => r.ok)).toBe(true);
		const texts = (p: Person) => p.lines(roomId).filter((m) => m.kind === 'text');
		await until(() => people.every((p) => texts(p).length === 30), 'every message everywhere');
		const orders = people.map((p) => texts(p).map((m) => `${m.id}:${m.text}`));
		expect(orders[1]).toEqual(orders[0]);
		expect(orders[2]).toEqual(orders[0]);
		// Two join lines first, then the 30 messages with no gap.
		expect(people[0].lines(roomId).map((m) => m.id)).toEqual(Array.from({ length: 32 }, (_, i) => i + 1));
	});

	it('stores the posts of one turn together, in order: retries answered, refusals refused, ids consecutive', async () => {
		const [ana, bo] = [await person('turn'), await person('turn')];
		const roomId = await room(ana, 'one-turn');
		await bo.call('room:join', { roomId });
		await until(() => ana.lines(roomId).length === 1, 'the join line');
		let admitted = 0;
		const admit = () => {
			if (++admitted > 4) throw new chat.ChatError('Enough for now.');
		};
		const post = (clientId: string) => chat.messages.post({ roomId, author: ana.user, kind: 'text', body: clientId, clientId, admit });
		// All in one turn: the first schedules the room's write, the rest join it.
		const calls = ['a', 'b', 'b', 'c', 'd', 'e', 'f'].map((clientId) => post(clientId).then((r) => ({ clientId, ...r }), (e: Error) => ({ clientId, error: e.message })));
		const results = await Promise.all(calls);
		expect(results).toEqual([
			{ clientId: 'a', duplicate: false, message: expect.objectContaining({ id: 2, text: 'a' }) },
			{ clientId: 'b', duplicate: false, message: expect.objectContaining({ id: 3, text: 'b' }) },
			{ clientId: 'b', duplicate: true, message: expect.objectContaining({ id: 3, text: 'b' }) },
			{ clientId: 'c', duplicate: false, message: expect.objectContaining({ id: 4, text: 'c' }) },
			{ clientId: 'd', duplicate: false, message: expect.objectContaining({ id: 5, text: 'd' }) },
			{ clientId: 'e', error: 'Enough for now.' },
			{ clientId: 'f', error: 'Enough for now.' }
		]);
		// Everyone gets each stored message once, in id order; a retry of one stored earlier is answered from the store.
		await until(() => bo.lines(roomId).length === 5, 'the four messages');
		expect(bo.lines(roomId).map((m) => `${m.id}:${m.text}`)).toEqual(['1:' + `${bo.user.name} joined`, '2:a', '3:b', '4:c', '5:d']);
		expect(await post('c')).toMatchObject({ duplicate: true, message: { id: 4 } });
		const stored = await runtime().store.db.selectFrom('chat_messages').select(['seq', 'client_id']).where('room_id', '=', roomId).orderBy('seq').execute();
		expect(stored.map((r) => `${r.seq}:${r.client_id}`)).toEqual(['1:null', '2:a', '3:b', '4:c', '5:d']);
		expect(admitted).toBe(6);
	});

	it('on the embedded store stores and emits a new message in the turn it arrives; anything unusual goes the general way', async () => {
		const [ana, bo, cy] = [await person('now'), await person('now'), await person('now')];
		const roomId = await room(ana, 'right-now');
		await bo.call('room:join', { roomId });
		await until(() => ana.lines(roomId).length === 1, 'the join line');
		const channels = new Set([`room:${roomId}`]);
		const count = async () =>
			Number((await runtime().store.db.selectFrom('chat_messages').select((eb) => eb.fn.countAll<number>().as('n')).where('room_id', '=', roomId).executeTakeFirstOrThrow()).n);

		const embedded = runtime().store.dialect === 'sqlite' && !runtime().redis;
		if (embedded) {
			// Stored before sendNow returns (no await in between), with the next id.
			const posted = chat.messages.sendNow(ana.user, { roomId, clientId: 'now-1', text: 'right now' }, channels);
			expect(posted).toMatchObject({ duplicate: false, message: { id: 2, text: 'right now', author: ana.user } });
			expect(await count()).toBe(2);
		} else {
			// PostgreSQL or Redis limits: always the general way.
			expect(chat.messages.sendNow(ana.user, { roomId, clientId: 'now-1', text: 'right now' }, channels)).toBeUndefined();
			expect(await count()).toBe(1);
			expect(await ana.call('message:send', { roomId, clientId: 'now-1', text: 'right now' })).toMatchObject({ ok: true, duplicate: false, message: { id: 2 } });
		}
		await until(() => bo.lines(roomId).some((m) => m.id === 2), 'bo to get it');

		// A retry, a non-member, a socket outside the room's channel, a room with a post in line: undefined, nothing stored or counted.
		expect(chat.messages.sendNow(ana.user, { roomId, clientId: 'now-1', text: 'right now' }, channels)).toBeUndefined();
		expect(chat.messages.sendNow(cy.user, { roomId, clientId: 'now-2', text: 'me too' }, channels)).toBeUndefined();
		expect(chat.messages.sendNow(ana.user, { roomId, clientId: 'now-3', text: 'hi' }, new Set())).toBeUndefined();
		const queued = chat.messages.post({ roomId, author: bo.user, kind: 'text', body: 'queued', clientId: 'now-q' });
		expect(chat.messages.sendNow(ana.user, { roomId, clientId: 'now-4', text: 'after it' }, channels)).toBeUndefined();
		await queued;
		expect(await count()).toBe(3);
		// Bad input still throws its ChatError at once.
		expect(() => chat.messages.sendNow(ana.user, { roomId, clientId: 'now-5', text: '' }, channels)).toThrow(chat.ChatError);
		// Through the socket, the general way answers what sendNow left: the retry is a duplicate, the outsider refused.
		expect(await ana.call('message:send', { roomId, clientId: 'now-1', text: 'right now' })).toMatchObject({ ok: true, duplicate: true, message: { id: 2 } });
		expect(await cy.call('message:send', { roomId, clientId: 'now-2', text: 'me too' })).toMatchObject({ ok: false, error: 'You are not in #right-now: join it first.' });
	});

	it('pages history by id: the newest, before an id, after an id', async () => {
		const ana = await person('hist');
		const roomId = await room(ana, 'history');
		for (let i = 1; i <= 120; i++) await chat.messages.post({ roomId, author: ana.user, kind: 'text', body: `n${i}` });
		const newest = await ana.call<{ messages: ChatMessage[]; more: boolean }>('messages:list', { roomId });
		expect(newest.messages.map((m) => m.id)).toEqual(Array.from({ length: 50 }, (_, i) => 71 + i));
		expect(newest.more).toBe(true);
		const older = await ana.call<{ messages: ChatMessage[]; more: boolean }>('messages:list', { roomId, before: 71, limit: 60 });
		expect(older.messages.map((m) => m.id)).toEqual(Array.from({ length: 60 }, (_, i) => 11 + i));
		const oldest = await ana.call<{ messages: ChatMessage[]; more: boolean }>('messages:list', { roomId, before: 11 });
		expect([oldest.messages.length, oldest.more]).toEqual([10, false]);
		const after = await ana.call<{ messages: ChatMessage[]; more: boolean }>('messages:list', { roomId, after: 115 });
		expect([after.messages.map((m) => m.id), after.more]).toEqual([[116, 117, 118, 119, 120], false]);
		expect((await ana.call('messages:list', { roomId, after: 1, before: 5 })).error).toBe('Give before or after, not both.');
	});

	it('counts unread messages by others, marks them read, and tells my other tabs', async () => {
		const [ana, bo] = [await person('u'), await person('v')];
		const roomId = await room(ana, 'unread');
		await bo.call('room:join', { roomId });
		for (let i = 0; i < 3; i++) await ana.call('message:send', { roomId, clientId: `u${i}`, text: `x${i}` });
		await bo.call('message:send', { roomId, clientId: 'mine', text: 'mine' });
		const list = await bo.call<{ rooms: { id: number; unread: number; lastId: number }[] }>('rooms:list');
		expect(list.rooms.find((r) => r.id === roomId)).toMatchObject({ unread: 3, lastId: 5 });
		expect(await bo.call('read:mark', { roomId, id: 3 })).toEqual({ ok: true, unread: 1 });
		expect(await bo.call('read:mark', { roomId, id: 999 })).toEqual({ ok: true, unread: 0 });
		await until(() => bo.seen.some((s) => s.event === 'room:read' && (s.data as { id: number }).id === 5), 'room:read');
	});
});

describe('private rooms, invitations, mentions', () => {
	it('hides a private room from others until invited; the invite arrives live and as a notification', async () => {
		const [ana, carl] = [await person('own'), await person('carl')];
		const roomId = await room(ana, 'secret', true);
		await ana.call('message:send', { roomId, clientId: 's1', text: 'the plan' });
		expect((await carl.call<{ rooms: { id: number }[] }>('rooms:list')).rooms.some((r) => r.id === roomId)).toBe(false);
		expect(await carl.call('room:join', { roomId })).toEqual({ ok: false, error: 'No such room.' });
		expect(await carl.call('messages:list', { roomId })).toEqual({ ok: false, error: 'No such room.' });
		expect(await carl.call('message:send', { roomId, clientId: 'x', text: 'hi' })).toEqual({ ok: false, error: 'No such room.' });
		expect(await carl.call('members:list', { roomId })).toEqual({ ok: false, error: 'No such room.' });
		expect(carl.lines(roomId)).toEqual([]);

		expect(await ana.call('invite:send', { roomId, name: 'nobody-here' })).toEqual({ ok: false, error: 'No one is called "nobody-here".' });
		expect(await ana.call('invite:send', { roomId, name: carl.user.name.toUpperCase() })).toEqual({ ok: true, user: carl.user });
		await until(() => carl.seen.some((s) => s.event === 'room:invited'), 'the invitation');
		const note = await runtime().store.db.selectFrom('notifications').selectAll().where('user_id', '=', carl.user.id).executeTakeFirstOrThrow();
		expect(note).toMatchObject({ type: 'invite', title: `${ana.user.name} invited you to #secret`, link: `/chat?room=${roomId}` });
		expect((await carl.call<{ rooms: { id: number; invited: boolean }[] }>('rooms:list')).rooms.find((r) => r.id === roomId)?.invited).toBe(true);
		expect((await carl.call('room:join', { roomId })).ok).toBe(true);
		const history = await carl.call<{ messages: ChatMessage[] }>('messages:list', { roomId });
		expect(history.messages.map((m) => m.text)).toEqual(['the plan', `${carl.user.name} joined`]);
		expect(await ana.call('invite:send', { roomId, name: carl.user.name })).toEqual({ ok: false, error: `${carl.user.name} is in #secret already.` });
	});

	it('notifies @mentioned members only, not the author and not outsiders', async () => {
		const [ana, bo, out] = [await person('men'), await person('tion'), await person('outside')];
		const roomId = await room(ana, 'mentions');
		await bo.call('room:join', { roomId });
		await ana.call('message:send', { roomId, clientId: 'm1', text: `hey @${bo.user.name}, @${ana.user.name} and @${out.user.name}: look` });
		const notes = async (userId: number) => runtime().store.db.selectFrom('notifications').selectAll().where('user_id', '=', userId).where('type', '=', 'mention').execute();
		await until(() => true, '');
		await expect.poll(async () => (await notes(bo.user.id)).length).toBe(1);
		expect((await notes(bo.user.id))[0]).toMatchObject({ title: `${ana.user.name} mentioned you in #mentions`, link: `/chat?room=${roomId}` });
		expect(await notes(ana.user.id)).toEqual([]);
		expect(await notes(out.user.id)).toEqual([]);
	});

	it('posts "… shared <file>" with the file id when a file is shared into a room', async () => {
		const ana = await person('share');
		const roomId = await room(ana, 'files');
		const path = join(realtime.dir, 'upload.tmp');
		writeFileSync(path, 'report');
		const file = await files.create({ ownerId: ana.user.id, name: 'report.pdf', size: 6, sha256: 'x'.repeat(64), type: 'application/pdf', fromPath: path });
		await files.share(ana.user, file.id, { roomId });
		await until(() => ana.lines(roomId).some((m) => m.kind === 'file'), 'the file line');
		expect(ana.lines(roomId).find((m) => m.kind === 'file')).toMatchObject({ text: `${ana.user.name} shared report.pdf`, file: { id: file.id, name: 'report.pdf' } });
	});
});

describe('leaving, closing, presence, typing, limits', () => {
	it('leaves with a line to the others; only the owner closes; a closed room refuses everything', async () => {
		const [ana, bo] = [await person('lv'), await person('lw')];
		const roomId = await room(ana, 'closing');
		await bo.call('room:join', { roomId });
		expect(await bo.call('room:close', { roomId })).toEqual({ ok: false, error: 'Only the owner of #closing can close it.' });
		expect(await bo.call('room:leave', { roomId })).toEqual({ ok: true });
		await until(() => ana.lines(roomId).some((m) => m.kind === 'leave'), 'the leave line');
		expect(bo.seen.some((s) => s.event === 'room:left')).toBe(true);
		expect(await bo.call('message:send', { roomId, clientId: 'late', text: 'x' })).toEqual({ ok: false, error: 'You are not in #closing: join it first.' });
		await bo.call('room:join', { roomId });
		expect(await ana.call('room:close', { roomId })).toEqual({ ok: true });
		await until(() => bo.seen.some((s) => s.event === 'room:closed'), 'room:closed');
		expect(bo.lines(roomId).at(-1)).toMatchObject({ kind: 'closed', text: `${ana.user.name} closed the room` });
		expect(await ana.call('message:send', { roomId, clientId: 'after', text: 'x' })).toEqual({ ok: false, error: 'This room is closed.' });
		expect(await bo.call('room:join', { roomId })).toEqual({ ok: false, error: 'This room is closed.' });
	});

	it('shows who is online, and says so when someone goes away for longer than the grace', async () => {
		const [ana, bo] = [await person('on'), await person('off')];
		const roomId = await room(ana, 'presence');
		await bo.call('room:join', { roomId });
		const members = await ana.call<{ members: { id: number; online: boolean }[] }>('members:list', { roomId });
		expect(members.members.map((m) => m.online)).toEqual([true, true]);
		bo.socket.close();
		await until(() => changes(ana).some((c) => c.user.id === bo.user.id && !c.online), 'offline', OFFLINE_GRACE_MS + 2000);
		const after = await ana.call<{ members: { id: number; online: boolean }[] }>('members:list', { roomId });
		expect(after.members.find((m) => m.id === bo.user.id)?.online).toBe(false);
	});

	it('tells a room of several comings and goings in one packet', async () => {
		const ana = await person('batch');
		const roomId = await room(ana, 'presence-batch');
		const others = [await person('gone'), await person('gone'), await person('gone'), await person('gone')];
		for (const other of others) await other.call('room:join', { roomId });
		const packets = () => ana.seen.filter((s) => s.event === 'presence:changed' && (s.data as { roomId: number }).roomId === roomId);
		const before = packets().length;
		for (const other of others) other.socket.close();
		const gone = () => changes(ana).filter((c) => !c.online && others.some((o) => o.user.id === c.user.id));
		await until(() => gone().length === others.length, 'all four offline', OFFLINE_GRACE_MS + 3000);
		// Four users who left at once: fewer packets than changes (one, unless a batch boundary fell between them).
		expect(packets().length - before).toBeLessThan(others.length);
	});

	it('relays typing to the others in the room, throttled, and drops it from non-members', async () => {
		const [ana, bo, out] = [await person('ty'), await person('pe'), await person('no')];
		const roomId = await room(ana, 'typing');
		await bo.call('room:join', { roomId });
		const typing = () => bo.seen.filter((s) => s.event === 'typing:started');
		// Volatile by design: a relay that meets a busy transport is dropped. Type (a signal a
		// second, as the page does) until one arrives…
		for (let tries = 0; typing().length === 0; tries++) {
			if (tries === 5) throw new Error('no typing signal arrived in 5 tries');
			ana.socket.emit('typing:start', { roomId });
			await until(() => typing().length > 0, 'typing', 1100).catch(() => {});
		}
		// …then, within the throttle's second, more signals (and an outsider's) relay nothing.
		for (let i = 0; i < 4; i++) ana.socket.emit('typing:start', { roomId });
		out.socket.emit('typing:start', { roomId });
		await new Promise((resolve) => setTimeout(resolve, 200));
		expect(typing().map((s) => s.data)).toEqual([{ roomId, user: ana.user }]);
		expect(ana.seen.some((s) => s.event === 'typing:started')).toBe(false);
	});

	it('on the embedded store, sendNow counts only what it stores: retries are not counted, one over the rate is refused and rolled back, a closed room stores nothing', async (context) => {
		if (runtime().store.dialect !== 'sqlite' || runtime().redis) return context.skip();
		const ana = await person('now-rate');
		const roomId = await room(ana, 'now-rate');
		const channels = new Set([`room:${roomId}`]);
		const ids = async () =>
			(await runtime().store.db.selectFrom('chat_messages').select('seq').where('room_id', '=', roomId).orderBy('seq').execute()).map((r) => Number(r.seq));
		const send = (clientId: string) => chat.messages.sendNow(ana.user, { roomId, clientId, text: clientId }, channels);

		expect(send('first')?.message.id).toBe(1);
		// A retry of a stored clientId is left to the general way, uncounted, as often as it comes.
		for (let i = 0; i < 20; i++) expect(send('first')).toBeUndefined();
		// The limit is 12: eleven more go through, the twelfth is refused with the wait and nothing of it stays.
		for (let i = 2; i <= 12; i++) expect(send(`m${i}`)?.message.id).toBe(i);
		expect(() => send('over')).toThrow(/^You are sending too fast: wait \d s and try again\.$/);
		expect(await ids()).toEqual(Array.from({ length: 12 }, (_, i) => i + 1));
		// The refused one took no id: the room's next message (a system line) is 13.
		await ana.call('room:close', { roomId });
		expect(await ids()).toEqual(Array.from({ length: 13 }, (_, i) => i + 1));
		// Closed: sendNow stores nothing, and the general way says why.
		expect(send('after-close')).toBeUndefined();
		expect((await ids()).length).toBe(13);
	});

	it('refuses messages past the rate with the wait, and lets a retry of a stored one through', async () => {
		const ana = await person('rate');
		const roomId = await room(ana, 'rate');
		const replies = [];
		for (let i = 0; i < 13; i++) replies.push(await ana.call<{ retryAfter?: number }>('message:send', { roomId, clientId: `r${i}`, text: `${i}` }));
		expect(replies.slice(0, 12).every((r) => r.ok)).toBe(true);
		expect(replies[12]).toMatchObject({ ok: false, error: expect.stringMatching(/^You are sending too fast: wait \d s and try again\.$/) });
		expect(replies[12].retryAfter).toBeGreaterThan(0);
		expect(await ana.call('message:send', { roomId, clientId: 'r3', text: '3' })).toMatchObject({ ok: true, duplicate: true });
	});
});

import { expect, test, type Browser } from '@playwright/test';
import { ALIVE_MS, HEARTBEAT_MS } from '../src/lib/server/chat/presence-redis';
import type { ChatMessage, PresenceChange } from '../src/lib/shared/chat';
import { ask, chatSocket, connected, must, type ChatSocket } from './support/chat';
import { call, follow, signUp, until } from './support/clients';
import { clusterRoomLog, clusterUnavailable, NotificationView, ownRedis, sendAll, startCluster, type Cluster } from './support/cluster';
import { uniqueName } from './support/fixtures';

// Two production instances on two ports, one PostgreSQL database, one Redis key prefix: what a
// user on one sees of a user on the other, and what is left after an instance or Redis goes away.

const reason = clusterUnavailable();
test.skip(reason !== null, reason ?? '');

/** The presence grace (OFFLINE_GRACE_MS in chat/presence.ts), with room to spare. */
const OFFLINE_WAIT = 2500 + 2000;
/** Until a dead instance's users are announced offline: it counts as gone, another's heartbeat notices, then the grace. */
const DEAD_INSTANCE_WAIT = ALIVE_MS + HEARTBEAT_MS + OFFLINE_WAIT + 2000;

/** Traffic is spread out a little so that the failure lands in the middle of it. */
const PACE_MS = 40;
const pause = () => new Promise((resolve) => setTimeout(resolve, PACE_MS));

let cluster: Cluster | undefined;
const sockets: ChatSocket[] = [];
test.afterEach(async () => {
	for (const socket of sockets.splice(0)) socket.close();
	await cluster?.close();
	cluster = undefined;
});

/** A connected chat socket that records what it hears; closed after the test. */
async function socketOf(url: string, cookie: string, options: Parameters<typeof chatSocket>[2] = {}) {
	const socket = chatSocket(url, cookie, options);
	sockets.push(socket);
	const heard: { event: string; data: Record<string, unknown> }[] = [];
	socket.onAny((event: string, data: Record<string, unknown>) => heard.push({ event, data }));
	await connected(socket);
	return { socket, heard };
}

type Heard = Awaited<ReturnType<typeof socketOf>>['heard'];
const presence = (heard: Heard, userName: string, online: boolean) =>
	heard.some((h) => h.event === 'presence:changed' && (h.data.changes as PresenceChange[]).some((c) => c.user.name === userName && c.online === online));
const roomLines = (heard: Heard, roomId: number) =>
	heard.filter((h) => h.event === 'message:new' && h.data.roomId === roomId).map((h) => h.data as unknown as ChatMessage);

async function onlineIn(socket: ChatSocket, roomId: number): Promise<Record<string, boolean>> {
	const { members } = await must(socket, 'members:list', { roomId });
	return Object.fromEntries(members.map((m) => [m.name, m.online]));
}

/** The whole stored history of a room, oldest first. */
async function history(socket: ChatSocket, roomId: number): Promise<ChatMessage[]> {
	const all: ChatMessage[] = [];
	for (;;) {
		const page = await must(socket, 'messages:list', { roomId, after: all.at(-1)?.id ?? 0, limit: 200 });
		all.push(...page.messages);
		if (!page.more) return all;
	}
}

/** Ids 1…n with nothing missing or twice, each sender's messages in the order they were sent, each once. */
function expectOneClean(list: ChatMessage[], senders: Record<string, number>) {
	expect(list.map((m) => m.id)).toEqual(list.map((_, i) => i + 1));
	for (const [name, count] of Object.entries(senders)) {
		const mine = list.filter((m) => m.kind === 'text' && m.author?.name === name).map((m) => m.text);
		expect(mine).toEqual(Array.from({ length: count }, (_, i) => `${name} #${i}`));
	}
}

test('a chat across instances: messages, typing and who is online go both ways', async () => {
	cluster = await startCluster();
	const { a, b } = cluster;
	const [ana, bo, cy] = [await signUp(a.url, 'ana'), await signUp(b.url, 'bob'), await signUp(b.url, 'cyd')];
	const onA = await socketOf(a.url, ana);
	const onB = await socketOf(b.url, bo);
	const roomId = (await must(onA.socket, 'room:create', { name: 'across' })).room.id;
	await must(onB.socket, 'room:join', { roomId });
	await until(() => roomLines(onA.heard, roomId).some((m) => m.kind === 'join'), 10_000, "bo's join line on A");

	// Each instance knows who is on the other.
	expect(await onlineIn(onA.socket, roomId)).toEqual({ ana: true, bob: true });
	expect(await onlineIn(onB.socket, roomId)).toEqual({ ana: true, bob: true });

	// Cy (on B) comes and goes: A hears both, once the grace has passed for the going.
	const cyFirst = await socketOf(b.url, cy);
	await must(cyFirst.socket, 'room:join', { roomId });
	cyFirst.socket.close();
	await until(() => presence(onA.heard, 'cyd', false), OFFLINE_WAIT + 5000, 'cy offline, heard on A');
	expect((await onlineIn(onA.socket, roomId)).cyd).toBe(false);
	const cyBack = await socketOf(b.url, cy);
	await until(() => presence(onA.heard, 'cyd', true), 10_000, 'cy online, heard on A');
	expect(await onlineIn(onA.socket, roomId)).toEqual({ ana: true, bob: true, cyd: true });

	// Cy moves to A within the grace (a reload that lands on the other instance): no one hears of it.
	const heardBefore = onB.heard.length;
	cyBack.socket.close();
	await socketOf(a.url, cy);
	await new Promise((resolve) => setTimeout(resolve, OFFLINE_WAIT));
	expect(onB.heard.slice(heardBefore).filter((h) => h.event === 'presence:changed')).toEqual([]);
	expect((await onlineIn(onB.socket, roomId)).cyd).toBe(true);

	// Typing on B shows on A. Volatile by design (a relay that meets a busy transport is dropped):
	// type, a signal a second as the page does, until one arrives.
	const typingSeen = () => onA.heard.some((h) => h.event === 'typing:started' && (h.data.user as { name: string }).name === 'bob');
	for (let tries = 0; !typingSeen(); tries++) {
		if (tries === 5) throw new Error('no typing signal reached A in 5 tries');
		onB.socket.emit('typing:start', { roomId });
		await until(typingSeen, 1100, 'typing on A').catch(() => {});
	}

	// Both send at once: one history, the same on both sides.
	const before = (await history(onA.socket, roomId)).length;
	const acked: ChatMessage[] = [];
	await Promise.all([
		sendAll('ana', roomId, 15, () => onA.socket, acked),
		sendAll('bob', roomId, 15, () => onB.socket, acked)
	]);
	const stored = await history(onA.socket, roomId);
	expectOneClean(stored, { ana: 15, bob: 15 });
	const last = stored.at(-1)!.id;
	for (const side of [onA, onB]) {
		await until(() => roomLines(side.heard, roomId).some((m) => m.id === last), 10_000, 'the last message live');
		const live = roomLines(side.heard, roomId).filter((m) => m.id > before);
		expect([...live].sort((x, y) => x.id - y.id)).toEqual(stored.slice(before));
	}

	// A send retried through the other instance while the first is under way is stored once, and both get it.
	const anaOnB = await socketOf(b.url, ana);
	for (let i = 0; i < 10; i++) {
		const payload = { roomId, clientId: `twice-${i}`, text: `twice ${i}` };
		const replies = await Promise.all([must(onA.socket, 'message:send', payload), must(anaOnB.socket, 'message:send', payload)]);
		expect(replies[0].message).toEqual(replies[1].message);
		expect(replies.filter((r) => r.duplicate)).toHaveLength(1);
	}
	const twice = (await history(onB.socket, roomId)).filter((m) => m.text.startsWith('twice '));
	expect(twice.map((m) => m.text)).toEqual(Array.from({ length: 10 }, (_, i) => `twice ${i}`));
});

test('membership and sign-out reach the other instance: a join lets the user post there at once, a leave or a close stops it', async () => {
	cluster = await startCluster();
	const { a, b } = cluster;
	const [ana, bo] = [await signUp(a.url, 'ana'), await signUp(a.url, 'bob')];
	const anaOnA = await socketOf(a.url, ana);
	const roomId = (await must(anaOnA.socket, 'room:create', { name: 'reach' })).room.id;
	const [boOnA, boOnB] = [await socketOf(a.url, bo), await socketOf(b.url, bo)];
	const send = (clientId: string) => ask(boOnB.socket, 'message:send', { roomId, clientId, text: clientId });

	// Each step on A, the next send at once on B: B's socket may not have heard of it yet, the store has.
	await must(boOnA.socket, 'room:join', { roomId });
	expect(await send('joined-on-a')).toMatchObject({ ok: true, duplicate: false });
	await must(boOnA.socket, 'room:leave', { roomId });
	expect(await send('left-on-a')).toEqual({ ok: false, error: 'You are not in #reach: join it first.' });
	expect((await history(anaOnA.socket, roomId)).filter((m) => m.kind === 'text').map((m) => m.text)).toEqual(['joined-on-a']);
	await must(boOnA.socket, 'room:join', { roomId });
	await must(anaOnA.socket, 'room:close', { roomId });
	expect(await send('closed-on-a')).toEqual({ ok: false, error: 'This room is closed.' });

	// Signing out on A closes the session's socket on B; Ana's sockets stay.
	const closed = new Promise((resolve) => boOnB.socket.once('disconnect', resolve));
	expect((await call(a.url, bo, 'POST', '/api/auth/signout')).status).toBe(200);
	await closed;
	expect(anaOnA.socket.connected).toBe(true);
});

async function browserPerson(browser: Browser, url: string, prefix: string) {
	const name = uniqueName(prefix);
	const context = await browser.newContext({ baseURL: url });
	expect((await context.request.post('/api/auth/signup', { data: { name, password: 'password-123' } })).status()).toBe(201);
	const page = await context.newPage();
	await page.goto('/chat');
	await expect(page.getByRole('heading', { name: 'Rooms', exact: true })).toBeVisible();
	return { name, context, page };
}

test('two browsers, one per instance, chat: join line, presence, typing, messages both ways', async ({ browser }) => {
	cluster = await startCluster();
	const ana = await browserPerson(browser, cluster.a.url, 'ana');
	const bo = await browserPerson(browser, cluster.b.url, 'bob');
	const room = `pair-${Date.now() % 100000}`;
	await ana.page.getByRole('button', { name: 'New room' }).click();
	await ana.page.getByLabel('Name').fill(room);
	await ana.page.getByRole('button', { name: 'Create room' }).click();
	const anaBox = ana.page.getByRole('textbox', { name: `Message #${room}` });
	await expect(anaBox).toBeVisible();

	// Bo's list, on the other instance, hears of the new room live.
	const item = bo.page.locator(`[data-testid="room"][data-name="${room}"]`);
	await expect(item).toBeVisible();
	await item.click();
	await bo.page.getByRole('button', { name: `Join #${room}` }).click();
	const boBox = bo.page.getByRole('textbox', { name: `Message #${room}` });
	await expect(boBox).toBeVisible();
	await expect(ana.page.getByTestId('system-line').filter({ hasText: `${bo.name} joined` })).toBeVisible();
	await expect(ana.page.getByTestId('member').filter({ hasText: bo.name })).toHaveAttribute('data-online', 'true');
	await expect(bo.page.getByTestId('member').filter({ hasText: ana.name })).toHaveAttribute('data-online', 'true');

	await boBox.pressSequentially('hel');
	// Typing signals are volatile (one that meets a busy connection is dropped): keep typing until it shows.
	await expect(async () => {
		await boBox.pressSequentially(' ');
		await boBox.press('Backspace');
		await expect(ana.page.getByTestId('typing')).toHaveText(`${bo.name} is typing…`, { timeout: 2500 });
	}).toPass({ timeout: 15_000 });
	await boBox.press('Enter');
	await expect(ana.page.getByTestId('message').locator('.text')).toHaveText(['hel']);
	await anaBox.fill('hello from A');
	await anaBox.press('Enter');
	await expect(bo.page.getByTestId('message').locator('.text')).toHaveText(['hel', 'hello from A']);
	await expect(ana.page.getByTestId('message').last()).toHaveAttribute('data-state', 'sent');

	// Reloaded, each page shows the same history from its own instance.
	await bo.page.reload();
	await expect(bo.page.getByTestId('message').locator('.text')).toHaveText(['hel', 'hello from A']);

	await bo.context.close();
	await expect(ana.page.getByTestId('member').filter({ hasText: bo.name })).toHaveAttribute('data-online', 'false', { timeout: OFFLINE_WAIT + 5000 });
	await ana.context.close();
});

test('a notification published through one instance arrives on a stream held by the other', async () => {
	cluster = await startCluster();
	const { a, b } = cluster;
	const ana = await signUp(a.url, 'ana');
	const stream = follow(`${b.url}/api/notifications/stream?types=notification`, ana, ['notification']);
	try {
		await stream.opened;
		for (let i = 0; i < 5; i++) expect((await call(a.url, ana, 'POST', '/api/notifications', { title: `n${i}`, body: '' })).status).toBe(201);
		await until(() => stream.seen.length === 5, 10_000, 'five notifications on B');
		expect(stream.seen.map((e) => (e.data as { title: string }).title)).toEqual(['n0', 'n1', 'n2', 'n3', 'n4']);
		expect(new Set(stream.seen.map((e) => e.id)).size).toBe(5);
	} finally {
		stream.close();
	}
});

test('SIGKILL one instance mid-run: its stream and chat clients resume on the other, nothing lost or doubled', async () => {
	test.setTimeout(90_000);
	cluster = await startCluster();
	const { a, b } = cluster;
	const [ana, bo, cy] = [await signUp(b.url, 'ana'), await signUp(b.url, 'bob'), await signUp(b.url, 'cyd')];

	// Ana's stream and chat go through A; the load balancer sends her to B once A is gone.
	let base = a.url;
	const notes = new NotificationView(() => base, ana);
	await notes.open();
	let anaSocket = (await socketOf(a.url, ana)).socket;
	const onB = await socketOf(b.url, bo);
	const roomId = (await must(onB.socket, 'room:create', { name: 'failover' })).room.id;
	await must(anaSocket, 'room:join', { roomId });
	// Cy is on A too, and does not come back after A dies.
	const cySocket = (await socketOf(a.url, cy, { reconnection: false })).socket;
	await must(cySocket, 'room:join', { roomId });
	const anaLog = clusterRoomLog(roomId);
	anaLog.use(anaSocket);

	// Traffic: notifications published through B, messages from both; A dies in the middle of it.
	const published: string[] = [];
	const publishing = (async () => {
		for (let i = 0; i < 40; i++) {
			const reply = await call(b.url, ana, 'POST', '/api/notifications', { title: `n${i}`, body: '' });
			expect(reply.status).toBe(201);
			published.push(reply.body.title);
			await pause();
		}
	})();
	const acked: ChatMessage[] = [];
	const sending = Promise.all([sendAll('ana', roomId, 20, () => anaSocket, acked, PACE_MS), sendAll('bob', roomId, 30, () => onB.socket, acked, PACE_MS)]);
	await until(() => notes.delivered.length >= 8 && anaLog.list.filter((m) => m.author?.name === 'ana').length >= 5, 20_000, 'traffic through A');
	base = b.url;
	const killed = await a.stop('SIGKILL');
	expect(killed).toBe('SIGKILL');
	const dead = anaSocket;
	anaSocket = (await socketOf(b.url, ana)).socket;
	dead.close();
	anaLog.use(anaSocket);
	await Promise.all([publishing, sending]);

	// A last notification and message, then compare with the store: no catch-up by hand.
	expect((await call(b.url, ana, 'POST', '/api/notifications', { title: 'end', body: '' })).status).toBe(201);
	await must(onB.socket, 'message:send', { roomId, clientId: 'bob-end', text: 'end' });
	await until(() => [...notes.notes.values()].some((n) => n.title === 'end'), 20_000, 'the last notification');
	await until(() => anaLog.list.some((m) => m.text === 'end'), 20_000, 'the last message');
	await notes.settled();
	expect(notes.resets).toBe(0);
	expect(notes.duplicates()).toEqual([]);
	expect([...notes.notes.values()].sort((x, y) => x.id - y.id).map((n) => n.title)).toEqual([...published, 'end']);
	expect(notes.delivered).toEqual([...notes.delivered].sort((x, y) => x - y));
	notes.close();

	const stored = await history(onB.socket, roomId);
	expectOneClean(stored.filter((m) => m.text !== 'end'), { ana: 20, bob: 30 });
	expect(anaLog.failure).toBeNull();
	expect(anaLog.list).toEqual(stored);
	expect(new Set(acked.map((m) => m.id)).size).toBe(50);

	// Ana came back on B, so no one hears her go; cy did not, so B says so once A counts as dead.
	await until(() => presence(onB.heard, 'cyd', false), DEAD_INSTANCE_WAIT, 'cy offline after A died');
	expect(presence(onB.heard, 'ana', false)).toBe(false);
	expect(await onlineIn(onB.socket, roomId)).toEqual({ ana: true, bob: true, cyd: false });
	expect(cluster.b.process.exitCode).toBeNull();
});

test('Redis restarted empty mid-run: no instance crashes; streams and chats catch up with nothing lost or doubled', async () => {
	test.setTimeout(90_000);
	// No persistence: after the restart every stream is gone, so a stream whose position is gone must
	// say `reset` (the page reloads from the store) rather than skip what it can no longer replay.
	const redis = await ownRedis();
	try {
		cluster = await startCluster(redis.url);
		const { a, b } = cluster;
		const [ana, bo] = [await signUp(a.url, 'ana'), await signUp(b.url, 'bob')];
		const notes = new NotificationView(() => a.url, ana);
		await notes.open();
		// A second tab whose stream is cut before the restart and comes back after it with its Last-Event-ID.
		const away = new NotificationView(() => b.url, ana);
		await away.open();
		const onA = await socketOf(a.url, ana);
		const onB = await socketOf(b.url, bo);
		const roomId = (await must(onB.socket, 'room:create', { name: 'outage' })).room.id;
		await must(onA.socket, 'room:join', { roomId });
		const anaLog = clusterRoomLog(roomId);
		anaLog.use(onA.socket);

		const published: string[] = [];
		const publishing = (async () => {
			for (let i = 0; i < 40; i++) {
				// A publish that fails while Redis is away is an error the caller sees (the row is stored).
				const reply = await call(b.url, ana, 'POST', '/api/notifications', { title: `n${i}`, body: '' });
				if (reply.status === 201) published.push(reply.body.title);
				await pause();
			}
		})();
		const acked: ChatMessage[] = [];
		const sending = Promise.all([
			sendAll('ana', roomId, 20, () => onA.socket, acked, PACE_MS),
			sendAll('bob', roomId, 30, () => onB.socket, acked, PACE_MS)
		]);
		await until(() => notes.delivered.length >= 8 && anaLog.list.filter((m) => m.author?.name === 'bob').length >= 5, 20_000, 'traffic');
		away.close();
		const cut = published.length;
		await until(() => published.length >= cut + 2, 10_000, 'notifications the away tab misses');
		await redis.restart();
		await Promise.all([publishing, sending]);
		await away.open(away.lastEventId);

		expect((await call(b.url, ana, 'POST', '/api/notifications', { title: 'end', body: '' })).status).toBe(201);
		await must(onB.socket, 'message:send', { roomId, clientId: 'bob-end', text: 'end' });
		await until(() => [...notes.notes.values()].some((n) => n.title === 'end'), 20_000, 'the last notification');
		await until(() => anaLog.list.some((m) => m.text === 'end'), 20_000, 'the last message');
		await notes.settled();
		await until(() => away.resets > 0 || [...away.notes.values()].some((n) => n.title === 'end'), 20_000, 'the away tab back');
		await away.settled();

		// What ana has: every stored notification once, whatever the stream could or could not replay.
		const stored = await call(a.url, ana, 'GET', '/api/notifications?limit=100');
		const storedTitles = (stored.body.items as { title: string }[]).map((n) => n.title).reverse();
		expect(storedTitles).toEqual(expect.arrayContaining([...published, 'end']));
		expect([...notes.notes.values()].sort((x, y) => x.id - y.id).map((n) => n.title)).toEqual(storedTitles);
		expect(notes.duplicates()).toEqual([]);
		notes.close();
		// Its position went with Redis's data: told so (`reset`), it reloaded and has them all too.
		expect(away.resets).toBe(1);
		expect([...away.notes.values()].sort((x, y) => x.id - y.id).map((n) => n.title)).toEqual(storedTitles);
		expect(away.duplicates()).toEqual([]);
		away.close();

		const messages = await history(onB.socket, roomId);
		expectOneClean(messages.filter((m) => m.text !== 'end'), { ana: 20, bob: 30 });
		expect(anaLog.failure).toBeNull();
		expect(anaLog.list).toEqual(messages);

		// Who is online was written back: each side still sees the other.
		await expect.poll(() => onlineIn(onA.socket, roomId)).toEqual({ ana: true, bob: true });
		await expect.poll(() => onlineIn(onB.socket, roomId)).toEqual({ ana: true, bob: true });
		for (const server of [a, b]) expect(server.process.exitCode).toBeNull();
		expect(a.output() + b.output()).toMatch(/redis connection .* lost/);
	} finally {
		await cluster?.close();
		cluster = undefined;
		await redis.stop();
	}
});

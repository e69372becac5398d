import { io, type Socket } from 'socket.io-client';
import { chatSocket, connected, must, type ChatSocket } from './support/chat';
import { call, signUp } from './support/clients';
import { expect, test, uniqueName } from './support/fixtures';

// Every bad input gets its readable refusal on the ack (or, for the handshake, a refused
// connection), and the server stays up and correct for everyone else.

/** Emits anything at all (no typing): the shapes a hostile client could send. */
function raw(socket: ChatSocket, event: string, ...args: unknown[]): Promise<unknown> {
	return (socket as unknown as Socket).timeout(3000).emitWithAck(event, ...args);
}

/** Resolves with how an emit that should get no answer ended. */
function unanswered(socket: ChatSocket, event: string, ...args: unknown[]): Promise<string> {
	return (socket as unknown as Socket)
		.timeout(800)
		.emitWithAck(event, ...args)
		.then(
			() => 'answered',
			(error: Error) => error.message
		);
}

test('bad payloads, rooms and rates each get their error on the ack, and nothing breaks', async ({ app }) => {
	test.setTimeout(40_000);
	const anaCookie = await signUp(app.url, uniqueName('ana'));
	const ana = chatSocket(app.url, anaCookie);
	const bo = chatSocket(app.url, await signUp(app.url, uniqueName('bo')));
	await Promise.all([connected(ana), connected(bo)]);
	const roomId = (await must(ana, 'room:create', { name: uniqueName('inputs') })).room.id;
	const privateId = (await must(ana, 'room:create', { name: uniqueName('hidden'), isPrivate: true })).room.id;
	const shape = '{ roomId, clientId, text }';
	const send = (input: unknown) => raw(ana, 'message:send', input);

	// Empty, too long, wrong types.
	expect(await send({ roomId, clientId: 'e1', text: '' })).toEqual({ ok: false, error: 'The message is empty.' });
	expect(await send({ roomId, clientId: 'e2', text: ' \n\t ' })).toEqual({ ok: false, error: 'The message is empty.' });
	expect(await send({ roomId, clientId: 'big', text: 'x'.repeat(100 * 1024) })).toEqual({
		ok: false,
		error: 'The message is too long: 102400 characters, at most 4000.'
	});
	expect(await send({ roomId: String(roomId), clientId: 'w1', text: 'hi' })).toEqual({ ok: false, error: 'roomId must be a room id (a whole number).' });
	expect(await send({ roomId, clientId: 'w2', text: 42 })).toEqual({ ok: false, error: 'text must be a string.' });
	expect(await send({ roomId, clientId: { id: 1 }, text: 'hi' })).toEqual({ ok: false, error: 'clientId must be 1–64 letters, digits, "-" or "_".' });
	expect(await send({ roomId, text: 'hi' })).toEqual({ ok: false, error: 'clientId must be 1–64 letters, digits, "-" or "_".' });
	expect(await send('hello')).toEqual({ ok: false, error: `Send an object: ${shape}.` });
	expect(await send([roomId, 'w3', 'hi'])).toEqual({ ok: false, error: `Send an object: ${shape}.` });
	expect(await send(null)).toEqual({ ok: false, error: `Send an object: ${shape}.` });
	expect(await raw(ana, 'room:join')).toEqual({ ok: false, error: 'Send an object: { roomId }.' });
	expect(await raw(ana, 'messages:list', { roomId, limit: 1e9 })).toEqual({ ok: false, error: 'limit must be a whole number from 1 to 200.' });

	// __proto__ and friends: refused by name, and the next object is still clean.
	const poisoned = JSON.parse(`{"roomId":${roomId},"clientId":"p1","text":"x","__proto__":{"isAdmin":true,"roomId":${privateId}}}`);
	expect(await send(poisoned)).toEqual({ ok: false, error: `Unknown field "__proto__": send ${shape}.` });
	expect(await send(JSON.parse(`{"__proto__":{"roomId":${roomId},"clientId":"p2","text":"x"}}`))).toEqual({ ok: false, error: `Unknown field "__proto__": send ${shape}.` });
	expect(await send({ roomId, clientId: 'p3', text: 'x', constructor: { prototype: { polluted: 1 } } })).toEqual({
		ok: false,
		error: `Unknown field "constructor": send ${shape}.`
	});
	expect(await raw(ana, 'room:create', JSON.parse('{"name":"fine","__proto__":{"isPrivate":true}}'))).toEqual({
		ok: false,
		error: 'Unknown field "__proto__": send { name, topic?, isPrivate? }.'
	});

	// Unknown room, a room I am not in, a private one, one named like a socket id or an internal channel.
	expect(await send({ roomId: 987654, clientId: 'u1', text: 'hi' })).toEqual({ ok: false, error: 'No such room.' });
	const boRoom = await must(bo, 'room:create', { name: uniqueName('bos') });
	expect(await send({ roomId: boRoom.room.id, clientId: 'n1', text: 'hi' })).toEqual({ ok: false, error: `You are not in #${boRoom.room.name}: join it first.` });
	expect(await raw(bo, 'message:send', { roomId: privateId, clientId: 'n2', text: 'hi' })).toEqual({ ok: false, error: 'No such room.' });
	expect(await raw(bo, 'room:join', { roomId: privateId })).toEqual({ ok: false, error: 'No such room.' });
	expect(await raw(bo, 'messages:list', { roomId: privateId })).toEqual({ ok: false, error: 'No such room.' });
	expect(await raw(bo, 'room:join', { roomId: bo.id })).toEqual({ ok: false, error: 'roomId must be a room id (a whole number).' });
	expect(await send({ roomId: bo.id, clientId: 's1', text: 'to your socket?' })).toEqual({ ok: false, error: 'roomId must be a room id (a whole number).' });
	expect(await send({ roomId: 'user:1', clientId: 's2', text: 'x' })).toEqual({ ok: false, error: 'roomId must be a room id (a whole number).' });
	const nameError = 'A room name may use letters, digits, spaces, "_", "-" and "." only.';
	for (const name of ['user:1', `session:${'a'.repeat(10)}`, 'room:1']) expect(await raw(ana, 'room:create', { name })).toEqual({ ok: false, error: nameError });
	// A room may be named like Bo's socket id: it is still only "room:<number>" inside, so Bo hears nothing of it.
	const boHeard: string[] = [];
	bo.onAny((event: string) => boHeard.push(event));
	// (Room names start with a letter or digit; about one socket id in 30 starts with - or _.)
	const lookalike = await must(ana, 'room:create', { name: /^[A-Za-z0-9]/.test(bo.id!) ? bo.id! : `a${bo.id}`, isPrivate: true });
	await must(ana, 'message:send', { roomId: lookalike.room.id, clientId: 'look', text: 'not for bo' });
	ana.emit('typing:start', { roomId: lookalike.room.id });
	await new Promise((resolve) => setTimeout(resolve, 200));
	expect(boHeard).toEqual([]);

	// Unknown events are ignored (no answer, no harm), even with names of Object.prototype.
	const ignored = await Promise.all(['nope:what', '__proto__', 'constructor', 'hasOwnProperty', 'toString'].map((event) => unanswered(ana, event, { roomId })));
	expect(ignored).toEqual(Array(5).fill('operation has timed out'));
	// A send without an ack is still handled (and stored): the client just hears nothing back.
	(ana as unknown as Socket).emit('message:send', { roomId, clientId: 'noack', text: 'sent without an ack' });

	// Over the rate: Carl's 11th new message within 5 s is refused with the wait; a retry of a stored one is not counted.
	const carl = chatSocket(app.url, await signUp(app.url, uniqueName('carl')));
	await must(carl, 'room:join', { roomId });
	const replies: { ok: boolean; error?: string; retryAfter?: number }[] = [];
	for (let i = 0; i < 11; i++) replies.push((await raw(carl, 'message:send', { roomId, clientId: `r${i}`, text: `rate ${i}` })) as (typeof replies)[number]);
	expect(replies.slice(0, 10).every((r) => r.ok)).toBe(true);
	expect(replies[10]).toEqual({ ok: false, error: expect.stringMatching(/^You are sending too fast: wait \d s and try again\.$/), retryAfter: expect.any(Number) });
	expect(replies[10].retryAfter).toBeLessThanOrEqual(5000);
	expect(await raw(carl, 'message:send', { roomId, clientId: 'r0', text: 'rate 0' })).toMatchObject({ ok: true, duplicate: true });

	// Everything stored is what was accepted, once, in order.
	const history = (await must(ana, 'messages:list', { roomId })).messages.filter((m) => m.kind === 'text');
	expect(history.map((m) => m.clientId)).toEqual(['noack', ...Array.from({ length: 10 }, (_, i) => `r${i}`)]);
	carl.close();
	expect((await must(bo, 'ping')).serverTime).toBeGreaterThan(0);
	expect(app.process.exitCode).toBeNull();
	expect(app.output()).not.toMatch(/"level":(50|60)/);
	ana.close();
	bo.close();
});

test('a packet over the size limit closes that connection only', async ({ app }) => {
	const ana = chatSocket(app.url, await signUp(app.url, uniqueName('ana')), { reconnection: false });
	const bo = chatSocket(app.url, await signUp(app.url, uniqueName('bo')));
	await Promise.all([connected(ana), connected(bo)]);
	const closed = new Promise<string>((resolve) => ana.once('disconnect', resolve));
	ana.emit('message:send', { roomId: 1, clientId: 'huge', text: 'x'.repeat(200 * 1024) }, () => {});
	expect(await closed).toMatch(/^transport (close|error)$/);
	expect((await must(bo, 'ping')).ok).toBe(true);
	bo.close();
});

test('the handshake refuses no session, a foreign Origin, and a session signed out while connected', async ({ app }) => {
	const refusal = (socket: ChatSocket) => new Promise<string>((resolve) => socket.once('connect_error', (error) => resolve(error.message)));
	const anonymous = chatSocket(app.url, null, { reconnection: false });
	expect(await refusal(anonymous)).toBe('unauthorized: sign in first');
	anonymous.close();

	const cookie = await signUp(app.url, uniqueName('ana'));
	const foreign = io(app.url, { transports: ['websocket'], extraHeaders: { cookie, origin: 'https://evil.example' }, reconnection: false });
	expect(await refusal(foreign as ChatSocket)).toBe('websocket error');
	foreign.close();

	const socket = chatSocket(app.url, cookie);
	await connected(socket);
	const gone = new Promise<string>((resolve) => socket.once('disconnect', resolve));
	expect((await call(app.url, cookie, 'POST', '/api/auth/signout')).status).toBe(200);
	expect(await gone).toBe('io server disconnect');
	expect(socket.connected).toBe(false);
	// The same cookie cannot come back.
	const again = chatSocket(app.url, cookie, { reconnection: false });
	expect(await refusal(again)).toBe('unauthorized: sign in first');
	again.close();
	socket.close();
});

import type { Browser, BrowserContext, Page } from '@playwright/test';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ask, chatSocket, connected, must } from './support/chat';
import { signUp } from './support/clients';
import { expect, test, uniqueName } from './support/fixtures';
import { startServer, type AppServer } from './support/server';

// Real browsers on the production build: each person is a browser context with their own session.

interface Person {
	name: string;
	context: BrowserContext;
	page: Page;
}

async function person(browser: Browser, url: string, prefix: string): Promise<Person> {
	const name = uniqueName(prefix);
	const context = await browser.newContext({ baseURL: url });
	const response = await context.request.post('/api/auth/signup', { data: { name, password: 'password-123' } });
	expect(response.status()).toBe(201);
	const page = await context.newPage();
	await page.goto('/chat');
	await expect(page.getByRole('heading', { name: 'Rooms', exact: true })).toBeVisible();
	return { name, context, page };
}

async function createRoom(p: Person, name: string, isPrivate = false) {
	await p.page.getByRole('button', { name: 'New room' }).click();
	await p.page.getByLabel('Name').fill(name);
	if (isPrivate) await p.page.getByLabel('Private (by invitation)').check();
	await p.page.getByRole('button', { name: 'Create room' }).click();
	await expect(p.page.getByRole('textbox', { name: `Message #${name}` })).toBeVisible();
}

async function joinRoom(p: Person, name: string) {
	await roomItem(p, name).click();
	await p.page.getByRole('button', { name: `Join #${name}` }).click();
	await expect(p.page.getByRole('textbox', { name: `Message #${name}` })).toBeVisible();
}

async function say(p: Person, room: string, text: string) {
	const box = p.page.getByRole('textbox', { name: `Message #${room}` });
	await box.fill(text);
	await box.press('Enter');
}

const texts = (p: Person) => p.page.getByTestId('message').locator('.text');
const roomItem = (p: Person, name: string) => p.page.locator(`[data-testid="room"][data-name="${name}"]`);

test('two people chat in real time: join line, typing, presence, Shift+Enter, unread counts', async ({ browser, app }) => {
	const [ana, bo] = [await person(browser, app.url, 'ana'), await person(browser, app.url, 'bo')];
	const room = `team-${Date.now() % 100000}`;
	await createRoom(ana, room);
	// Bo's list hears of the new public room live.
	await expect(roomItem(bo, room)).toBeVisible();
	await joinRoom(bo, room);
	await expect(ana.page.getByTestId('system-line').filter({ hasText: `${bo.name} joined` })).toBeVisible();
	await expect(ana.page.getByTestId('member').filter({ hasText: bo.name })).toHaveAttribute('data-online', 'true');

	const composer = bo.page.getByRole('textbox', { name: `Message #${room}` });
	// Typing signals are volatile (a relay that meets a busy connection is dropped) and the page sends
	// one every TYPING_EVERY_MS while its user types: type on until the indicator shows.
	await expect(async () => {
		await composer.pressSequentially('hel');
		await expect(ana.page.getByTestId('typing')).toHaveText(`${bo.name} is typing…`, { timeout: 2500 });
	}).toPass({ timeout: 15_000 });
	await composer.fill('hel');
	await composer.press('Enter');
	await expect(texts(ana)).toHaveText(['hel']);
	await expect(ana.page.getByTestId('typing')).toHaveText('');
	await expect(bo.page.getByTestId('message')).toHaveAttribute('data-state', 'sent');

	const box = bo.page.getByRole('textbox', { name: `Message #${room}` });
	await box.fill('line one');
	await box.press('Shift+Enter');
	await box.pressSequentially('line two');
	await box.press('Enter');
	await expect(texts(ana)).toHaveText(['hel', 'line one\nline two']);
	await say(ana, room, 'got both');
	await expect(texts(bo)).toHaveText(['hel', 'line one\nline two', 'got both']);

	// Ana looks at another room: Bo's messages count as unread there, and stop counting once she is back.
	await createRoom(ana, `${room}-b`);
	await say(bo, room, 'one');
	await say(bo, room, 'two');
	const badge = roomItem(ana, room).getByTestId('room-unread');
	await expect(badge).toHaveText('2');
	await roomItem(ana, room).click();
	await expect(texts(ana)).toHaveText(['hel', 'line one\nline two', 'got both', 'one', 'two']);
	await expect(badge).toHaveCount(0);
	await ana.page.reload();
	await expect(ana.page.getByTestId('room').first()).toBeVisible();
	await expect(ana.page.getByTestId('room-unread')).toHaveCount(0);

	await bo.context.close();
	await expect(ana.page.getByTestId('member').filter({ hasText: bo.name })).toHaveAttribute('data-online', 'false', { timeout: 8000 });
	await ana.context.close();
});

test('three people see one order; a private room stays closed to the one not invited', async ({ browser, app }) => {
	const people = [await person(browser, app.url, 'ana'), await person(browser, app.url, 'bo'), await person(browser, app.url, 'cy')];
	const [ana, bo, cy] = people;
	const room = `all-${Date.now() % 100000}`;
	await createRoom(ana, room);
	await joinRoom(bo, room);
	await joinRoom(cy, room);
	await Promise.all(people.map(async (p, i) => {
		for (let n = 0; n < 3; n++) await say(p, room, `${i}-${n}`);
	}));
	for (const p of people) await expect(texts(p)).toHaveCount(9);
	const order = await texts(ana).allTextContents();
	expect(await texts(bo).allTextContents()).toEqual(order);
	expect(await texts(cy).allTextContents()).toEqual(order);

	const secret = `secret-${Date.now() % 100000}`;
	await createRoom(ana, secret, true);
	await say(ana, secret, 'for bo only');
	await ana.page.getByRole('button', { name: 'Invite' }).click();
	await ana.page.getByLabel('User name to invite').fill(bo.name);
	await ana.page.getByRole('button', { name: 'Send invitation' }).click();
	await expect(ana.page.getByText(`Invited ${bo.name}.`)).toBeVisible();
	await expect(bo.page.getByRole('heading', { name: 'Invitations' })).toBeVisible();
	await joinRoom(bo, secret);
	await expect(texts(bo)).toHaveText(['for bo only']);
	// A mention reaches Bo as a notification (the header's unread badge), wherever he is.
	await say(ana, secret, `@${bo.name} see above`);
	await expect(bo.page.getByTestId('unread-badge')).not.toHaveCount(0);
	await expect(bo.page.getByText(`${ana.name} mentioned you in #${secret}`).first()).toBeVisible();

	// Cy sees no trace of it, and cannot get in or read it even by asking the socket directly.
	await cy.page.reload();
	await expect(roomItem(cy, room)).toBeVisible();
	await expect(roomItem(cy, secret)).toHaveCount(0);
	const cookie = (await cy.context.cookies()).map((c) => `${c.name}=${c.value}`).join('; ');
	const socket = chatSocket(app.url, cookie);
	await connected(socket);
	const secretId = (await must(socket, 'rooms:list')).rooms.find((r) => r.name === secret);
	expect(secretId).toBeUndefined();
	const ids = (await must(socket, 'rooms:list')).rooms.map((r) => r.id);
	const guess = Math.max(...ids) + 1; // the private room was created right after the public ones
	expect(await ask(socket, 'room:join', { roomId: guess })).toEqual({ ok: false, error: 'No such room.' });
	expect(await ask(socket, 'messages:list', { roomId: guess })).toEqual({ ok: false, error: 'No such room.' });
	expect(await ask(socket, 'members:list', { roomId: guess })).toEqual({ ok: false, error: 'No such room.' });
	socket.close();

	// The owner closes the private room: Bo is told, and it leaves his list.
	ana.page.once('dialog', (dialog) => void dialog.accept());
	await ana.page.getByRole('button', { name: 'Close' }).click();
	await expect(bo.page.getByText(`#${secret} was closed by ${ana.name}.`)).toBeVisible();
	await expect(roomItem(bo, secret)).toHaveCount(0);
	await expect(roomItem(ana, secret)).toHaveCount(0);
	for (const p of people) await p.context.close();
});

test('history loads the last 50, older ones on scrolling up without a jump; text stays text, links are safe', async ({ browser }) => {
	const app = await startServer({ env: { CHAT_RATE_MESSAGES: '1000' } });
	try {
		const ana = await person(browser, app.url, 'ana');
		const room = `long-${Date.now() % 100000}`;
		await createRoom(ana, room);
		const bo = chatSocket(app.url, await signUp(app.url, uniqueName('bo')));
		const roomId = (await must(bo, 'rooms:list')).rooms.find((r) => r.name === room)!.id;
		await must(bo, 'room:join', { roomId });
		for (let i = 1; i <= 118; i++) await must(bo, 'message:send', { roomId, clientId: `h${i}`, text: `old ${i}` });
		await must(bo, 'message:send', { roomId, clientId: 'xss', text: '<img src=x onerror="window.hacked=1"> javascript:alert(1) see https://example.com/a_(b).' });
		await must(bo, 'message:send', { roomId, clientId: 'last', text: 'newest' });
		bo.close();

		await ana.page.reload();
		await roomItem(ana, room).click();
		await expect(texts(ana).last()).toHaveText('newest');
		await expect(texts(ana)).toHaveCount(50);
		const xss = ana.page.getByTestId('message').filter({ hasText: 'javascript:alert(1)' });
		await expect(xss.locator('img')).toHaveCount(0);
		await expect(xss.locator('a')).toHaveCount(1);
		await expect(xss.locator('a')).toHaveAttribute('href', 'https://example.com/a_(b)');
		await expect(xss.locator('a')).toHaveAttribute('rel', 'noopener noreferrer');
		expect(await ana.page.evaluate(() => (window as unknown as { hacked?: number }).hacked)).toBeUndefined();

		// The oldest loaded message is at the top; scrolling there loads one older page and keeps it on screen.
		const anchor = ana.page.getByTestId('messages').getByText('old 71', { exact: true });
		const list = ana.page.getByTestId('messages');
		await expect(anchor).not.toBeInViewport();
		await list.evaluate((el) => el.scrollTo({ top: 0 }));
		await expect(texts(ana)).toHaveCount(100);
		await expect(anchor).toBeInViewport();
		expect(await list.evaluate((el) => el.scrollTop)).toBeGreaterThan(200);
		await list.evaluate((el) => el.scrollTo({ top: 0 }));
		await expect(texts(ana)).toHaveCount(120);
		await expect(texts(ana).first()).toHaveText('old 1');
		await expect(ana.page.getByRole('button', { name: 'Load older messages' })).toHaveCount(0);
		await ana.context.close();
	} finally {
		await app.stop();
	}
});

test('a message over the rate limit fails with the reason and goes through on retry', async ({ browser, app }) => {
	const ana = await person(browser, app.url, 'ana');
	const room = `fast-${Date.now() % 100000}`;
	await createRoom(ana, room);
	for (let i = 1; i <= 11; i++) await say(ana, room, `quick ${i}`);
	const failed = ana.page.getByTestId('message').filter({ hasText: 'quick 11' });
	await expect(failed).toHaveAttribute('data-state', 'failed');
	await expect(failed).toContainText(/Not sent: You are sending too fast: wait \d s and try again\./);
	await expect(ana.page.getByTestId('message').filter({ hasText: 'quick 10' })).toHaveAttribute('data-state', 'sent');
	await ana.page.screenshot({ path: '.test-output/screenshots/chat-failed-desktop.png' });
	await ana.page.waitForTimeout(5200);
	await failed.getByRole('button', { name: 'Retry' }).click();
	await expect(ana.page.getByTestId('message').filter({ hasText: 'quick 11' })).toHaveAttribute('data-state', 'sent');
	await expect(ana.page.getByTestId('message')).toHaveCount(11);
	await ana.context.close();
});

test('a shared file becomes a line with its download link', async ({ browser, app }) => {
	const ana = await person(browser, app.url, 'ana');
	const room = `files-${Date.now() % 100000}`;
	await createRoom(ana, room);
	const content = Buffer.from('quarterly numbers\n');
	const sha256 = createHash('sha256').update(content).digest('hex');
	const request = ana.context.request;
	const upload = await (await request.post('/api/uploads', { data: { name: 'report.txt', size: content.length, sha256 } })).json();
	const done = await request.patch(`/api/uploads/${upload.id}`, {
		data: content,
		headers: { 'upload-offset': '0', 'upload-checksum': `sha256 ${createHash('sha256').update(content).digest('base64')}`, 'content-type': 'application/offset+octet-stream' }
	});
	expect(done.status()).toBe(201);
	const { file } = await done.json();
	const roomId = (await (await request.get('/api/rooms')).json()).items.find((r: { name: string }) => r.name === room).id;
	expect((await request.post(`/api/files/${file.id}/share`, { data: { roomId } })).status()).toBe(200);
	const line = ana.page.getByTestId('system-line').filter({ hasText: `${ana.name} shared report.txt` });
	await expect(line).toBeVisible();
	await expect(line.getByRole('link', { name: 'report.txt' })).toHaveAttribute('href', `/api/files/${file.id}/download`);
	await ana.context.close();
});

test('a server restart: the page says the connection is lost, then back, and catches up with no gap or duplicate', async ({ browser }) => {
	const dataDir = mkdtempSync(join(tmpdir(), 'runnel-chat-restart-'));
	let app: AppServer = await startServer({ dataDir });
	try {
		const ana = await person(browser, app.url, 'ana');
		const room = `restart-${Date.now() % 100000}`;
		await createRoom(ana, room);
		const boCookie = await signUp(app.url, uniqueName('bo'));
		const bo = chatSocket(app.url, boCookie);
		const roomId = (await must(bo, 'rooms:list')).rooms.find((r) => r.name === room)!.id;
		await must(bo, 'room:join', { roomId });
		await must(bo, 'message:send', { roomId, clientId: 'before', text: 'before the restart' });
		await expect(texts(ana)).toHaveText(['before the restart']);

		await app.stop();
		await expect(ana.page.getByTestId('connection-banner')).toContainText('Connection lost');
		await say(ana, room, 'sent while away');
		await expect(ana.page.getByTestId('message').filter({ hasText: 'sent while away' })).toHaveAttribute('data-state', 'pending');

		app = await startServer({ dataDir, env: { PORT: String(app.port) } });
		await connected(bo);
		for (const n of [1, 2, 3]) await must(bo, 'message:send', { roomId, clientId: `after-${n}`, text: `after ${n}` });
		await expect(ana.page.getByTestId('connection-banner')).toContainText('Connected again', { timeout: 15_000 });
		await expect(ana.page.getByTestId('message')).toHaveCount(5);
		const shown = await texts(ana).allTextContents();
		expect(new Set(shown).size).toBe(5);
		expect(shown.slice(0, 1)).toEqual(['before the restart']);
		expect(shown.filter((t) => t.startsWith('after'))).toEqual(['after 1', 'after 2', 'after 3']);
		await expect(ana.page.getByTestId('message').filter({ hasText: 'sent while away' })).toHaveAttribute('data-state', 'sent');
		const history = (await must(bo, 'messages:list', { roomId })).messages.filter((m) => m.kind === 'text').map((m) => m.text);
		expect(shown).toEqual(history);
		bo.close();
		await ana.context.close();
	} finally {
		await app.stop();
		rmSync(dataDir, { recursive: true, force: true });
	}
});

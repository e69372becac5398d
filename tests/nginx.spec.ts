// Two production instances behind nginx (deploy/nginx.conf), sharing one PostgreSQL database, one Redis
// prefix and one DATA_DIR: people on different instances chat, get notified and share files through the proxy.
import { expect, test, type Browser, type BrowserContext, type Page } from '@playwright/test';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { testDatabase } from '../src/lib/server/testing/database';
import { testRedis } from '../src/lib/server/testing/redis';
import { freePort, until } from './support/clients';
import { uniqueName } from './support/fixtures';
import { nginxBinary, startNginx, type RunningNginx } from './support/nginx';
import { runName, startServer, type AppServer } from './support/server';

const nginx = nginxBinary();
const missing = !nginx
	? 'nginx is not installed (apt-get install -y nginx, or set NGINX_PATH)'
	: !process.env.TEST_DATABASE_URL?.trim()
		? 'TEST_DATABASE_URL is not set (e.g. postgres://postgres@127.0.0.1:5432/test)'
		: !process.env.TEST_REDIS_URL?.trim()
			? 'TEST_REDIS_URL is not set (e.g. redis://127.0.0.1:6379)'
			: process.env.E2E_STORE !== 'postgres'
				? 'it runs once, in the cluster-mode pass (E2E_STORE=postgres)'
				: undefined;

// The reason shows in every runner's output, in the tests' titles.
test.describe(`two instances behind nginx${missing ? ` (skipped: ${missing})` : ''}`, () => {
	test.skip(missing !== undefined, missing);
	test.describe.configure({ mode: 'default' });

	let proxy: RunningNginx;
	let instances: AppServer[] = [];
	/** Undone in reverse order after the tests, whatever got started. */
	const cleanup: (() => Promise<unknown>)[] = [];

	test.beforeAll(async () => {
		test.setTimeout(90_000);
		const dir = mkdtempSync(join(tmpdir(), 'runnel-nginx-'));
		cleanup.push(async () => rmSync(dir, { recursive: true, force: true }));
		const database = await testDatabase(`${runName()}_nginx`);
		cleanup.push(() => database.drop());
		const redis = testRedis(runName())!;
		cleanup.push(() => redis.drop());
		const shared = { databaseUrl: database.env.DATABASE_URL!, redisUrl: redis.url, redisPrefix: redis.prefix };
		const port = await freePort();
		// What README.md's deployment section sets: the public origin and the client address from nginx.
		const env = { ORIGIN: `http://127.0.0.1:${port}`, ADDRESS_HEADER: 'x-forwarded-for', XFF_DEPTH: '1', DEMO_DATA: 'false' };
		// One at a time: the first runs the migrations. One DATA_DIR, as README.md says: stored files
		// are read by whichever instance a download reaches.
		const dataDir = join(dir, 'data');
		for (let i = 0; i < 2; i++) {
			const instance = await startServer({ shared, env, dataDir });
			cleanup.push(() => instance.stop());
			instances.push(instance);
		}
		// Every client here is 127.0.0.1, which ip_hash would send to one instance: this copy of the
		// example takes the client address from X-Forwarded-For, so each person can pose as a client of their own.
		proxy = await startNginx(nginx!, { dir, port, upstreams: [instances[0].port, instances[1].port], trustLocalForwardedFor: true });
		cleanup.push(() => proxy.stop());
	});

	test.afterAll(async () => {
		for (const undo of cleanup.reverse()) await undo();
		instances = [];
	});

	/** Access log lines of `method uri` requests from `client`, as `status upstream-port` strings. */
	function routed(method: string, uri: string, client: string): string[] {
		const lines = proxy.accessLog().split('\n');
		const pattern = new RegExp(`^${method} ${uri.replace(/[.?]/g, '\\$&')} (\\d+) client=${client.replace(/\./g, '\\.')} upstream=127\\.0\\.0\\.1:(\\d+)$`);
		return lines.flatMap((line) => {
			const match = pattern.exec(line);
			return match ? [`${match[1]} ${match[2]}`] : [];
		});
	}

	/** Waits until nginx has logged each of `expected` (`status port`) for `method uri` from `client`: it logs once a request ends. */
	async function expectLogged(method: string, uri: string, client: string, expected: string[]) {
		const has = () => expected.every((line) => routed(method, uri, client).includes(line));
		await until(has, 5000, `nginx to log ${method} ${uri}`).catch(() => {
			throw new Error(`expected nginx to log ${JSON.stringify(expected)} for ${method} ${uri} from ${client}, it logged ${JSON.stringify(routed(method, uri, client))}`);
		});
	}

	/** The instance (its port) nginx sends `client` to, from a HEAD request's access log line. */
	async function instanceFor(client: string): Promise<number> {
		const before = routed('HEAD', '/signin', client).length;
		const response = await fetch(`${proxy.url}/signin`, { method: 'HEAD', headers: { 'x-forwarded-for': client } });
		expect(response.status).toBe(200);
		await until(() => routed('HEAD', '/signin', client).length > before, 5000, `nginx to log ${client}`);
		return Number(routed('HEAD', '/signin', client).at(-1)!.split(' ')[1]);
	}

	/** Two client addresses that ip_hash sends to different instances, first one to instances[0]. */
	async function addressesOnBothInstances(): Promise<[string, string]> {
		const found = new Map<number, string>();
		for (let n = 1; n <= 40 && found.size < 2; n++) {
			const address = `10.0.${n}.1`;
			const port = await instanceFor(address);
			if (!found.has(port)) found.set(port, address);
		}
		expect([...found.keys()].sort()).toEqual(instances.map((i) => i.port).sort());
		return [found.get(instances[0].port)!, found.get(instances[1].port)!];
	}

	test('each instance sees the client address nginx forwards: sign-in limits count per address', async () => {
		const [client] = await addressesOnBothInstances();
		// Same /24: ip_hash sends it to the same instance, whose limiter must still tell them apart.
		const neighbour = client.replace(/\.1$/, '.2');
		expect(await instanceFor(neighbour)).toBe(await instanceFor(client));
		const name = uniqueName('ghost');
		const attempt = (from: string, as = name) =>
			fetch(`${proxy.url}/api/auth/signin`, {
				method: 'POST',
				headers: { 'content-type': 'application/json', 'x-forwarded-for': from },
				body: JSON.stringify({ name: as, password: 'wrong-password' })
			}).then((r) => r.status);
		for (let i = 0; i < 5; i++) expect(await attempt(client)).toBe(401);
		expect(await attempt(client)).toBe(429);
		// Another address on that instance, and another name from that address, are not held back.
		expect(await attempt(neighbour)).toBe(401);
		expect(await attempt(client, uniqueName('ghost'))).toBe(401);
	});

	interface Person {
		name: string;
		address: string;
		context: BrowserContext;
		page: Page;
	}

	/** Someone at `address` who signs up through nginx and opens the chat. */
	async function person(browser: Browser, prefix: string, address: string): Promise<Person> {
		const name = uniqueName(prefix);
		const context = await browser.newContext({ baseURL: proxy.url, extraHTTPHeaders: { 'x-forwarded-for': address } });
		const response = await context.request.post('/api/auth/signup', { data: { name, password: 'password-123' } });
		expect(response.status()).toBe(201);
		const page = await context.newPage();
		await page.goto('/chat');
		await expect(page.getByRole('heading', { name: 'Rooms', exact: true })).toBeVisible();
		return { name, address, context, page };
	}

	const texts = (p: Person) => p.page.getByTestId('message').locator('.text');
	const roomItem = (p: Person, name: string) => p.page.locator(`[data-testid="room"][data-name="${name}"]`);

	async function say(p: Person, room: string, text: string) {
		const box = p.page.getByRole('textbox', { name: `Message #${room}` });
		await box.fill(text);
		await box.press('Enter');
	}

	test('two people on different instances chat through nginx over WebSocket; a mention arrives over SSE', async ({ browser }) => {
		test.setTimeout(90_000);
		const [anaAddress, boAddress] = await addressesOnBothInstances();
		const ana = await person(browser, 'ana', anaAddress);
		const bo = await person(browser, 'bo', boAddress);
		const room = `proxied-${Date.now() % 100000}`;

		await ana.page.getByRole('button', { name: 'New room' }).click();
		await ana.page.getByLabel('Name').fill(room);
		await ana.page.getByRole('button', { name: 'Create room' }).click();
		await expect(ana.page.getByRole('textbox', { name: `Message #${room}` })).toBeVisible();
		// The new room reaches Bo's list from the other instance, through Redis.
		await expect(roomItem(bo, room)).toBeVisible();
		await roomItem(bo, room).click();
		await bo.page.getByRole('button', { name: `Join #${room}` }).click();
		await expect(bo.page.getByRole('textbox', { name: `Message #${room}` })).toBeVisible();
		await expect(ana.page.getByTestId('system-line').filter({ hasText: `${bo.name} joined` })).toBeVisible();

		await say(bo, room, 'hello from the second instance');
		await expect(texts(ana)).toHaveText(['hello from the second instance']);
		await say(ana, room, 'and back from the first');
		await expect(texts(bo)).toHaveText(['hello from the second instance', 'and back from the first']);
		await expect(bo.page.getByTestId('message').last()).toHaveAttribute('data-state', 'sent');

		// Ana's instance stores the mention's notification; Bo's notification stream, held through nginx
		// on the other instance, gets it: the header's unread count.
		await expect(bo.page.getByTestId('unread-badge')).toHaveCount(0);
		await say(ana, room, `@${bo.name} see this`);
		await expect(texts(bo)).toHaveCount(3);
		await expect(bo.page.getByTestId('unread-badge')).toHaveText('1');

		await ana.context.close();
		await bo.context.close();
		// Each WebSocket and event stream went to its person's instance.
		const [first, second] = instances.map((i) => String(i.port));
		await expectLogged('GET', '/socket.io/', ana.address, [`101 ${first}`]);
		await expectLogged('GET', '/socket.io/', bo.address, [`101 ${second}`]);
		await expectLogged('GET', '/api/notifications/stream', bo.address, [`200 ${second}`]);
	});

	/** Signs up through nginx as a client at `address`; the session cookie. */
	async function signUpAt(address: string): Promise<string> {
		const response = await fetch(`${proxy.url}/api/auth/signup`, {
			method: 'POST',
			headers: { 'content-type': 'application/json', 'x-forwarded-for': address },
			body: JSON.stringify({ name: uniqueName('files'), password: 'password-123' })
		});
		expect(response.status).toBe(201);
		return /runnel_session=[^;]+/.exec(response.headers.get('set-cookie')!)![0];
	}

	test('a file uploaded through one instance downloads, whole and by range, through the other', async () => {
		const [anaAddress, boAddress] = await addressesOnBothInstances();
		const as = (address: string, cookie: string, headers: Record<string, string> = {}) => ({ 'x-forwarded-for': address, cookie, ...headers });
		const [ana, bo] = [await signUpAt(anaAddress), await signUpAt(boAddress)];
		// One chunk larger than nginx's default 1 MB body limit: client_max_body_size lets it through.
		const bytes = randomBytes(1536 * 1024);
		const sha256 = createHash('sha256').update(bytes).digest();
		const created = await fetch(`${proxy.url}/api/uploads`, {
			method: 'POST',
			headers: as(anaAddress, ana, { 'content-type': 'application/json' }),
			body: JSON.stringify({ name: 'report.bin', size: bytes.length, sha256: sha256.toString('hex') })
		});
		expect(created.status).toBe(201);
		const { id } = await created.json();
		const done = await fetch(`${proxy.url}/api/uploads/${id}`, {
			method: 'PATCH',
			headers: as(anaAddress, ana, { 'content-type': 'application/offset+octet-stream', 'upload-offset': '0', 'upload-checksum': `sha256 ${sha256.toString('base64')}` }),
			body: new Uint8Array(bytes)
		});
		expect(done.status, await done.clone().text()).toBe(201);
		const { file } = await done.json();
		const shared = await fetch(`${proxy.url}/api/files/${file.id}/visibility`, {
			method: 'POST',
			headers: as(anaAddress, ana, { 'content-type': 'application/json' }),
			body: JSON.stringify({ public: true })
		});
		expect(shared.status).toBe(200);

		const whole = await fetch(`${proxy.url}/api/files/${file.id}/download`, { headers: as(boAddress, bo) });
		expect(whole.status).toBe(200);
		expect(createHash('sha256').update(Buffer.from(await whole.arrayBuffer())).digest('hex')).toBe(sha256.toString('hex'));
		const part = await fetch(`${proxy.url}/api/files/${file.id}/download`, { headers: as(boAddress, bo, { range: 'bytes=1000000-1000099' }) });
		expect(part.status).toBe(206);
		expect(Buffer.from(await part.arrayBuffer()).equals(bytes.subarray(1000000, 1000100))).toBe(true);
		const [first, second] = instances.map((i) => String(i.port));
		await expectLogged('PATCH', `/api/uploads/${id}`, anaAddress, [`201 ${first}`]);
		await expectLogged('GET', `/api/files/${file.id}/download`, boAddress, [`200 ${second}`, `206 ${second}`]);
	});
});

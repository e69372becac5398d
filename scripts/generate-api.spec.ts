import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { HEADER } from './api-gen/emit';
import { functionName, parseRoutePath } from './api-gen/route-path';
import { methodName, SOCKET_HEADER, socketFileName } from './api-gen/socket';
import { typecheck } from './api-gen/typecheck';
import { generate, staleFiles, writeGenerated } from './generate-api';

const root = join(import.meta.dirname, '..');
const fixtures = join(import.meta.dirname, 'fixtures');
// Same shape as src/lib/api -> src/routes, so the snapshots read like the real output.
const fixtureOptions = { routesDir: join(fixtures, 'routes'), outDir: join(fixtures, 'lib/api'), socketEvents: join(fixtures, 'shared/socket-events.ts') };
const temps: string[] = [];

afterEach(() => {
	for (const dir of temps.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function temp(): string {
	const dir = mkdtempSync(join(tmpdir(), 'runnel-gen-'));
	temps.push(dir);
	return dir;
}

function routes(files: Record<string, string>): string {
	const dir = temp();
	for (const [path, content] of Object.entries(files)) {
		mkdirSync(dirname(join(dir, path)), { recursive: true });
		writeFileSync(join(dir, path), content);
	}
	return dir;
}

const jsonGet = (doc: string) => `/** ${doc} */\nexport const GET = (async () => json({ ok: true })) satisfies RequestHandler;\n`;

describe('generate', () => {
	it('writes one typed file per area (snapshot)', async () => {
		const { files, warnings } = generate(fixtureOptions);
		expect(files.map((file) => basename(file.path))).toEqual([
			'analytics.api.ts',
			'builds.api.ts',
			'docs.api.ts',
			'files.api.ts',
			'notifications.api.ts',
			'rooms.api.ts',
			'search.api.ts',
			'live.api.svelte.ts'
		]);
		for (const file of files) {
			const socket = file.path.endsWith('.svelte.ts');
			expect(file.content.split('\n')[0]).toBe(socket ? SOCKET_HEADER('fixtures/shared/socket-events.ts') : HEADER);
			await expect(file.content).toMatchFileSnapshot(`__snapshots__/generate-api/${basename(file.path)}.snap`);
		}
		expect(warnings.map((w) => w.replace(/^.*fixtures\/(routes\/)?/, ''))).toEqual([
			'api/analytics/+server.ts: skipped POST: record streams must be GET',
			'api/builds/[id]/log/+server.ts: skipped POST: text streams must be GET',
			'api/legacy/+server.ts: skipped GET is annotated with a type, which hides the response brand: write `export const GET = (async (event) => …) satisfies RequestHandler`',
			'api/legacy/+server.ts: skipped POST returns new Response(): return exactly one of sse(), json(), ndjson(), file(), text() (errors: throw, e.g. inside handleErrors())',
			"shared/socket-events.ts: ClientToServerEvents['broken:thing'] skipped: end it with an acknowledgement callback, or mark it @volatile and give it none",
			'shared/socket-events.ts: ClientToServerEvents.notAnEvent is not an event (a function type): skipped'
		]);
	});

	it('refuses two handlers with one name, and @client names that are not identifiers', () => {
		const clash = routes({
			'api/files/[id]/+server.ts': jsonGet('One file.'),
			'api/files/[key]/+server.ts': jsonGet('Also one file.'),
			'api/files/list/+server.ts': jsonGet('Bad name. @client get-files')
		});
		const error = (() => {
			try {
				generate({ routesDir: clash, outDir: join(clash, 'out') });
			} catch (error) {
				return (error as Error).message;
			}
		})();
		expect(error).toContain('files: GET /api/files/[id] and GET /api/files/[key] would both be getFile(): add @client to one');
		expect(error).toMatch(/api\/files\/list\/\+server\.ts: GET: @client "get-files" is not an identifier/);
	});
});

describe('names', () => {
	const name = (prefix: string, ...dirs: string[]) => functionName(prefix, parseRoutePath(dirs).segments);

	it('follows the documented rule', () => {
		expect(name('get', 'notifications')).toBe('getNotifications');
		expect(name('post', 'notifications', 'read')).toBe('postNotificationsRead');
		expect(name('open', 'notifications', 'stream')).toBe('openNotificationsStream');
		expect(name('get', 'files', '[id]')).toBe('getFile');
		expect(name('open', '(app)', 'rooms', '[id=int]', 'stream')).toBe('openRoomStream');
		expect(name('get', 'categories', '[slug]', 'read-all')).toBe('getCategoryReadAll');
		expect(name('get', 'status', '[id]')).toBe('getStatus');
		expect(name('get', 'repos', '[owner]', '[repo]')).toBe('getRepoByRepo');
		expect(name('read', 'analytics')).toBe('readAnalytics');
		expect(name('read', '(live)', 'rooms', '[id]', 'history')).toBe('readRoomHistory');
		expect(name('download', 'files', '[id]', 'content')).toBe('downloadFileContent');
		expect(name('read', 'jobs', '[id]', 'log')).toBe('readJobLog');
	});

	it('names socket methods verb first and socket client files by area', () => {
		expect(methodName('room:join')).toBe('joinRoom');
		expect(methodName('rooms:list')).toBe('listRooms');
		expect(methodName('read:mark')).toBe('markRead');
		expect(methodName('ping')).toBe('ping');
		expect(methodName('user:avatar:set-default')).toBe('setDefaultUserAvatar');
		expect(socketFileName('ChatClient')).toBe('chat.api.svelte.ts');
		expect(socketFileName('LiveFeedClient')).toBe('live-feed.api.svelte.ts');
	});

	it('rejects paths it cannot express', () => {
		expect(() => parseRoutePath(['files', 'v[id].json'])).toThrow(/mixes text and parameters/);
		expect(() => parseRoutePath(['[id]'])).toThrow(/area/);
	});
});

describe('check and write', () => {
	it('finds out-of-date, missing and left-over generated files; write fixes them', () => {
		const outDir = temp();
		const { files } = generate({ ...fixtureOptions, outDir, importBase: '../../routes' });
		expect(staleFiles(files, outDir)).toHaveLength(files.length);
		expect(writeGenerated(files, outDir)).toHaveLength(files.length);
		expect(staleFiles(files, outDir)).toEqual([]);
		expect(writeGenerated(files, outDir)).toEqual([]);

		writeFileSync(files[0].path, files[0].content + '// edited\n');
		writeFileSync(join(outDir, 'gone.api.ts'), `${HEADER}\n`);
		writeFileSync(join(outDir, 'mine.api.ts'), '// written by hand\n');
		const problems = staleFiles(files, outDir);
		expect(problems).toHaveLength(2);
		expect(problems[0]).toMatch(/analytics\.api\.ts is out of date$/);
		expect(problems[1]).toMatch(/gone\.api\.ts has no routes left$/);
		writeGenerated(files, outDir);
		expect(staleFiles(files, outDir)).toEqual([]);
	});
});

describe('generated code type-checks', () => {
	const usage = (body: string) => ({
		path: join(fixtures, 'usage.ts'),
		content: `${USAGE_IMPORTS}\nexport async function usage(signal: AbortSignal) {\n${body}\n}\n`
	});
	const generated = () => generate(fixtureOptions).files;

	it('against the routes and src/lib/stream, with the types pages expect', () => {
		expect(typecheck(root, [...generated(), usage(GOOD_USAGE)])).toEqual([]);
	});

	it('and a wrong call is a type error', () => {
		const lines = [
			"await postNotifications({ title: 1, body: 'b' });",
			"await getFile('f1');",
			"openRoomStream('r1').onMessage('nope', () => {});",
			"readAnalytics({ series: 'a' });",
			"readRoomHistory('r1', { cursor: 'nope' });",
			"await downloadFileContent('f1', { version: 'v2' });",
			"await new LiveClient().joinChannel({ channel: 1 });",
			"new LiveClient().sayHello();",
			"new LiveClient().on('nope', () => {});",
			"readBuildLog('b1', { from: 'start' });",
			"readBuildLog('b1', {}, { onText: (text: number) => text });"
		];
		const diagnostics = typecheck(root, [...generated(), usage(lines.join('\n'))]);
		const firstLine = USAGE_IMPORTS.split('\n').length + 2;
		expect(diagnostics.map((d) => Number(/usage\.ts:(\d+):/.exec(d)?.[1]) - firstLine)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
	});
});

const USAGE_IMPORTS = `import { deleteNotification, getNotifications, markRead, openNotificationsStream, postNotifications } from './lib/api/notifications.api';
import { downloadFileContent, downloadFileThumbnail, getFile, patchFile } from './lib/api/files.api';
import { openRoomStream, readRoomHistory } from './lib/api/rooms.api';
import { readAnalytics } from './lib/api/analytics.api';
import { readBuildLog } from './lib/api/builds.api';
import { getDoc } from './lib/api/docs.api';
import { getSearch } from './lib/api/search.api';
import { LiveClient } from './lib/api/live.api.svelte';

type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
function assert<T extends true>(): T | void {}`;

const GOOD_USAGE = `
	const list = await getNotifications({ types: ['a', 'b'], before: 3 }, { signal, fetch });
	assert<Equal<typeof list, { items: { id: string; title: string; at: number }[] }>>();
	const created = await postNotifications({ title: 't', body: 'b' });
	assert<Equal<typeof created, { id: number }>>();
	assert<Equal<Awaited<ReturnType<typeof markRead>>, { unread: number }>>();
	assert<Equal<Awaited<ReturnType<typeof deleteNotification>>, { deleted: true }>>();
	const stream = openNotificationsStream({ types: ['mention'] }, { lastEventId: '5' });
	stream.onMessage('unread', (data) => assert<Equal<typeof data, { count: number }>>());
	stream.onReset(() => stream.close());
	for await (const event of stream) {
		if (event.type === 'notification') assert<Equal<typeof event.data, { id: string; title: string }>>();
	}
	const status: 'connecting' | 'open' | 'reconnecting' | 'closed' = openRoomStream('r 1').status;
	openRoomStream('r1').onMessage('typing', (data) => data.user.toUpperCase());
	const file = await getFile('f1', { version: 2 });
	assert<Equal<typeof file, { id: string; size: number }>>();
	await patchFile('f1', { name: 'new' });
	await getDoc('guides/a b.md');
	await getSearch(undefined, { q: 'x' });
	const points = readAnalytics({ series: ['a'] }, { signal, cursor: 'cursor', onChunk: (batch) => assert<Equal<typeof batch, { cursor: string; at: number; value: number }[]>>() });
	for await (const point of points) assert<Equal<typeof point, { cursor: string; at: number; value: number }>>();
	await points.done;
	const history = readRoomHistory('r1', { onError: (error) => error.message, onComplete: () => {} });
	for await (const message of history) assert<Equal<typeof message, { id: string; text: string; at: number }>>();
	const blob = await downloadFileContent('f1', { version: 2 }, { signal, onProgress: ({ received }) => received });
	assert<Equal<typeof blob, Blob>>();
	assert<Equal<Awaited<ReturnType<typeof downloadFileThumbnail>>, Blob>>();
	await downloadFileThumbnail('f1');
	const live = new LiveClient({ url: 'http://127.0.0.1:1', ackTimeout: 100 });
	const joined = await live.joinChannel({ channel: 'a' });
	if (joined.ok) assert<Equal<typeof joined.members, number>>();
	else assert<Equal<typeof joined.error, string>>();
	const pong = await live.ping();
	if (pong.ok) assert<Equal<typeof pong.at, number>>();
	const lines = await live.fetchLines({});
	if (lines.ok) assert<Equal<typeof lines.lines, string[]>>();
	assert<Equal<ReturnType<typeof live.sayHello>, void>>();
	live.sayHello({ to: 'b' });
	live.on('line:new', (line) => assert<Equal<typeof line, { id: number; text: string }>>());
	const socketStatus: 'idle' | 'connecting' | 'connected' | 'reconnecting' | 'closed' = live.status;
	void socketStatus;
	const log = readBuildLog('b1', { from: 3 }, { signal, onText: (text) => assert<Equal<typeof text, string>>(), onComplete: () => {} });
	log.abort();
	await log.done;
	readBuildLog('b 1');
	return status;`;

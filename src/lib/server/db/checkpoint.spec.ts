import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import SQLite from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Checkpointer } from './checkpoint';
import { open } from './index';

let dir: string;
let sqlite: SQLite.Database;
let file: string;
const closers: (() => Promise<void>)[] = [];

beforeEach(() => {
	dir = mkdtempSync(join(tmpdir(), 'runnel-checkpoint-'));
	file = join(dir, 'test.db');
	sqlite = new SQLite(file);
	sqlite.pragma('journal_mode = WAL');
	sqlite.pragma('synchronous = NORMAL');
	sqlite.exec('create table t (id integer primary key, body text)');
});
afterEach(async () => {
	for (const close of closers.splice(0)) await close();
	sqlite.close();
	rmSync(dir, { recursive: true, force: true });
});

function start(options: { startBytes: number; everyMs: number; minFrames?: number }, warn?: (error: unknown, message: string) => void): Checkpointer {
	const checkpoints = new Checkpointer(sqlite, file, warn, options);
	closers.push(() => checkpoints.close());
	return checkpoints;
}

/** Commits `count` rows one by one (a page-sized body each), as the chat does. */
function write(count: number, from = 0): void {
	const insert = sqlite.prepare('insert into t (id, body) values (?, ?)');
	for (let i = from; i < from + count; i++) insert.run(i, 'x'.repeat(3000));
}

const walBytes = () => statSync(`${file}-wal`).size;
const walFrames = (): { log: number; checkpointed: number } => {
	const [row] = sqlite.pragma('wal_checkpoint(NOOP)') as { log: number; checkpointed: number }[];
	return row;
};

describe('Checkpointer', () => {
	it('stops the connection’s own checkpoints: the WAL keeps growing past SQLite’s 1,000 pages', () => {
		start({ startBytes: Number.MAX_SAFE_INTEGER, everyMs: 20 });
		expect(sqlite.pragma('wal_autocheckpoint', { simple: true })).toBe(0);
		write(1500);
		expect(walFrames().log).toBeGreaterThan(1500);
		expect(walFrames().checkpointed).toBe(0);
	});

	it('past the size, a worker checkpoints while the connection goes on writing; every row stays', async () => {
		const checkpoints = start({ startBytes: 64 * 1024, everyMs: 20, minFrames: 0 });
		write(100);
		await vi.waitFor(() => expect(checkpoints.stats.runs).toBeGreaterThan(0), { timeout: 10_000, interval: 20 });
		// Writes go on between the worker's checkpoints, and none of them waits on one (PASSIVE).
		for (let round = 1; round <= 5; round++) write(50, 100 * round);
		const runs = checkpoints.stats.runs;
		await vi.waitFor(() => expect(checkpoints.stats.runs).toBeGreaterThan(runs + 1), { timeout: 10_000, interval: 20 });
		expect(checkpoints.stats.checkpointed).toBe(checkpoints.stats.log);
		expect(sqlite.prepare('select count(*) as n from t').get()).toEqual({ n: 350 });
		// Nothing is open on the database file now but this connection: a fresh one reads everything.
		const reader = new SQLite(file, { readonly: true });
		expect(reader.prepare('select count(*) as n from t').get()).toEqual({ n: 350 });
		reader.close();
	});

	it('the worker checkpoints only once enough frames wait, and runs at the lowest CPU priority', async () => {
		const checkpoints = start({ startBytes: 0, everyMs: 10, minFrames: 400 });
		write(100);
		// It looks (and reports the WAL) but copies nothing yet.
		await vi.waitFor(() => expect(checkpoints.stats.log).toBeGreaterThanOrEqual(100), { timeout: 10_000, interval: 10 });
		expect(checkpoints.stats.runs).toBe(0);
		expect(walFrames().checkpointed).toBe(0);
		write(400, 100);
		await vi.waitFor(() => expect(checkpoints.stats.runs).toBe(1), { timeout: 10_000, interval: 10 });
		expect(checkpoints.stats.checkpointed).toBe(checkpoints.stats.log);
		if (process.platform === 'linux') {
			// One thread of this process, the worker's, is at nice 19 (field 19 of /proc/…/stat).
			const nice = readdirSync('/proc/self/task').map((tid) => {
				const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
				return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]);
			});
			expect(nice).toContain(19);
		}
	});

	it('a WAL under the size starts no worker', async () => {
		const checkpoints = start({ startBytes: 64 * 1024 * 1024, everyMs: 10 });
		write(20);
		await new Promise((resolve) => setTimeout(resolve, 100));
		expect(checkpoints.stats.runs).toBe(0);
		expect(walBytes()).toBeGreaterThan(0);
	});

	it('after close() no checkpoint runs', async () => {
		const checkpoints = start({ startBytes: 0, everyMs: 10, minFrames: 0 });
		write(10);
		await vi.waitFor(() => expect(checkpoints.stats.runs).toBeGreaterThan(0), { timeout: 10_000, interval: 10 });
		await checkpoints.close();
		const runs = checkpoints.stats.runs;
		write(10, 100);
		await new Promise((resolve) => setTimeout(resolve, 100));
		expect(checkpoints.stats.runs).toBe(runs);
	});

	it('a worker that cannot open the file gives the connection its own checkpoints back, and says so', async () => {
		const warn = vi.fn();
		// A Checkpointer pointed at a file in a folder that does not exist: its worker fails at once.
		const broken = new Checkpointer(sqlite, join(dir, 'missing', 'x.db'), warn, { startBytes: 0, everyMs: 10, minFrames: 0 });
		closers.push(() => broken.close());
		await vi.waitFor(() => expect(warn).toHaveBeenCalled(), { timeout: 10_000, interval: 10 });
		expect(warn.mock.calls[0][1]).toMatch(/checkpoint worker failed/);
		expect(sqlite.pragma('wal_autocheckpoint', { simple: true })).toBe(1000);
	});
});

describe('the SQLite store', () => {
	it('checkpoints through the worker and closes it with the store', async () => {
		const store = await open({ dataDir: join(dir, 'store') });
		expect(store.checkpoints).toEqual({ runs: 0, log: 0, checkpointed: 0 });
		await store.close();
	});
});

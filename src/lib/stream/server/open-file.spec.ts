import { mkdtemp, readdir, readlink, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OpenFile } from './open-file';

let dir: string;

beforeAll(async () => {
	dir = await mkdtemp(join(tmpdir(), 'runnel-open-file-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

/** How many of this process's descriptors are open on `path`. */
async function openFds(path: string): Promise<number> {
	const fds = await readdir('/proc/self/fd');
	const targets = await Promise.all(fds.map((fd) => readlink(`/proc/self/fd/${fd}`).catch(() => '')));
	return targets.filter((target) => target === path).length;
}

describe('OpenFile', () => {
	it('opens a file with its stats and reads at positions', async () => {
		const path = join(dir, 'a');
		await writeFile(path, 'hello world');
		const file = OpenFile.open(path)!;
		expect([file.stats.isFile(), file.stats.size]).toEqual([true, 11]);
		const buffer = Buffer.alloc(5);
		expect(await file.read(buffer, 5, 6)).toBe(5);
		expect(buffer.toString()).toBe('world');
		file.close();
		expect(await openFds(path)).toBe(0);
	});

	it('is null for a missing file, a symlink and a path through a file', async () => {
		const target = join(dir, 'target');
		await writeFile(target, 'secret');
		await symlink(target, join(dir, 'link'));
		expect(OpenFile.open(join(dir, 'missing'))).toBeNull();
		expect(OpenFile.open(join(dir, 'link'))).toBeNull();
		expect(OpenFile.open(join(target, 'below'))).toBeNull();
		expect(await openFds(target)).toBe(0);
	});

	it('closes after the read in flight, which still gets its bytes; reading after close fails', async () => {
		const path = join(dir, 'b');
		await writeFile(path, Buffer.alloc(4 * 1024 * 1024, 7));
		const file = OpenFile.open(path)!;
		const buffer = Buffer.alloc(4 * 1024 * 1024);
		const reading = file.read(buffer, buffer.length, 0);
		file.close();
		file.close();
		expect(file.closed).toBe(true);
		expect(await reading).toBe(buffer.length);
		expect(buffer.every((byte) => byte === 7)).toBe(true);
		expect(await openFds(path)).toBe(0);
		await expect(file.read(buffer, 1, 0)).rejects.toThrow('The file was closed.');
	});
});

import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { runtime } from '../runtime';

let timer: NodeJS.Timeout | undefined;
let first: Promise<number> | undefined;

/**
 * Removes uploads untouched for UPLOAD_STALE_HOURS (rows and part files).
 * @returns how many were removed.
 * @example await sweep(Date.now());
 */
export async function sweep(now = Date.now()): Promise<number> {
	const rt = runtime();
	const cutoff = now - rt.config.uploadStaleMs;
	const stale = await rt.store.db.selectFrom('uploads').select('id').where('updated_at', '<', cutoff).execute();
	for (const { id } of stale) {
		await rt.store.db.deleteFrom('uploads').where('id', '=', id).where('updated_at', '<', cutoff).execute();
		await rm(join(rt.config.dataDir, 'uploads', `${id}.part`), { force: true });
	}
	if (stale.length) rt.log.info({ count: stale.length }, 'removed stale uploads');
	return stale.length;
}

/** On first use: sweeps once (awaited), then again on an unref'd interval for the life of the process. */
export function startSweeper(): Promise<number> {
	if (!first) {
		const every = Math.min(runtime().config.uploadStaleMs / 4, 15 * 60_000);
		timer = setInterval(() => void sweep().catch(() => undefined), every);
		timer.unref();
		first = sweep().catch(() => 0);
	}
	return first;
}

/** Stops the interval, so the next use starts it again (for tests that restart the runtime). */
export function stopSweeper(): void {
	clearInterval(timer);
	timer = undefined;
	first = undefined;
}

import { runtime, type Runtime } from '../runtime';
import { RedisUploadLocks } from './lock-redis';

/** Per-upload write locks, so two chunks of one upload are never written at once. */
export interface UploadLocks {
	/**
	 * Takes the write lock of one upload.
	 * @returns the release function, or null when another request holds the lock.
	 */
	tryLock(id: string): Promise<(() => Promise<void>) | null>;
}

/** Held in this process only: the embedded default, where one instance serves every upload. */
export class LocalUploadLocks implements UploadLocks {
	readonly #held = new Set<string>();

	async tryLock(id: string): Promise<(() => Promise<void>) | null> {
		if (this.#held.has(id)) return null;
		this.#held.add(id);
		let released = false;
		return async () => {
			if (!released) this.#held.delete(id);
			released = true;
		};
	}
}

const locks = new WeakMap<Runtime, UploadLocks>();

/**
 * The runtime's upload locks: shared by every instance through Redis when there is one, else in this process.
 * @example const release = await uploadLocks().tryLock(id); if (!release) throw new HttpError(423, '…'); try { … } finally { await release(); }
 */
export function uploadLocks(rt: Runtime = runtime()): UploadLocks {
	let found = locks.get(rt);
	if (!found) {
		found = rt.redis ? new RedisUploadLocks({ redis: rt.redis, prefix: rt.config.redisPrefix, log: rt.log }) : new LocalUploadLocks();
		locks.set(rt, found);
	}
	return found;
}

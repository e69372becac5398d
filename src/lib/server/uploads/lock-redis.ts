import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { HttpError } from '../errors';
import type { Logger } from '../log';
import type { UploadLocks } from './lock';

// KEYS[1] the lock; ARGV[1] the holder's token (ARGV[2] ms): only the holder renews or releases it.
const RENEW = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end return 0`;
const RELEASE = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`;
// KEYS[1] the lock; ARGV the dead holder's value, the new one, ms: takes it over only from that holder.
const TAKE_OVER = `if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3]) return 1 end return 0`;

/** Settings of the shared upload locks. */
export interface RedisUploadLocksOptions {
	redis: Redis;
	/** Locks are `<prefix>upload-lock:<id>`. */
	prefix: string;
	/** A lock whose holder stops renewing it (its instance died) frees after this long (ms). */
	ttlMs?: number;
	log?: Logger;
}

/**
 * Upload write locks every instance sees: a Redis key set if absent, with an expiry that the holder
 * renews while it writes. The value names the holder's Redis connection, so a lock whose holder's
 * connection is gone (its instance was killed) is taken over at once instead of after the expiry.
 * When Redis can't be reached the chunk is refused with 503 (the client retries), rather than risk
 * two instances writing one file.
 * @example const locks = new RedisUploadLocks({ redis, prefix: 'runnel:' });
 */
export class RedisUploadLocks implements UploadLocks {
	#options: RedisUploadLocksOptions & { ttlMs: number };
	#clientId: Promise<string> | undefined;

	constructor(options: RedisUploadLocksOptions) {
		this.#options = { ...options, ttlMs: options.ttlMs ?? 30_000 };
		options.redis.defineCommand('uploadLockRenew', { numberOfKeys: 1, lua: RENEW });
		options.redis.defineCommand('uploadLockRelease', { numberOfKeys: 1, lua: RELEASE });
		options.redis.defineCommand('uploadLockTakeOver', { numberOfKeys: 1, lua: TAKE_OVER });
		// A reconnected link is a new client with a new id.
		options.redis.on('ready', () => (this.#clientId = undefined));
	}

	async tryLock(id: string): Promise<(() => Promise<void>) | null> {
		const { redis, prefix, ttlMs, log } = this.#options;
		const key = `${prefix}upload-lock:${id}`;
		let token: string;
		let taken: boolean;
		try {
			this.#clientId ??= redis.call('CLIENT', 'ID').then(String);
			token = `${await this.#clientId}:${randomBytes(9).toString('hex')}`;
			taken = (await redis.set(key, token, 'PX', ttlMs, 'NX')) === 'OK' || (await this.#takeOver(key, token));
		} catch (err) {
			this.#clientId = undefined;
			log?.warn({ err, upload: id }, 'upload lock: Redis unreachable, chunk refused');
			throw new HttpError(503, 'Uploads are briefly unavailable (their shared lock cannot be reached); try again in a moment.', 2);
		}
		if (!taken) return null;
		const renewal = setInterval(() => void redis.uploadLockRenew(key, token, ttlMs).catch(() => undefined), ttlMs / 3);
		renewal.unref();
		let released = false;
		return async () => {
			if (released) return;
			released = true;
			clearInterval(renewal);
			// If this fails, the lock frees itself after ttlMs.
			await redis.uploadLockRelease(key, token).catch(() => undefined);
		};
	}

	/** Takes the lock over when its holder's connection no longer exists. */
	async #takeOver(key: string, token: string): Promise<boolean> {
		const { redis, ttlMs } = this.#options;
		const holder = await redis.get(key);
		if (holder === null) return (await redis.set(key, token, 'PX', ttlMs, 'NX')) === 'OK';
		const clientId = holder.slice(0, holder.indexOf(':'));
		if (!/^\d+$/.test(clientId) || String(await redis.call('CLIENT', 'LIST', 'ID', clientId)).trim() !== '') return false;
		return (await redis.uploadLockTakeOver(key, holder, token, ttlMs)) === 1;
	}
}

declare module 'ioredis' {
	interface RedisCommander {
		uploadLockRenew(key: string, token: string, ttlMs: number): Promise<number>;
		uploadLockRelease(key: string, token: string): Promise<number>;
		uploadLockTakeOver(key: string, holder: string, token: string, ttlMs: number): Promise<number>;
	}
}

import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Logger } from '../log';
import { redisConnection } from '../redis-connection';

/** How often an instance says it is alive… */
export const HEARTBEAT_MS = 3000;
/** …and how long after its last word it counts as gone (its users then go offline unless they are elsewhere). */
export const ALIVE_MS = 10_000;
/** Every this many heartbeats an instance writes its counts whole, so a change lost in a Redis hiccup is mended. */
const REWRITE_EVERY = 10;

// Keys under `<prefix>presence:`: `instances` (a set of instance ids), `alive:<instance>` (expires),
// `sockets:<instance>` (a hash: user id -> sockets there), `leaving:<user>` (expires after the grace).
// The scripts name keys they build themselves: fine on one Redis (as the bus assumes), not on a Cluster.

/** Writes this instance's count for a user and answers 1 when they were on another live instance or just left one. */
const ARRIVE = `
local p, me, user = ARGV[1], ARGV[2], ARGV[3]
redis.call('HSET', p .. 'sockets:' .. me, user, ARGV[4])
if redis.call('EXISTS', p .. 'leaving:' .. user) == 1 then return 1 end
for _, other in ipairs(redis.call('SMEMBERS', p .. 'instances')) do
	if other ~= me and redis.call('EXISTS', p .. 'alive:' .. other) == 1 and redis.call('HEXISTS', p .. 'sockets:' .. other, user) == 1 then return 1 end
end
return 0`;

/** Per user id (ARGV[3…]), 1 when they have a socket on a live instance (or, with ARGV[2] = 1, left one within the grace). */
const ONLINE = `
local p, withLeaving = ARGV[1], ARGV[2] == '1'
local live = {}
for _, instance in ipairs(redis.call('SMEMBERS', p .. 'instances')) do
	if redis.call('EXISTS', p .. 'alive:' .. instance) == 1 then live[#live + 1] = p .. 'sockets:' .. instance end
end
local out = {}
for i = 3, #ARGV do
	local on = 0
	if withLeaving and redis.call('EXISTS', p .. 'leaving:' .. ARGV[i]) == 1 then on = 1 end
	for _, key in ipairs(live) do
		if on == 0 and redis.call('HEXISTS', key, ARGV[i]) == 1 then on = 1 end
	end
	out[#out + 1] = on
end
return out`;

type PresenceRedis = Redis & {
	presenceArrive(prefix: string, me: string, user: string, count: string): Promise<number>;
	presenceOnline(prefix: string, withLeaving: string, ...users: string[]): Promise<number[]>;
};

/** What the shared presence needs from chat: this instance's counts, and a way to tell rooms of users gone with a dead instance. */
export interface RedisPresenceOptions {
	url: string;
	/** REDIS_PREFIX: instances sharing a bus share presence. */
	prefix: string;
	graceMs: number;
	log: Logger;
	/** This instance's open sockets per user (the truth that is written back after Redis lost it). */
	local: () => ReadonlyMap<number, number>;
	/** Users who were only on an instance that died (or stopped) and are nowhere else now. */
	onGone: (userIds: number[]) => void;
	/** Users of this instance whose presence Redis had lost (restarted empty, or this instance was taken for dead). */
	onRestored: (userIds: number[]) => void;
}

/**
 * Who is online across instances: each instance keeps its own per-user socket counts in Redis and
 * renews an expiring "alive" key; counts of an instance whose key expired (SIGKILL, a stop) no
 * longer count, and the first instance to notice tells the rooms of users it leaves offline.
 * Reads fall back to this instance's own counts while Redis is away.
 * @example const presence = new RedisPresence({ url, prefix: 'runnel:', graceMs: 2500, log, local: () => counts, onGone, onRestored });
 */
export class RedisPresence {
	readonly id = randomBytes(6).toString('hex');
	#options: RedisPresenceOptions;
	#redis: PresenceRedis;
	#key: (name: string) => string;
	#timer: ReturnType<typeof setInterval>;
	#beats = 0;
	#closed = false;

	constructor(options: RedisPresenceOptions) {
		this.#options = options;
		const prefix = `${options.prefix}presence:`;
		this.#key = (name) => prefix + name;
		// Short waits: a change lost in an outage is written back whole by the next heartbeat.
		const redis = redisConnection(options.url, `runnel-presence-${process.pid}`, {
			log: options.log,
			options: { maxRetriesPerRequest: 1, commandTimeout: 2000 },
			quiet: () => this.#closed
		});
		redis.defineCommand('presenceArrive', { numberOfKeys: 0, lua: ARRIVE });
		redis.defineCommand('presenceOnline', { numberOfKeys: 0, lua: ONLINE });
		this.#redis = redis as PresenceRedis;
		this.#redis.on('ready', () => void this.#beat());
		this.#timer = setInterval(() => void this.#beat(), HEARTBEAT_MS);
		this.#timer.unref();
	}

	/** Records this instance's socket count of a user; true when they were online elsewhere already (or just left). */
	async arrive(userId: number, count: number): Promise<boolean> {
		if (this.#closed) return false;
		try {
			return (await this.#redis.presenceArrive(this.#key(''), this.id, String(userId), String(count))) === 1;
		} catch (error) {
			this.#options.log.debug({ err: error }, 'chat presence: arrive not recorded');
			return false;
		}
	}

	/** Records that the user's last socket here closed; for the grace they still count as online. */
	async depart(userId: number): Promise<void> {
		if (this.#closed) return;
		await this.#redis
			.multi()
			.hdel(this.#key(`sockets:${this.id}`), String(userId))
			.set(this.#key(`leaving:${userId}`), '1', 'PX', this.#options.graceMs)
			.exec()
			.catch((error) => this.#options.log.debug({ err: error }, 'chat presence: depart not recorded'));
	}

	/** Of these users, those with a socket on a live instance (or, `withLeaving`, gone less than the grace ago); null when Redis does not answer. */
	async online(userIds: number[], withLeaving = true): Promise<Set<number> | null> {
		if (userIds.length === 0) return new Set();
		try {
			const flags = await this.#redis.presenceOnline(this.#key(''), withLeaving ? '1' : '0', ...userIds.map(String));
			return new Set(userIds.filter((_, i) => flags[i] === 1));
		} catch (error) {
			this.#options.log.debug({ err: error }, 'chat presence: online not read');
			return null;
		}
	}

	/** Stops renewing this instance (another one then announces its users offline, unless they are elsewhere) and disconnects. */
	async close(): Promise<void> {
		if (this.#closed) return;
		this.#closed = true;
		clearInterval(this.#timer);
		await this.#redis.del(this.#key(`alive:${this.id}`)).catch(() => undefined);
		this.#redis.disconnect();
	}

	/** Renews this instance, writes its counts back if Redis lost them, and clears instances that died. */
	async #beat(): Promise<void> {
		if (this.#closed) return;
		try {
			const replies = await this.#redis
				.multi()
				.sadd(this.#key('instances'), this.id)
				.set(this.#key(`alive:${this.id}`), '1', 'PX', ALIVE_MS)
				.exec();
			const lost = replies?.[0]?.[1] === 1;
			if (lost || ++this.#beats % REWRITE_EVERY === 0) await this.#rewrite(lost);
			await this.#sweep();
		} catch (error) {
			this.#options.log.debug({ err: error }, 'chat presence: heartbeat failed');
		}
	}

	/** Writes this instance's counts whole; `lost`: Redis had none of them (its users are announced again). */
	async #rewrite(lost: boolean): Promise<void> {
		const local = [...this.#options.local()];
		const key = this.#key(`sockets:${this.id}`);
		const write = this.#redis.multi().del(key);
		if (local.length) write.hset(key, Object.fromEntries(local.map(([user, count]) => [String(user), String(count)])));
		await write.exec();
		if (lost && local.length) this.#options.onRestored(local.map(([user]) => user));
	}

	/** Takes over instances whose alive key expired (one taker each, by SREM) and reports their users who are nowhere now. */
	async #sweep(): Promise<void> {
		const others = (await this.#redis.smembers(this.#key('instances'))).filter((id) => id !== this.id);
		for (const other of others) {
			if ((await this.#redis.exists(this.#key(`alive:${other}`))) === 1) continue;
			if ((await this.#redis.srem(this.#key('instances'), other)) !== 1) continue;
			const key = this.#key(`sockets:${other}`);
			const users = (await this.#redis.hkeys(key)).map(Number);
			await this.#redis.del(key);
			const online = await this.online(users, false);
			const gone = users.filter((user) => !online?.has(user) && !this.#options.local().has(user));
			if (gone.length) this.#options.onGone(gone);
		}
	}
}

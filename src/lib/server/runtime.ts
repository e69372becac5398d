import type { Redis } from 'ioredis';
import type { Server as SocketServer } from 'socket.io';
import { seedAnalytics } from './analytics/seed';
import { createBus, type Bus } from './bus';
import { loadConfig, type Config } from './config';
import { open, type Store } from './db';
import { startJobs, type JobPool } from './jobs/pool';
import { createLogger, type Logger } from './log';
import { redisConnection } from './redis-connection';
import { seed } from './seed';

/** What a running instance holds: one per process, shared by SvelteKit and the realtime server. */
export interface Runtime {
	config: Config;
	log: Logger;
	store: Store;
	/** Publish/subscribe with replay, over the store. */
	bus: Bus;
	/** With REDIS_URL: the connection for state every instance shares (rate limits, upload locks). */
	redis?: Redis;
	/** Aborted when the instance begins to shut down; long-lived streams end on it. */
	closing: AbortSignal;
	/** The Socket.IO server once attached (absent in unit tests and before attach). */
	io?: SocketServer;
	/** Work running in the background (demo history): closing waits for it after `closing` aborts. */
	background: Set<Promise<unknown>>;
	/** How far the demo analytics history is (0 to 1) while it is being generated. */
	analyticsSeeding?: number | null;
	/** The job worker pool, once started (one per process: both bundles reach it here). */
	jobs?: JobPool;
}

interface Slot {
	promise?: Promise<Runtime>;
	value?: Runtime;
	controller?: AbortController;
}

// Kept on globalThis: server.ts and the SvelteKit bundle each hold a copy of this module.
const KEY = Symbol.for('runnel.runtime');
const slot: Slot = ((globalThis as Record<symbol, unknown>)[KEY] ??= {}) as Slot;

/**
 * Starts the runtime once (config, logger, store, migrations, demo data) and returns it.
 * @example const rt = await initRuntime();
 */
export function initRuntime(config: Config = loadConfig()): Promise<Runtime> {
	slot.promise ??= (async () => {
		const log = createLogger(config);
		const store = await open({ dataDir: config.dataDir, databaseUrl: config.databaseUrl, warn: (err, message) => log.warn({ err }, message) });
		const bus = createBus({ store, config, log });
		slot.controller = new AbortController();
		const closing = slot.controller.signal;
		const redis = config.redisUrl ? sharedStateConnection(config.redisUrl, log, closing) : undefined;
		const rt: Runtime = { config, log, store, bus, redis, closing, background: new Set() };
		if (config.demoData) {
			await seed(rt);
			if (config.analyticsSeedEvents > 0) {
				const { analyticsSeedEvents: events, analyticsSeedDays: days } = config;
				inBackground(rt, 'analytics history', seedAnalytics(rt, { events, days, seed: 20261121 }));
			}
		}
		slot.value = rt;
		try {
			rt.jobs = await startJobs(rt);
		} catch (error) {
			slot.value = undefined;
			slot.controller.abort();
			await Promise.all(rt.background);
			await bus.close();
			await closeRedis(redis);
			await store.close();
			throw error;
		}
		return rt;
	})();
	slot.promise.catch(() => (slot.promise = undefined));
	return slot.promise;
}

/** Keeps `task` in `rt.background` until it settles; a failure is logged, never thrown. */
export function inBackground(rt: Runtime, name: string, task: Promise<unknown>): void {
	const tracked = task
		.catch((error: unknown) => rt.log.error({ err: error }, `${name} failed`))
		.finally(() => rt.background.delete(tracked));
	rt.background.add(tracked);
}

/** The started runtime; throws when called before initRuntime() resolved. */
export function runtime(): Runtime {
	if (!slot.value) throw new Error('runtime not started: call initRuntime() first');
	return slot.value;
}

/** Tells every long-lived stream to end (SSE clients are told to come back later). */
export function beginShutdown(): void {
	slot.controller?.abort();
}

/** Signals every stream to end, closes the bus, then the store; the runtime can be started again. */
export async function closeRuntime(): Promise<void> {
	const rt = slot.value;
	slot.controller?.abort();
	slot.promise = undefined;
	slot.value = undefined;
	if (!rt) return;
	await Promise.all(rt.background);
	await rt.bus.close();
	await closeRedis(rt.redis);
	await rt.store.close();
}

// Commands give up after a second (and one reconnect) so that callers can fall back, not hang.
function sharedStateConnection(url: string, log: Logger, closing: AbortSignal): Redis {
	const options = { maxRetriesPerRequest: 1, commandTimeout: 1000 };
	return redisConnection(url, `runnel-state-${process.pid}`, { log, options, quiet: () => closing.aborted });
}

async function closeRedis(redis: Redis | undefined): Promise<void> {
	if (redis?.status === 'ready') await redis.quit().catch(() => undefined);
	redis?.disconnect();
}

import { resolve } from 'node:path';

/** Settings read from the environment once at start; see the README's configuration table. */
export interface Config {
	port: number;
	host: string;
	origin: string | undefined;
	dataDir: string;
	/** PostgreSQL instead of SQLite: `postgres://user@host:5432/db`. */
	databaseUrl: string | undefined;
	/** Redis Streams for the bus instead of the in-process one: `redis://host:6379` or `rediss://…`. */
	redisUrl: string | undefined;
	/** Prefix of every Redis key this instance uses. */
	redisPrefix: string;
	logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
	/** Seed a demo user and rooms into an empty database. */
	demoData: boolean;
	/** Events kept per bus topic for replay: at most this many… */
	busRetentionCount: number;
	/** …and none older than this (ms). */
	busRetentionAgeMs: number;
	/** Interval of SSE `:` heartbeats (ms). */
	sseHeartbeatMs: number;
	/** Open SSE streams one user may hold at once. */
	sseMaxStreamsPerUser: number;
	/** Events queued for one SSE client before it is disconnected to resume later. */
	sseMaxQueue: number;
	/** Largest file one upload may declare (bytes). */
	maxUploadBytes: number;
	/** Unfinished uploads untouched this long (ms) are removed. */
	uploadStaleMs: number;
	/** Demo analytics events generated on first start (0: none)… */
	analyticsSeedEvents: number;
	/** …spread over this many days up to the first start. */
	analyticsSeedDays: number;
	/** New chat messages one user may send per window… */
	chatRateMessages: number;
	/** …of this many ms. */
	chatRateWindowMs: number;
	/** Jobs one instance runs at once; the rest wait in the queue. */
	jobConcurrency: number;
	/** A pause after each page a job writes (ms): 0 in production; tests use it to catch a job mid-run. */
	jobPageDelayMs: number;
}

/** A bad environment value: the message names the variable and what it accepts. */
export class ConfigError extends Error {
	override name = 'ConfigError';
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

type Env = Record<string, string | undefined>;

function integer(env: Env, name: string, fallback: number, min: number, max: number): number {
	const raw = env[name]?.trim();
	if (raw === undefined || raw === '') return fallback;
	if (!/^\d+$/.test(raw) || Number(raw) < min || Number(raw) > max) {
		throw new ConfigError(`${name} must be a whole number from ${min} to ${max}, got "${raw}"`);
	}
	return Number(raw);
}

function oneOf<T extends string>(env: Env, name: string, allowed: readonly T[], fallback: T): T {
	const raw = env[name]?.trim().toLowerCase();
	if (raw === undefined || raw === '') return fallback;
	if (!(allowed as readonly string[]).includes(raw)) {
		throw new ConfigError(`${name} must be one of ${allowed.join(', ')}, got "${raw}"`);
	}
	return raw as T;
}

function boolean(env: Env, name: string, fallback: boolean): boolean {
	const raw = env[name]?.trim().toLowerCase();
	if (raw === undefined || raw === '') return fallback;
	if (['1', 'true', 'yes', 'on'].includes(raw)) return true;
	if (['0', 'false', 'no', 'off'].includes(raw)) return false;
	throw new ConfigError(`${name} must be true or false, got "${raw}"`);
}

function databaseUrl(env: Env): string | undefined {
	const raw = env.DATABASE_URL?.trim();
	if (!raw) return undefined;
	let url: URL;
	try {
		url = new URL(raw);
	} catch {
		throw new ConfigError(`DATABASE_URL must be a URL such as postgres://user@localhost:5432/runnel, got "${raw.replace(/:[^:@/]*@/, ':***@')}"`);
	}
	if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:') {
		throw new ConfigError(`DATABASE_URL must be a postgres:// URL (SQLite needs no setting: leave it out), got "${url.protocol}"`);
	}
	return raw;
}

function redisUrl(env: Env): string | undefined {
	const raw = env.REDIS_URL?.trim();
	if (!raw) return undefined;
	const shown = raw.replace(/:[^:@/]*@/, ':***@');
	let url: URL;
	try {
		url = new URL(raw);
	} catch {
		throw new ConfigError(`REDIS_URL must be a URL such as redis://localhost:6379, got "${shown}"`);
	}
	if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') {
		throw new ConfigError(`REDIS_URL must be a redis:// or rediss:// URL (the in-process bus needs no setting: leave it out), got "${url.protocol}"`);
	}
	if (!url.hostname) throw new ConfigError(`REDIS_URL must name a host, got "${shown}"`);
	return raw;
}

function redisPrefix(env: Env): string {
	const raw = env.REDIS_PREFIX?.trim();
	if (raw === undefined || raw === '') return 'runnel:';
	if (raw.length > 100 || /[\s*?[\]\\]/.test(raw)) {
		throw new ConfigError(`REDIS_PREFIX must be up to 100 characters without spaces or * ? [ ] \\, got "${raw}"`);
	}
	return raw;
}

function origin(env: Env): string | undefined {
	const raw = env.ORIGIN?.trim();
	if (!raw) return undefined;
	let url: URL;
	try {
		url = new URL(raw);
	} catch {
		throw new ConfigError(`ORIGIN must be a URL such as https://runnel.example.com, got "${raw}"`);
	}
	if ((url.protocol !== 'http:' && url.protocol !== 'https:') || url.pathname !== '/' || url.search) {
		throw new ConfigError(`ORIGIN must be http(s)://host[:port] with no path, got "${raw}"`);
	}
	return url.origin;
}

/**
 * Reads and validates the configuration.
 * @example const config = loadConfig(process.env);
 */
export function loadConfig(env: Env = process.env): Config {
	const host = env.HOST?.trim() || '0.0.0.0';
	if (/\s|\//.test(host)) throw new ConfigError(`HOST must be a host name or address, got "${host}"`);
	return {
		port: integer(env, 'PORT', 3000, 0, 65535),
		host,
		origin: origin(env),
		dataDir: resolve(env.DATA_DIR?.trim() || './data'),
		databaseUrl: databaseUrl(env),
		redisUrl: redisUrl(env),
		redisPrefix: redisPrefix(env),
		logLevel: oneOf(env, 'LOG_LEVEL', LOG_LEVELS, 'info'),
		demoData: boolean(env, 'DEMO_DATA', true),
		busRetentionCount: integer(env, 'BUS_RETENTION_COUNT', 1000, 1, 10_000_000),
		busRetentionAgeMs: integer(env, 'BUS_RETENTION_HOURS', 168, 1, 24 * 365) * 3600_000,
		sseHeartbeatMs: integer(env, 'SSE_HEARTBEAT_SECONDS', 15, 1, 3600) * 1000,
		sseMaxStreamsPerUser: integer(env, 'SSE_MAX_STREAMS_PER_USER', 10, 1, 1000),
		sseMaxQueue: integer(env, 'SSE_MAX_QUEUE', 1000, 1, 1_000_000),
		maxUploadBytes: integer(env, 'MAX_UPLOAD_BYTES', 2 * 1024 ** 3, 1, Number.MAX_SAFE_INTEGER),
		uploadStaleMs: integer(env, 'UPLOAD_STALE_HOURS', 24, 1, 24 * 365) * 3600_000,
		analyticsSeedEvents: integer(env, 'ANALYTICS_SEED_EVENTS', 1_000_000, 0, 50_000_000),
		analyticsSeedDays: integer(env, 'ANALYTICS_SEED_DAYS', 90, 1, 3650),
		chatRateMessages: integer(env, 'CHAT_RATE_MESSAGES', 10, 1, 1_000_000),
		chatRateWindowMs: integer(env, 'CHAT_RATE_SECONDS', 5, 1, 3600) * 1000,
		jobConcurrency: integer(env, 'JOB_CONCURRENCY', 1, 1, 64),
		jobPageDelayMs: integer(env, 'JOB_PAGE_DELAY_MS', 0, 0, 60_000)
	};
}

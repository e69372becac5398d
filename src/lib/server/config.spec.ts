import { describe, expect, it } from 'vitest';
import { resolve } from 'node:path';
import { ConfigError, loadConfig } from './config';

describe('loadConfig', () => {
	it('uses defaults for an empty environment', () => {
		const config = loadConfig({});
		expect(config).toMatchObject({ redisUrl: undefined, redisPrefix: 'runnel:', port: 3000, host: '0.0.0.0', origin: undefined, logLevel: 'info', demoData: true, jobConcurrency: 1, jobPageDelayMs: 0 });
		expect(config.dataDir).toBe(resolve('./data'));
	});

	it('reads every variable', () => {
		const config = loadConfig({
			PORT: '8080',
			HOST: '127.0.0.1',
			ORIGIN: 'https://runnel.example.com/',
			DATA_DIR: '/tmp/runnel-x',
			LOG_LEVEL: 'DEBUG',
			DEMO_DATA: 'false',
			ANALYTICS_SEED_EVENTS: '5000',
			JOB_CONCURRENCY: '3',
			JOB_PAGE_DELAY_MS: '250',
			REDIS_URL: 'rediss://:secret@redis.example.com:6380/2',
			REDIS_PREFIX: 'app1:'
		});
		expect(config).toEqual({
			port: 8080,
			host: '127.0.0.1',
			origin: 'https://runnel.example.com',
			dataDir: '/tmp/runnel-x',
			redisUrl: 'rediss://:secret@redis.example.com:6380/2',
			redisPrefix: 'app1:',
			logLevel: 'debug',
			demoData: false,
			busRetentionCount: 1000,
			busRetentionAgeMs: 168 * 3600_000,
			sseHeartbeatMs: 15_000,
			sseMaxStreamsPerUser: 10,
			sseMaxQueue: 1000,
			maxUploadBytes: 2 * 1024 ** 3,
			uploadStaleMs: 24 * 3600_000,
			analyticsSeedEvents: 5000,
			analyticsSeedDays: 90,
			chatRateMessages: 10,
			chatRateWindowMs: 5000,
			jobConcurrency: 3,
			jobPageDelayMs: 250
		});
	});

	it.each([
		[{ PORT: 'abc' }, /PORT must be a whole number from 0 to 65535, got "abc"/],
		[{ PORT: '70000' }, /PORT must be a whole number/],
		[{ PORT: '-1' }, /PORT must be a whole number/],
		[{ LOG_LEVEL: 'loud' }, /LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent/],
		[{ ORIGIN: 'not a url' }, /ORIGIN must be a URL/],
		[{ ORIGIN: 'ftp://x' }, /ORIGIN must be http\(s\)/],
		[{ ORIGIN: 'https://x.example/app' }, /no path/],
		[{ DEMO_DATA: 'maybe' }, /DEMO_DATA must be true or false/],
		[{ HOST: 'a b' }, /HOST must be/],
		[{ ANALYTICS_SEED_EVENTS: '1e6' }, /ANALYTICS_SEED_EVENTS must be a whole number from 0 to 50000000/],
		[{ CHAT_RATE_MESSAGES: '0' }, /CHAT_RATE_MESSAGES must be a whole number from 1/],
		[{ JOB_CONCURRENCY: '0' }, /JOB_CONCURRENCY must be a whole number from 1 to 64, got "0"/],
		[{ JOB_CONCURRENCY: 'two' }, /JOB_CONCURRENCY must be a whole number from 1 to 64/],
		[{ REDIS_URL: 'localhost:6379' }, /REDIS_URL must be a redis:\/\/ or rediss:\/\/ URL/],
		[{ REDIS_URL: 'http://localhost:6379' }, /REDIS_URL must be a redis:\/\/ or rediss:\/\/ URL .*got "http:"/],
		[{ REDIS_URL: 'redis://:pw@ bad' }, /REDIS_URL must be a URL such as redis:\/\/localhost:6379, got "redis:\/\/:\*\*\*@ bad"/],
		[{ REDIS_PREFIX: 'a*b' }, /REDIS_PREFIX must be up to 100 characters without spaces/],
		[{ JOB_PAGE_DELAY_MS: '-5' }, /JOB_PAGE_DELAY_MS must be a whole number from 0 to 60000/]
	])('refuses %o with a clear message', (env, message) => {
		expect(() => loadConfig(env)).toThrow(ConfigError);
		expect(() => loadConfig(env)).toThrow(message);
	});
});

import { describe, expect, it } from 'vitest';
import { resolve } from 'node:path';
import { ConfigError, loadConfig } from './config';

describe('loadConfig', () => {
	it('uses defaults for an empty environment', () => {
		const config = loadConfig({});
		expect(config).toMatchObject({ port: 3000, host: '0.0.0.0', origin: undefined, logLevel: 'info', demoData: true });
		expect(config.dataDir).toBe(resolve('./data'));
	});

	it('reads every variable', () => {
		const config = loadConfig({
			PORT: '8080',
			HOST: '127.0.0.1',
			ORIGIN: 'https://runnel.example.com/',
			DATA_DIR: '/tmp/runnel-x',
			LOG_LEVEL: 'DEBUG',
			DEMO_DATA: 'false'
		});
		expect(config).toEqual({
			port: 8080,
			host: '127.0.0.1',
			origin: 'https://runnel.example.com',
			dataDir: '/tmp/runnel-x',
			logLevel: 'debug',
			demoData: false,
			busRetentionCount: 1000,
			busRetentionAgeMs: 168 * 3600_000,
			sseHeartbeatMs: 15_000,
			sseMaxStreamsPerUser: 10,
			sseMaxQueue: 1000,
			maxUploadBytes: 2 * 1024 ** 3,
			uploadStaleMs: 24 * 3600_000
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
		[{ HOST: 'a b' }, /HOST must be/]
	])('refuses %o with a clear message', (env, message) => {
		expect(() => loadConfig(env)).toThrow(ConfigError);
		expect(() => loadConfig(env)).toThrow(message);
	});
});

// One way to open a Redis connection for the app: named (CLIENT LIST shows whose it is), RESP2,
// retried with a capped backoff, and an outage logged once when it starts and once when it ends.
import { Redis, type RedisOptions } from 'ioredis';
import type { Logger } from './log';

const retry = (times: number) => Math.min(100 * times, 2000);

/**
 * Opens a connection that logs a lost link once (`warn`) and its return once (`info`); `quiet()`
 * says whether to stay silent (the owner is closing). Its duplicates log the same way.
 * @example const redis = redisConnection(url, 'runnel-bus:cmd', { log, options: { maxRetriesPerRequest: 2 } });
 */
export function redisConnection(
	url: string,
	name: string,
	{ log, options = {}, quiet = () => false }: { log?: Logger; options?: RedisOptions; quiet?: () => boolean }
): Redis {
	// RESP2: replies keep their classic shapes (XREAD as [key, entries] pairs).
	const connection = new Redis(url, { connectionName: name, retryStrategy: retry, protocol: 2, ...options });
	watch(connection, name, log, quiet);
	const duplicate = connection.duplicate.bind(connection);
	let copies = 0;
	connection.duplicate = (override?: Partial<RedisOptions>) => {
		const copyName = `${name}:${++copies}`;
		const copy = duplicate({ connectionName: copyName, ...override });
		watch(copy, copyName, log, quiet);
		return copy;
	};
	return connection;
}

function watch(connection: Redis, name: string, log: Logger | undefined, quiet: () => boolean): void {
	let down = false;
	const lost = (err?: unknown) => {
		if (!down && !quiet()) log?.warn({ err }, `redis connection ${name} lost: reconnecting`);
		down = true;
	};
	connection.on('error', lost);
	connection.on('reconnecting', () => lost());
	connection.on('ready', () => {
		if (down && !quiet()) log?.info(`redis connection ${name} is back`);
		down = false;
	});
}

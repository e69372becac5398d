import type { Config } from '../config';
import type { Store } from '../db';
import type { Logger } from '../log';
import { LocalBus } from './local';
import { RedisBus } from './redis';
import type { Bus } from './types';

export * from './types';
export { LocalBus, type LocalBusOptions } from './local';
export { RedisBus, type RedisBusOptions } from './redis';

/**
 * Picks the bus backend: Redis Streams when `config.redisUrl` is set, else in-process over the store.
 * @example const bus = createBus({ store, config, log }); const id = await bus.publish('user:1', { type: 'hi', data: {} });
 */
export function createBus({
	store,
	config,
	log
}: {
	store: Store;
	config: Pick<Config, 'busRetentionCount' | 'busRetentionAgeMs'> & Partial<Pick<Config, 'redisUrl' | 'redisPrefix'>>;
	log?: Logger;
}): Bus {
	if (config.redisUrl) {
		return new RedisBus({
			url: config.redisUrl,
			prefix: config.redisPrefix ?? 'runnel:',
			retentionCount: config.busRetentionCount,
			retentionAgeMs: config.busRetentionAgeMs,
			log: log?.child({ module: 'bus' })
		});
	}
	return new LocalBus({
		db: store.db,
		retentionCount: config.busRetentionCount,
		retentionAgeMs: config.busRetentionAgeMs,
		log: log?.child({ module: 'bus' })
	});
}

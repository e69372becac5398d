import type { Config } from '../config';
import type { Store } from '../db';
import type { Logger } from '../log';
import { LocalBus } from './local';
import type { Bus } from './types';

export * from './types';
export { LocalBus, type LocalBusOptions } from './local';

/**
 * Picks the bus backend: in-process over the store (Redis Streams will come behind this same call).
 * @example const bus = createBus({ store, config, log }); const id = await bus.publish('user:1', { type: 'hi', data: {} });
 */
export function createBus({
	store,
	config,
	log
}: {
	store: Store;
	config: Pick<Config, 'busRetentionCount' | 'busRetentionAgeMs'>;
	log?: Logger;
}): Bus {
	return new LocalBus({
		db: store.db,
		retentionCount: config.busRetentionCount,
		retentionAgeMs: config.busRetentionAgeMs,
		log: log?.child({ module: 'bus' })
	});
}

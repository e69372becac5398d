import pino from 'pino';
import type { Config } from './config';

export type Logger = pino.Logger;

/** The app's pino logger at the configured level. */
export function createLogger(config: Pick<Config, 'logLevel'>): Logger {
	return pino({ name: 'runnel', level: config.logLevel });
}

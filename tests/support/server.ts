import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { testDatabase, type TestDatabase } from '../../src/lib/server/testing/database';

/** A production Runnel server started for one test on a fresh DATA_DIR and a free port. */
export interface AppServer {
	url: string;
	port: number;
	dataDir: string;
	/** The PostgreSQL database the server uses (E2E_STORE=postgres); undefined on SQLite (runnel.db in dataDir). */
	databaseUrl?: string;
	process: ChildProcess;
	/** Everything the server printed so far. */
	output(): string;
	/** Sends a signal and resolves with the exit code (or the signal name). */
	stop(signal?: NodeJS.Signals): Promise<number | string | null>;
}

const ENTRY = join(process.cwd(), 'build', 'server.js');

/** Servers still running: a test that fails (or a worker that exits) before stop() must not leave one behind. */
const running = new Set<ChildProcess>();
process.once('exit', () => {
	for (const child of running) child.kill('SIGKILL');
});

/** What this run's databases and key prefixes start with: `e2e_<E2E_RUN_ID>` (see playwright.config.ts). */
export const runName = () => `e2e_${process.env.E2E_RUN_ID ?? 'run'}`;

/**
 * In cluster mode (E2E_STORE=postgres with TEST_DATABASE_URL, and TEST_REDIS_URL) each DATA_DIR
 * gets a fresh database and Redis key prefix of its own, kept for a restart on the same DATA_DIR;
 * tests/support/teardown.ts drops what a test left.
 */
const databases = new Map<string, Promise<TestDatabase>>();
function databaseFor(dataDir: string): Promise<TestDatabase> | undefined {
	if (process.env.E2E_STORE !== 'postgres') return undefined;
	let database = databases.get(dataDir);
	if (!database) databases.set(dataDir, (database = testDatabase(runName())));
	return database;
}

/** One PostgreSQL database and Redis prefix for several servers (a cluster); the caller makes and drops them. */
export interface SharedStore {
	databaseUrl: string;
	redisUrl: string;
	redisPrefix: string;
}

/**
 * Starts `node build/server.js` with PORT=0 and waits for its "listening" line. With `shared`, the
 * server uses that database and Redis prefix instead of any of its own.
 * @example const app = await startServer(); await fetch(app.url); await app.stop();
 */
export async function startServer(options: { dataDir?: string; env?: Record<string, string>; shared?: SharedStore } = {}): Promise<AppServer> {
	const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'runnel-e2e-'));
	const { shared } = options;
	const database = shared
		? { env: { DATABASE_URL: shared.databaseUrl, REDIS_URL: shared.redisUrl, REDIS_PREFIX: shared.redisPrefix }, drop: async () => {} }
		: await databaseFor(dataDir);
	const env: NodeJS.ProcessEnv = {
		...process.env,
		PORT: '0',
		HOST: '127.0.0.1',
		DATA_DIR: dataDir,
		LOG_LEVEL: 'info',
		ANALYTICS_SEED_EVENTS: '20000',
		ANALYTICS_SEED_DAYS: '7',
		...database?.env,
		...options.env
	};
	const child = spawn(process.execPath, [ENTRY], {
		env,
		stdio: ['ignore', 'pipe', 'pipe']
	});
	running.add(child);
	child.once('exit', () => running.delete(child));
	let output = '';
	child.stdout!.on('data', (chunk) => (output += chunk));
	child.stderr!.on('data', (chunk) => (output += chunk));
	const exited = new Promise<number | string | null>((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal)));

	const port = await new Promise<number>((resolve, reject) => {
		const timer = setTimeout(() => reject(new Error(`server did not start in 20 s:\n${output}`)), 20_000);
		const onData = () => {
			const match = /"port":(\d+)[^\n]*Runnel is listening/.exec(output);
			if (match) {
				clearTimeout(timer);
				resolve(Number(match[1]));
			}
		};
		child.stdout!.on('data', onData);
		void exited.then((code) => {
			clearTimeout(timer);
			reject(new Error(`server exited (${code}) before listening:\n${output}`));
		});
	});

	return {
		url: `http://127.0.0.1:${port}`,
		port,
		dataDir,
		databaseUrl: env.DATABASE_URL?.trim() || undefined,
		process: child,
		output: () => output,
		async stop(signal = 'SIGTERM') {
			if (child.exitCode === null && child.signalCode === null) child.kill(signal);
			const code = await exited;
			if (!options.dataDir) {
				rmSync(dataDir, { recursive: true, force: true });
				databases.delete(dataDir);
				await database?.drop();
			}
			return code;
		}
	};
}

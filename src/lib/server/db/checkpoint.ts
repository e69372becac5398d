import { stat } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import type SQLite from 'better-sqlite3';

/** How often the WAL is looked at (its file's size until the worker runs, then its frames). */
const CHECK_MS = 1000;
/** The WAL size at which the worker starts: SQLite's own default threshold (1,000 pages of 4 KiB). */
const START_BYTES = 4 * 1024 * 1024;
/**
 * Frames not yet in the database file at which the worker checkpoints (about 16 MiB). Each
 * checkpoint fsyncs the WAL and the database file, and on this machine an fsync held up the app's
 * own WAL writes for milliseconds: fewer, larger checkpoints. A busy chat's commits rewrite the same
 * few pages, so a larger checkpoint copies hardly more.
 */
const CHECKPOINT_FRAMES = 4000;

/**
 * The worker: its own connection to the file. Per message it looks at the WAL (NOOP) and, past
 * `minFrames` not yet copied, runs a PASSIVE checkpoint (which never blocks the app's writer).
 */
const WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
// The lowest CPU priority for this thread alone (Linux: setpriority on its thread id): a checkpoint
// runs when the app's thread leaves the core free, instead of taking it from under a busy chat.
try {
	const tid = Number(require('node:fs').readlinkSync('/proc/thread-self').split('/').pop());
	if (tid > 0) require('node:os').setPriority(tid, 19);
} catch {}
const SQLite = require(workerData.driver);
const db = new SQLite(workerData.file);
db.pragma('synchronous = NORMAL');
db.pragma('busy_timeout = 5000');
parentPort.on('message', ({ minFrames }) => {
	try {
		const [wal] = db.pragma('wal_checkpoint(NOOP)');
		if (wal.log - wal.checkpointed < minFrames) return parentPort.postMessage({ ok: true, ran: false, log: wal.log, checkpointed: wal.checkpointed });
		const [result] = db.pragma('wal_checkpoint(PASSIVE)');
		parentPort.postMessage({ ok: true, ran: true, log: result.log, checkpointed: result.checkpointed });
	} catch (error) {
		parentPort.postMessage({ ok: false, error: String(error && error.message || error) });
	}
});
`;

/** What the checkpointer did, for tests and metrics. */
export interface CheckpointStats {
	/** Checkpoints the worker ran. */
	runs: number;
	/** WAL frames and how many of them are in the database file, as the worker last looked. */
	log: number;
	checkpointed: number;
}

/**
 * Moves SQLite's WAL checkpoints off the event loop. With automatic checkpoints the commit that
 * crosses 1,000 pages copies them all into the database file and fsyncs it, in the turn of whoever
 * wrote (a chat message waited 6 ms for it). Here the app's connection never checkpoints; once the
 * WAL passes 4 MiB, a worker thread with its own connection, at the lowest CPU priority, looks at
 * the WAL every second and runs a PASSIVE checkpoint once CHECKPOINT_FRAMES wait, which copies
 * what no reader needs while the app goes on writing. If the worker cannot start or fails, the
 * connection's automatic checkpoints come back.
 * @example const checkpoints = new Checkpointer(sqlite, file, log); … await checkpoints.close();
 */
export class Checkpointer {
	readonly stats: CheckpointStats = { runs: 0, log: 0, checkpointed: 0 };
	#sqlite: SQLite.Database;
	#file: string;
	#warn: (error: unknown, message: string) => void;
	#timer: ReturnType<typeof setInterval>;
	#worker: Worker | null = null;
	#minFrames: number;
	#busy = false;
	#stopped = false;

	constructor(
		sqlite: SQLite.Database,
		file: string,
		warn: (error: unknown, message: string) => void = () => {},
		options: { startBytes?: number; everyMs?: number; minFrames?: number } = {}
	) {
		this.#sqlite = sqlite;
		this.#file = file;
		this.#warn = warn;
		this.#minFrames = options.minFrames ?? CHECKPOINT_FRAMES;
		sqlite.pragma('wal_autocheckpoint = 0');
		const startBytes = options.startBytes ?? START_BYTES;
		this.#timer = setInterval(() => void this.#tick(startBytes), options.everyMs ?? CHECK_MS);
		this.#timer.unref();
	}

	/** Stops checking and ends the worker (closing the connection afterwards checkpoints what is left). */
	async close(): Promise<void> {
		this.#stopped = true;
		clearInterval(this.#timer);
		const worker = this.#worker;
		this.#worker = null;
		if (worker) await worker.terminate();
	}

	async #tick(startBytes: number): Promise<void> {
		if (this.#busy || this.#stopped) return;
		this.#busy = true;
		try {
			if (!this.#worker) {
				const size = await stat(`${this.#file}-wal`).then((s) => s.size, () => 0);
				if (size < startBytes || this.#stopped) return;
				this.#worker = this.#start();
			}
			await this.#checkpoint(this.#worker);
		} catch (error) {
			this.#fallBack(error);
		} finally {
			this.#busy = false;
		}
	}

	#start(): Worker {
		const driver = createRequire(import.meta.url).resolve('better-sqlite3');
		const worker = new Worker(WORKER, { eval: true, workerData: { driver, file: this.#file } });
		worker.unref();
		worker.on('error', (error) => this.#fallBack(error));
		return worker;
	}

	#checkpoint(worker: Worker): Promise<void> {
		return new Promise((resolve, reject) => {
			const done = (reply: { ok: boolean; ran?: boolean; log?: number; checkpointed?: number; error?: string }) => {
				worker.off('exit', gone);
				if (!reply.ok) return reject(new Error(reply.error));
				if (reply.ran) this.stats.runs++;
				this.stats.log = reply.log ?? 0;
				this.stats.checkpointed = reply.checkpointed ?? 0;
				resolve();
			};
			const gone = () => {
				worker.off('message', done);
				// Ended by close(): nothing to report.
				if (this.#stopped) resolve();
				else reject(new Error('the checkpoint worker exited'));
			};
			worker.once('message', done);
			worker.once('exit', gone);
			worker.postMessage({ minFrames: this.#minFrames });
		});
	}

	/** The worker failed: back to SQLite's automatic checkpoints on the app's connection. */
	#fallBack(error: unknown): void {
		if (this.#stopped) return;
		this.#stopped = true;
		clearInterval(this.#timer);
		this.#warn(error, 'sqlite: the checkpoint worker failed; checkpoints run on the main thread again');
		void this.#worker?.terminate();
		this.#worker = null;
		try {
			this.#sqlite.pragma('wal_autocheckpoint = 1000');
		} catch {
			// The connection closed meanwhile.
		}
	}
}

import { closeSync, constants, fstatSync, openSync, read, type Stats } from 'node:fs';

// Never through a symlink (ELOOP), and never block on a FIFO or a device put where a file should be.
const OPEN_FLAGS = constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK;

/** Closes the descriptor of an OpenFile that was dropped without close() (a body nobody read). */
const dropped = new FinalizationRegistry<number>((fd) => {
	try {
		closeSync(fd);
	} catch {
		// already closed
	}
});

/**
 * A stored file opened for reading. Open, fstat and close are synchronous: on a local file they
 * take microseconds, less than a hop to the thread pool and back, which on a busy server costs
 * two context switches each. Reads go to the thread pool (they may wait for the disk). close()
 * waits for a read in flight, so the descriptor is never reused under it.
 */
export class OpenFile {
	readonly stats: Stats;
	#fd: number;
	#reads = 0;
	#closing = false;

	private constructor(fd: number, stats: Stats) {
		this.#fd = fd;
		this.stats = stats;
		dropped.register(this, fd, this);
	}

	/**
	 * Opens `path` without following a symlink; null when there is no such file (or a symlink, or
	 * a path through a non-folder). Other errors are thrown.
	 * @example const opened = OpenFile.open('/data/files/abc'); if (opened?.stats.isFile()) ...
	 */
	static open(path: string): OpenFile | null {
		let fd: number;
		try {
			fd = openSync(path, OPEN_FLAGS);
		} catch (error) {
			if (['ENOENT', 'ELOOP', 'ENOTDIR'].includes((error as NodeJS.ErrnoException).code ?? '')) return null;
			throw error;
		}
		try {
			return new OpenFile(fd, fstatSync(fd));
		} catch (error) {
			closeSync(fd);
			throw error;
		}
	}

	/** True once close() was called. */
	get closed(): boolean {
		return this.#closing;
	}

	/** Reads up to `length` bytes at `position` into `buffer`; resolves with how many were read. */
	read(buffer: Buffer, length: number, position: number): Promise<number> {
		if (this.#closing) return Promise.reject(new Error('The file was closed.'));
		this.#reads++;
		return new Promise((resolve, reject) => {
			read(this.#fd, buffer, 0, length, position, (error, bytesRead) => {
				if (--this.#reads === 0 && this.#closing) this.#release();
				if (error) reject(error);
				else resolve(bytesRead);
			});
		});
	}

	/** Closes the file now, or after the read in flight (idempotent). */
	close(): void {
		if (this.#closing) return;
		this.#closing = true;
		if (this.#reads === 0) this.#release();
	}

	#release(): void {
		dropped.unregister(this);
		closeSync(this.#fd);
	}
}

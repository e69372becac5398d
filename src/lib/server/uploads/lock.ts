// Held in this process only: one instance serves an upload (sticky sessions when there are several).
const held = new Set<string>();

/**
 * Takes the write lock of one upload, so two chunks never write it at once.
 * @returns the release function, or null when another request holds the lock.
 * @example const release = tryLock(id); if (!release) throw new HttpError(423, '…'); try { … } finally { release(); }
 */
export function tryLock(id: string): (() => void) | null {
	if (held.has(id)) return null;
	held.add(id);
	let released = false;
	return () => {
		if (!released) held.delete(id);
		released = true;
	};
}

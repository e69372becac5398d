/**
 * Reconnect delay with exponential backoff and full jitter: uniform in [0, min(cap, base * 2^attempt)].
 * A base above the cap (a server asking for a long `retry:`) raises the cap to the base.
 * @example backoffDelay(0, 1000) // somewhere in 0..1000 ms
 */
export function backoffDelay(attempt: number, base: number, cap = 30_000, random = Math.random): number {
	const ceiling = Math.min(Math.max(cap, base), base * 2 ** attempt);
	return Math.round(random() * ceiling);
}

/**
 * Waits `ms` before a retry; rejects with the signal's reason as soon as it aborts.
 * @example await waitToRetry(backoffDelay(attempt, 500), signal);
 */
export function waitToRetry(ms: number, signal?: AbortSignal): Promise<void> {
	return new Promise((resolve, reject) => {
		if (signal?.aborted) return reject(signal.reason);
		const aborted = () => (clearTimeout(timer), reject(signal!.reason));
		const timer = setTimeout(() => (signal?.removeEventListener('abort', aborted), resolve()), ms);
		signal?.addEventListener('abort', aborted, { once: true });
	});
}

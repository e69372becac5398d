/** Counts hits per key in a sliding window: in this process, or shared by every instance through Redis. */
export interface RateLimiter {
	/** Hits allowed per key in the window. */
	readonly limit: number;
	/** The window (ms). */
	readonly windowMs: number;
	/** Milliseconds until `key` may try again, or 0 when it is under the limit. */
	retryAfter(key: string): Promise<number>;
	/** Records one hit for `key`, over the limit or not. */
	hit(key: string): Promise<void>;
	/** Records a hit only when `key` is under the limit, in one step: 0 when counted, else the wait (ms). */
	take(key: string): Promise<number>;
	/** take() synchronously: only a limiter that counts in this process alone has it. */
	takeNow?(key: string): number;
	/**
	 * Counts a try of `key` up front when it is under the limit, in one step, so parallel tries
	 * can't all pass a check before any is counted: `wait` is 0 when counted, else the wait (ms);
	 * `release()` takes that one try back (it succeeded, or another limit refused it).
	 */
	attempt(key: string): Promise<Attempt>;
	/** Forgets `key`, as after a successful sign-in. */
	reset(key: string): Promise<void>;
}

/** A try counted (or refused) by RateLimiter.attempt(). */
export interface Attempt {
	/** 0 when the try was counted, else milliseconds until `key` may try again. */
	wait: number;
	/** Takes the counted try back (a no-op when it was refused or already released). */
	release(): Promise<void>;
}

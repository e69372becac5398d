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
	/** Forgets `key`, as after a successful sign-in. */
	reset(key: string): Promise<void>;
}

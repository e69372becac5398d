import { describe, expect, it } from 'vitest';
import { RateLimiter } from './rate-limit';

describe('RateLimiter', () => {
	it('allows up to the limit in the window, then says how long to wait', () => {
		let now = 1_000;
		const limiter = new RateLimiter(3, 10_000, () => now);
		for (let i = 0; i < 3; i++) {
			expect(limiter.retryAfter('k')).toBe(0);
			limiter.hit('k');
			now += 1_000;
		}
		expect(limiter.retryAfter('k')).toBe(1_000 + 10_000 - now);
		expect(limiter.retryAfter('other')).toBe(0);
		now = 11_001;
		expect(limiter.retryAfter('k')).toBe(0);
	});

	it('forgets a key on reset', () => {
		const limiter = new RateLimiter(1, 60_000);
		limiter.hit('k');
		expect(limiter.retryAfter('k')).toBeGreaterThan(0);
		limiter.reset('k');
		expect(limiter.retryAfter('k')).toBe(0);
	});
});

import { describe, expect, it } from 'vitest';
import { LocalRateLimiter } from './local';

describe('LocalRateLimiter', () => {
	it('allows up to the limit in the window, then says how long to wait', async () => {
		let now = 1_000;
		const limiter = new LocalRateLimiter(3, 10_000, () => now);
		for (let i = 0; i < 3; i++) {
			expect(await limiter.retryAfter('k')).toBe(0);
			await limiter.hit('k');
			now += 1_000;
		}
		expect(await limiter.retryAfter('k')).toBe(1_000 + 10_000 - now);
		expect(await limiter.retryAfter('other')).toBe(0);
		now = 11_001;
		expect(await limiter.retryAfter('k')).toBe(0);
	});

	it('takes a hit only under the limit', async () => {
		let now = 0;
		const limiter = new LocalRateLimiter(2, 1_000, () => now);
		expect(await limiter.take('k')).toBe(0);
		now = 100;
		expect(await limiter.take('k')).toBe(0);
		expect(await limiter.take('k')).toBe(900);
		now = 1_001;
		expect(await limiter.take('k')).toBe(0);
		expect(await limiter.take('k')).toBe(99);
	});

	it('counts an attempt up front, and its release takes back that one try, once', async () => {
		let now = 0;
		const limiter = new LocalRateLimiter(2, 1_000, () => now);
		const first = await limiter.attempt('k');
		now = 10;
		const second = await limiter.attempt('k');
		expect([first.wait, second.wait]).toEqual([0, 0]);
		const refused = await limiter.attempt('k');
		expect(refused.wait).toBe(990);
		await refused.release();
		expect(await limiter.retryAfter('k')).toBe(990);
		await second.release();
		await second.release();
		expect(await limiter.retryAfter('k')).toBe(0);
		expect((await limiter.attempt('k')).wait).toBe(0);
		expect(await limiter.retryAfter('k')).toBe(990); // full again: the first try (at 0) and this one
	});

	it('forgets a key on reset', async () => {
		const limiter = new LocalRateLimiter(1, 60_000);
		await limiter.hit('k');
		expect(await limiter.retryAfter('k')).toBeGreaterThan(0);
		await limiter.reset('k');
		expect(await limiter.retryAfter('k')).toBe(0);
	});
});

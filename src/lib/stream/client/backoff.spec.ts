import { describe, expect, it } from 'vitest';
import { backoffDelay } from './backoff';

describe('backoffDelay', () => {
	it('doubles from the base up to the cap, scaled by the jitter', () => {
		const max = () => 1;
		expect([0, 1, 2, 3, 10].map((attempt) => backoffDelay(attempt, 1000, 30_000, max))).toEqual([1000, 2000, 4000, 8000, 30_000]);
		expect(backoffDelay(3, 1000, 30_000, () => 0.5)).toBe(4000);
		expect(backoffDelay(3, 1000, 30_000, () => 0)).toBe(0);
	});

	it('lets a server retry: longer than the cap raise the cap', () => {
		expect(backoffDelay(5, 60_000, 30_000, () => 1)).toBe(60_000);
	});
});

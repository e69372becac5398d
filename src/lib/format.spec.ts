import { describe, expect, it } from 'vitest';
import { formatBytes, formatDuration, timeAgo } from './format';

describe('format', () => {
	it('formats byte counts', () => {
		expect(formatBytes(0)).toBe('0 B');
		expect(formatBytes(1536)).toBe('1.5 KB');
		expect(formatBytes(13 * 1024 * 1024)).toBe('13 MB');
		expect(formatBytes(3 * 1024 ** 3)).toBe('3.0 GB');
	});
	it('formats durations', () => {
		expect(formatDuration(8.4)).toBe('8 s');
		expect(formatDuration(75)).toBe('1 min 15 s');
		expect(formatDuration(3900)).toBe('1 h 5 min');
	});
	it('says how long ago', () => {
		expect(timeAgo(1000, 1000)).toBe('just now');
		expect(timeAgo(0, 120_000)).toBe('2 minutes ago');
	});
});

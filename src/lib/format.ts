const UNITS: [Intl.RelativeTimeFormatUnit, number][] = [
	['year', 365 * 86400_000],
	['month', 30 * 86400_000],
	['week', 7 * 86400_000],
	['day', 86400_000],
	['hour', 3600_000],
	['minute', 60_000]
];
const relative = new Intl.RelativeTimeFormat('en', { numeric: 'auto' });

/**
 * "just now", "5 minutes ago", "yesterday"…
 * @example timeAgo(Date.now() - 120_000) // "2 minutes ago"
 */
export function timeAgo(time: number, now = Date.now()): string {
	const elapsed = now - time;
	for (const [unit, ms] of UNITS) {
		if (Math.abs(elapsed) >= ms) return relative.format(-Math.round(elapsed / ms), unit);
	}
	return 'just now';
}

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

const SIZE_UNITS = ['B', 'KB', 'MB', 'GB', 'TB'];

/**
 * A byte count for people: "0 B", "12.4 MB".
 * @example formatBytes(1536) // "1.5 KB"
 */
export function formatBytes(bytes: number): string {
	let value = bytes;
	let unit = 0;
	while (value >= 1024 && unit < SIZE_UNITS.length - 1) {
		value /= 1024;
		unit++;
	}
	return `${unit === 0 ? value : value.toFixed(value < 10 ? 1 : 0)} ${SIZE_UNITS[unit]}`;
}

/**
 * A duration in seconds for people: "8 s", "3 min", "1 h 5 min".
 * @example formatDuration(75) // "1 min 15 s"
 */
export function formatDuration(seconds: number): string {
	const s = Math.max(0, Math.round(seconds));
	if (s < 60) return `${s} s`;
	if (s < 3600) return `${Math.floor(s / 60)} min${s % 60 ? ` ${s % 60} s` : ''}`;
	return `${Math.floor(s / 3600)} h${Math.floor((s % 3600) / 60) ? ` ${Math.floor((s % 3600) / 60)} min` : ''}`;
}

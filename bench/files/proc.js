// Reading a server's memory and CPU from /proc, the same way for node and for nginx (master + workers).
import { readFileSync } from 'node:fs';

/** USER_HZ of /proc/<pid>/stat and /proc/stat: 100 on every Linux we run on. */
const TICKS_PER_SECOND = 100;

/** The process and its direct children (nginx's workers), by pid. */
export function processTree(pid) {
	try {
		const children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
		return [pid, ...children];
	} catch {
		return [pid];
	}
}

/** Resident memory of the process and its children, in bytes (VmRSS); 0 when /proc cannot tell. */
export function rssOf(pid) {
	let total = 0;
	for (const one of processTree(pid)) {
		try {
			const match = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${one}/status`, 'utf8'));
			if (match) total += Number(match[1]) * 1024;
		} catch {
			// gone meanwhile
		}
	}
	return total;
}

/** CPU time (ms) the process and its children have used so far. */
export function cpuMsOf(pid) {
	let ticks = 0;
	for (const one of processTree(pid)) {
		try {
			const stat = readFileSync(`/proc/${one}/stat`, 'utf8');
			const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
			ticks += Number(fields[11]) + Number(fields[12]); // utime, stime
		} catch {
			// gone meanwhile
		}
	}
	return (ticks * 1000) / TICKS_PER_SECOND;
}

/** CPU time (ms) the whole machine has spent busy so far, from /proc/stat; NaN elsewhere. */
export function machineBusyMs() {
	try {
		const [user, nice, system, , , irq, softirq, steal] = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
		return ((user + nice + system + irq + softirq + steal) * 1000) / TICKS_PER_SECOND;
	} catch {
		return NaN;
	}
}

/**
 * Samples the RSS of `pid` every `everyMs` until `stop()`, which returns the highest reading.
 * @example const peak = sampleRss(pid); await work(); const highest = peak.stop();
 */
export function sampleRss(pid, everyMs = 20) {
	let highest = rssOf(pid);
	const timer = setInterval(() => (highest = Math.max(highest, rssOf(pid))), everyMs);
	return {
		stop() {
			clearInterval(timer);
			return Math.max(highest, rssOf(pid));
		}
	};
}

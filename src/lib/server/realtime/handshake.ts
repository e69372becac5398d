/** Reads one cookie's value from a Cookie header: URI-decoded, quotes dropped; undefined when absent or malformed (the socket handshake, and downloads in node-level.ts). */
export function readCookie(header: string | undefined, name: string): string | undefined {
	if (!header) return undefined;
	for (const part of header.split(';')) {
		const eq = part.indexOf('=');
		if (eq > 0 && part.slice(0, eq).trim() === name) {
			let value = part.slice(eq + 1).trim();
			// Quotes dropped, as SvelteKit's cookies.get() does (hooks.server.ts reads the same cookie).
			if (value.length > 1 && value.startsWith('"') && value.endsWith('"')) value = value.slice(1, -1);
			try {
				return decodeURIComponent(value);
			} catch {
				return undefined;
			}
		}
	}
	return undefined;
}

/**
 * True when a handshake's Origin may connect: no Origin (a script, or a same-origin browser GET),
 * the configured ORIGIN, or, without ORIGIN, the same host the request came to.
 */
export function allowedOrigin(origin: string | undefined, host: string | undefined, configured: string | undefined): boolean {
	if (origin === undefined) return true;
	let url: URL;
	try {
		url = new URL(origin);
	} catch {
		return false;
	}
	if (configured) return url.origin === configured;
	return url.host === host && (url.protocol === 'http:' || url.protocol === 'https:');
}

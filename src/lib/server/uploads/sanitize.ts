/** Longest stored display name, in bytes of UTF-8. */
export const MAX_NAME_BYTES = 200;

// C0, DEL, C1; bidi embeddings/overrides/isolates and the invisible direction marks.
const INVISIBLE = /[\u0000-\u001f\u007f-\u009f\u200e\u200f\u061c\u202a-\u202e\u2066-\u2069]/g;
const RESERVED = /^(con|prn|aux|nul|com[1-9]|lpt[1-9])$/i;
const MAX_EXTENSION_BYTES = 32;

const bytes = (text: string) => Buffer.byteLength(text, 'utf8');

/** Drops whole code points from the end of `text` until it fits in `max` bytes of UTF-8. */
function truncate(text: string, max: number): string {
	const points = Array.from(text);
	while (points.length > 0 && bytes(points.join('')) > max) points.pop();
	return points.join('');
}

/**
 * A file name that is safe to show and to offer back in a download: no control or bidi
 * characters, no path, no leading dots, no Windows device names, at most 200 bytes (the extension
 * is kept). Metadata only: stored files always get generated names.
 * @example sanitizeName('../../etc/passwd') // 'passwd'
 */
export function sanitizeName(name: string): string {
	let clean = name.normalize('NFC').replace(INVISIBLE, '');
	clean = clean.split(/[/\\]/).pop() ?? '';
	clean = clean.trim().replace(/^\.+/, '').replace(/[. ]+$/, '').trim();
	if (!clean) return 'file';
	if (RESERVED.test(clean.split('.')[0].trim())) clean = `_${clean}`;
	if (bytes(clean) <= MAX_NAME_BYTES) return clean;
	const dot = clean.lastIndexOf('.');
	const extension = dot > 0 && bytes(clean.slice(dot)) <= MAX_EXTENSION_BYTES ? clean.slice(dot) : '';
	const stem = truncate(clean.slice(0, clean.length - extension.length), MAX_NAME_BYTES - bytes(extension));
	return (stem.replace(/[. ]+$/, '') || 'file') + extension;
}

import { encodeExtended, format } from 'content-disposition';

/** What `file()` needs to know about a stored file; the caller resolved it, never from user input. */
export interface FileSource {
	/** Absolute path on disk. */
	path: string;
	/** Size in bytes, as recorded when the file was stored. */
	size: number;
	/** SHA-256 of the whole file, hex. */
	sha256: string;
	/** When the stored file last changed; default: the modification time of the file as opened. */
	modified?: Date;
	/** Original file name, offered to the browser in Content-Disposition. */
	name: string;
	/** Stored content type; default application/octet-stream. */
	type?: string;
}

const OCTET_STREAM = 'application/octet-stream';
// Types a browser would render as a document of our origin; served as bytes instead.
const ACTIVE_TYPES = new Set(['text/html', 'image/svg+xml', 'application/xhtml+xml', 'text/xml', 'application/xml']);
// Control characters, bidi overrides and isolates (a U+202E can disguise `exe.txt` as `txt.exe`), path separators.
// eslint-disable-next-line no-control-regex
const UNSAFE_NAME = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069/\\]/g;

/**
 * The content type to send: the stored one, unless a browser could render it as an active document.
 * @example safeContentType('image/svg+xml; charset=utf-8') // 'application/octet-stream'
 */
export function safeContentType(type: string | undefined): string {
	const essence = (type ?? '').split(';')[0].trim().toLowerCase();
	if (!essence || !/^[\w.+-]+\/[\w.+-]+$/.test(essence) || ACTIVE_TYPES.has(essence)) return OCTET_STREAM;
	return (type as string).trim();
}

/**
 * A strong ETag from the file's SHA-256 (hex); throws on a value that is not 64 hex digits.
 * @example etagOf('AB…') // '"ab…"'
 */
export function etagOf(sha256: string): string {
	if (!/^[0-9a-f]{64}$/i.test(sha256)) throw new TypeError(`Not a SHA-256 hex digest: ${sha256}`);
	return `"${sha256.toLowerCase()}"`;
}

/**
 * The RFC 9530 `Repr-Digest` value for a SHA-256 given in hex.
 * @example reprDigestOf(sha256Hex) // 'sha-256=:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=:'
 */
export function reprDigestOf(sha256: string): string {
	return `sha-256=:${Buffer.from(sha256, 'hex').toString('base64')}:`;
}

/**
 * An RFC 6266 `attachment` disposition: the name (minus control and bidi characters) as `filename*`,
 * and an ASCII `filename` fallback with accents dropped and anything risky replaced by `_`.
 * @example dispositionOf('résumé.pdf') // `attachment; filename=resume.pdf; filename*=UTF-8''r%C3%A9sum%C3%A9.pdf`
 */
export function dispositionOf(name: string): string {
	const clean = name.replace(UNSAFE_NAME, '_').trim() || 'download';
	const ascii = clean
		.normalize('NFKD')
		.replace(/[\u0300-\u036f]/g, '')
		.replace(/[^\x20-\x7e]|["%\\]/g, '_');
	return format({ type: 'attachment', parameters: { filename: ascii, 'filename*': encodeExtended(clean) } });
}

/** Headers every answer about the file carries: validators, digest and the download safety set. */
export function representationHeaders(source: FileSource & { modified: Date }): Record<string, string> {
	return {
		'accept-ranges': 'bytes',
		etag: etagOf(source.sha256),
		'last-modified': source.modified.toUTCString(),
		'repr-digest': reprDigestOf(source.sha256),
		'content-disposition': dispositionOf(source.name),
		'x-content-type-options': 'nosniff',
		'cache-control': 'private, no-cache',
		'content-security-policy': 'sandbox'
	};
}

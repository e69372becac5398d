import parseRange from 'range-parser';

/** An inclusive byte range of the file. */
export interface ByteRange {
	start: number;
	end: number;
}

/** What to send for a GET: the whole file, some ranges of it, or 416. */
export type RangeSelection = { kind: 'whole' } | { kind: 'ranges'; ranges: ByteRange[] } | { kind: 'unsatisfiable' };

/** More ranges than this (after combining) get the whole file: a cheap guard against many-tiny-range abuse. */
export const MAX_RANGES = 16;

/** Where request headers are read from: a web `Headers`, or the node request's (see fileAnswer()). */
export interface HeaderSource {
	get(name: string): string | null;
}

/** The validators of the file being served. */
export interface Validators {
	etag: string;
	lastModified: string;
}

/** The entity tags listed in an If-None-Match / If-Range value, with any weak `W/` prefix removed. */
function tagsOf(value: string): string[] {
	return (value.match(/(?:W\/)?"[^"]*"|\*/g) ?? []).map((tag) => tag.replace(/^W\//, ''));
}

/**
 * Whether a GET/HEAD may answer 304: If-None-Match (weak comparison) when present, else If-Modified-Since.
 * @example isNotModified(request.headers, { etag: '"ab…"', lastModified }) // true for If-None-Match: W/"ab…"
 */
export function isNotModified(headers: HeaderSource, { etag, lastModified }: Validators): boolean {
	const noneMatch = headers.get('if-none-match');
	if (noneMatch !== null) return tagsOf(noneMatch).some((tag) => tag === '*' || tag === etag);
	const since = Date.parse(headers.get('if-modified-since') ?? '');
	return !Number.isNaN(since) && Date.parse(lastModified) <= since;
}

/**
 * RFC 9110 §13.1.5: an If-Range entity tag must match strongly; a date must equal Last-Modified
 * exactly (as sent, an IMF-fixdate), and only counts once Last-Modified is a strong validator
 * (at least a second old). No If-Range always holds.
 */
export function ifRangeHolds(headers: HeaderSource, { etag, lastModified }: Validators, now = Date.now()): boolean {
	const value = headers.get('if-range')?.trim();
	if (value === undefined) return true;
	if (value.startsWith('"') || value.startsWith('W/')) return value === etag;
	return value === lastModified && now - Date.parse(lastModified) >= 1000;
}

/**
 * Chooses the ranges a GET answers, per RFC 9110 §14.2: an invalid or non-`bytes` Range is ignored
 * (whole file); overlapping and adjacent ranges are combined; none satisfiable gives 416.
 * @example selectRanges(request.headers, 100, validators) // { kind: 'ranges', ranges: [{ start: 0, end: 0 }] } for bytes=0-0
 */
export function selectRanges(headers: HeaderSource, size: number, validators: Validators): RangeSelection {
	const header = headers.get('range');
	if (header === null || !ifRangeHolds(headers, validators)) return { kind: 'whole' };
	const unit = header.slice(0, Math.max(header.indexOf('='), 0)).trim().toLowerCase();
	const specs = unit === 'bytes' ? rangeSpecs(header, size) : null;
	if (!specs) return { kind: 'whole' }; // invalid or another unit: ignored, not 416
	const parsed = parseRange(size, `bytes=${specs.join(',')}`, { combine: true });
	if (parsed === -2) return { kind: 'whole' }; // malformed
	if (parsed === -1) return { kind: 'unsatisfiable' }; // valid, but no range overlaps the file
	if (parsed.length > MAX_RANGES) return { kind: 'whole' };
	return { kind: 'ranges', ranges: parsed.map(({ start, end }) => ({ start, end })) };
}

/**
 * The range specs, or null when one is invalid (range-parser would skip `5-2`, making it 416);
 * a suffix longer than the file becomes the whole file (range-parser would skip it too).
 */
function rangeSpecs(header: string, size: number): string[] | null {
	const specs: string[] = [];
	for (const spec of header.slice(header.indexOf('=') + 1).split(',')) {
		const match = /^\s*(\d*)-(\d*)\s*$/.exec(spec);
		if (!match || (match[1] === '' && match[2] === '')) return null;
		const [, first, last] = match;
		if (first !== '' && last !== '' && Number(first) > Number(last)) return null;
		specs.push(first === '' && Number(last) > size ? `-${size}` : `${first}-${last}`);
	}
	return specs;
}

/** A piece of a message as the page renders it: plain text, a safe link, or an @mention. */
export type TextPart = { kind: 'text'; text: string } | { kind: 'link'; text: string; href: string } | { kind: 'mention'; text: string; me: boolean };

const URL_CANDIDATE = /\bhttps?:\/\/[^\s<>"'`]+/gi;
const MENTION = /(?<![\p{L}\p{N}_.@-])@[\p{L}\p{N}_.-]{3,32}/gu;

/** Drops trailing punctuation that ends a sentence rather than the URL (a ")" only when unbalanced). */
function trimUrl(candidate: string): string {
	let url = candidate.replace(/[.,;:!?'"\]}]+$/, '');
	while (url.endsWith(')') && (url.match(/\(/g)?.length ?? 0) < (url.match(/\)/g)?.length ?? 0)) url = url.slice(0, -1).replace(/[.,;:!?]+$/, '');
	return url;
}

/** The link target when `text` is an http(s) URL the browser parses; null otherwise. */
function safeHref(text: string): string | null {
	try {
		const url = new URL(text);
		return url.protocol === 'http:' || url.protocol === 'https:' ? url.href : null;
	} catch {
		return null;
	}
}

function mentions(text: string, me: string | null): TextPart[] {
	const parts: TextPart[] = [];
	let at = 0;
	for (const match of text.matchAll(MENTION)) {
		if (match.index > at) parts.push({ kind: 'text', text: text.slice(at, match.index) });
		const name = match[0].slice(1).replace(/[.-]+$/, '');
		const mention = match[0].slice(0, name.length + 1);
		parts.push({ kind: 'mention', text: mention, me: me !== null && name.toLowerCase() === me.toLowerCase() });
		if (mention.length < match[0].length) parts.push({ kind: 'text', text: match[0].slice(mention.length) });
		at = match.index + match[0].length;
	}
	if (at < text.length) parts.push({ kind: 'text', text: text.slice(at) });
	return parts;
}

/**
 * Splits a message into text, http(s) links and @mentions, for rendering as text nodes and
 * `<a>` elements (never as HTML): anything that is not an http(s) URL stays text.
 * @example splitText('see https://x.dev, @ana', 'ana')
 */
export function splitText(text: string, me: string | null = null): TextPart[] {
	const parts: TextPart[] = [];
	let at = 0;
	for (const match of text.matchAll(URL_CANDIDATE)) {
		const url = trimUrl(match[0]);
		const href = safeHref(url);
		if (!href) continue;
		if (match.index > at) parts.push(...mentions(text.slice(at, match.index), me));
		parts.push({ kind: 'link', text: url, href });
		at = match.index + url.length;
	}
	if (at < text.length) parts.push(...mentions(text.slice(at), me));
	return parts;
}

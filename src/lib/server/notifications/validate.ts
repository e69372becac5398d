import { NOTIFICATION_BODY_MAX, NOTIFICATION_TITLE_MAX } from '$lib/shared/notifications';
import { HttpError } from '../errors';

/** Checks a notification's title, body and optional link (a same-site path); 400 with the reason. */
export function content(input: { title: unknown; body: unknown; link?: unknown }): { title: string; body: string; link: string | null } {
	const { title, body, link } = input;
	if (typeof title !== 'string' || title.trim() === '') throw new HttpError(400, 'A notification needs a title.');
	if (title.length > NOTIFICATION_TITLE_MAX) throw new HttpError(400, `The title must be at most ${NOTIFICATION_TITLE_MAX} characters.`);
	if (typeof body !== 'string') throw new HttpError(400, 'The body must be text.');
	if (body.length > NOTIFICATION_BODY_MAX) throw new HttpError(400, `The body must be at most ${NOTIFICATION_BODY_MAX} characters.`);
	if (link !== undefined && link !== null && (typeof link !== 'string' || !/^\/(?![/\\])[^\s]{0,500}$/.test(link))) {
		throw new HttpError(400, 'The link must be a path on this site, such as /files.');
	}
	return { title: title.trim(), body, link: typeof link === 'string' ? link : null };
}

/** Checks a list of notification ids. */
export function ids(value: unknown): number[] {
	if (!Array.isArray(value) || value.length > 500 || !value.every((id) => Number.isSafeInteger(id) && id > 0)) {
		throw new HttpError(400, 'Send "ids" as a list of at most 500 notification ids, or {"all": true}.');
	}
	return value as number[];
}

/** Parses the `types` filter of the stream: a comma-separated list of event names. */
export function types(value: string | null): ReadonlySet<string> | undefined {
	if (!value) return undefined;
	const list = value.split(',').map((t) => t.trim()).filter(Boolean);
	const known = ['notification', 'read', 'unread'];
	const unknown = list.filter((t) => !known.includes(t));
	if (unknown.length) throw new HttpError(400, `Unknown event type "${unknown[0]}"; use ${known.join(', ')}.`);
	return new Set([...list, 'reset']);
}

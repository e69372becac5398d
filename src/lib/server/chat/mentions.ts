import type { ChatMessage } from '$lib/shared/chat';
import * as notifications from '../notifications';
import { runtime } from '../runtime';

const MENTION = /(?<![\p{L}\p{N}_.@-])@([\p{L}\p{N}_.-]{3,32})/gu;
const MAX_MENTIONS = 10;
const BODY_MAX = 300;

/**
 * The lower-cased names @mentioned in a text (a trailing "." or "-" also tried without), at most 10.
 * @example mentionedNames('hi @Ana.') // ['ana.', 'ana']
 */
export function mentionedNames(text: string): string[] {
	const names = new Set<string>();
	for (const [, name] of text.matchAll(MENTION)) {
		const key = name.normalize('NFC').toLowerCase();
		names.add(key);
		const trimmed = key.replace(/[.-]+$/, '');
		if (trimmed.length >= 3) names.add(trimmed);
		if (names.size >= MAX_MENTIONS * 2) break;
	}
	return [...names];
}

/** Sends each member of the message's room @mentioned in it (not its author) a notification. */
export async function notifyMentions(message: ChatMessage): Promise<number> {
	const names = mentionedNames(message.text);
	if (names.length === 0 || !message.author) return 0;
	const { db } = runtime().store;
	const users = await db
		.selectFrom('users as u')
		.innerJoin('room_members as m', 'm.user_id', 'u.id')
		.select('u.id')
		.where('m.room_id', '=', message.roomId)
		.where('u.name_key', 'in', names)
		.where('u.id', '!=', message.author.id)
		.limit(MAX_MENTIONS)
		.execute();
	if (users.length === 0) return 0;
	const room = await db.selectFrom('rooms').select(['id', 'name']).where('id', '=', message.roomId).executeTakeFirstOrThrow();
	const body = message.text.length > BODY_MAX ? `${message.text.slice(0, BODY_MAX - 1)}…` : message.text;
	for (const { id } of users) {
		await notifications.send(id, {
			type: 'mention',
			title: `${message.author.name} mentioned you in #${room.name}`,
			body,
			link: `/chat?room=${room.id}`
		});
	}
	return users.length;
}

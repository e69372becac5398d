import { HISTORY_MAX, HISTORY_PAGE, MESSAGE_MAX, ROOM_NAME_MAX, ROOM_TOPIC_MAX } from '$lib/shared/chat';
import { ChatError } from './errors';

const CLIENT_ID = /^[A-Za-z0-9_-]{1,64}$/;
const ROOM_NAME = /^[\p{L}\p{N}](?:[\p{L}\p{N} _.-]*[\p{L}\p{N}_.-])?$/u;

/**
 * Reads the known fields of a payload into a fresh plain object. Anything but a plain object, and
 * any other key (`__proto__` and `constructor` included), is refused with a sentence naming the shape.
 * @example const { roomId } = fields(input, ['roomId'], '{ roomId }');
 */
export function fields<K extends string>(input: unknown, allowed: readonly K[], shape: string): Partial<Record<K, unknown>> {
	if (typeof input !== 'object' || input === null || Array.isArray(input)) throw new ChatError(`Send an object: ${shape}.`);
	const proto = Object.getPrototypeOf(input);
	if (proto !== Object.prototype && proto !== null) throw new ChatError(`Send a plain object: ${shape}.`);
	const out: Partial<Record<K, unknown>> = Object.create(null);
	for (const key of Object.keys(input)) {
		if (!(allowed as readonly string[]).includes(key)) throw new ChatError(`Unknown field "${key.slice(0, 40)}": send ${shape}.`);
		out[key as K] = (input as Record<string, unknown>)[key];
	}
	return out;
}

/** A room id: a positive whole number (a room's name or anything else is refused). */
export function roomId(value: unknown): number {
	if (!Number.isSafeInteger(value) || (value as number) < 1) throw new ChatError('roomId must be a room id (a whole number).');
	return value as number;
}

/** A message id (0 and up), named in the error. */
export function messageId(value: unknown, name: string): number {
	if (!Number.isSafeInteger(value) || (value as number) < 0) throw new ChatError(`${name} must be a message id (a whole number).`);
	return value as number;
}

/** The client's id for a message: 1–64 letters, digits, "-" or "_" (a UUID fits). */
export function clientId(value: unknown): string {
	if (typeof value !== 'string' || !CLIENT_ID.test(value)) throw new ChatError('clientId must be 1–64 letters, digits, "-" or "_".');
	return value;
}

/** A message's text: not blank, at most MESSAGE_MAX characters; kept as typed. */
export function text(value: unknown): string {
	if (typeof value !== 'string') throw new ChatError('text must be a string.');
	if (value.trim() === '') throw new ChatError('The message is empty.');
	if (value.length > MESSAGE_MAX) throw new ChatError(`The message is too long: ${value.length} characters, at most ${MESSAGE_MAX}.`);
	return value;
}

/** A room name: 1–40 letters, digits, spaces, "_", "-" or "." (no ":", so never like an internal channel). */
export function roomName(value: unknown): string {
	if (typeof value !== 'string' || value.trim() === '') throw new ChatError('Give the room a name.');
	const name = value.trim().normalize('NFC');
	if (name.length > ROOM_NAME_MAX) throw new ChatError(`A room name can be at most ${ROOM_NAME_MAX} characters.`);
	if (!ROOM_NAME.test(name)) throw new ChatError('A room name may use letters, digits, spaces, "_", "-" and "." only.');
	return name;
}

/** A room topic: optional text of at most ROOM_TOPIC_MAX characters. */
export function topic(value: unknown): string {
	if (value === undefined) return '';
	if (typeof value !== 'string') throw new ChatError('topic must be a string.');
	if (value.length > ROOM_TOPIC_MAX) throw new ChatError(`A topic can be at most ${ROOM_TOPIC_MAX} characters.`);
	return value.trim();
}

/** An optional true/false field. */
export function flag(value: unknown, name: string): boolean {
	if (value === undefined) return false;
	if (typeof value !== 'boolean') throw new ChatError(`${name} must be true or false.`);
	return value;
}

/** A page size: 1 to HISTORY_MAX, HISTORY_PAGE when absent. */
export function limit(value: unknown): number {
	if (value === undefined) return HISTORY_PAGE;
	if (!Number.isSafeInteger(value) || (value as number) < 1 || (value as number) > HISTORY_MAX) {
		throw new ChatError(`limit must be a whole number from 1 to ${HISTORY_MAX}.`);
	}
	return value as number;
}

/** A user name to invite (looked up case-insensitively). */
export function userName(value: unknown): string {
	if (typeof value !== 'string' || value.trim() === '' || value.length > 64) throw new ChatError('Give the name of the person to invite.');
	return value.trim().replace(/^@/, '');
}

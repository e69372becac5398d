import { HttpError } from '../errors';

export const NAME_MIN = 3;
export const NAME_MAX = 32;
export const PASSWORD_MIN = 8;
export const PASSWORD_MAX = 128;

/** Checks a user name: 3–32 letters, digits, `_`, `-` or `.`, so it can be @mentioned. */
export function name(value: unknown): string {
	if (typeof value !== 'string' || value.trim() === '') throw new HttpError(400, 'Enter a user name.');
	const trimmed = value.trim().normalize('NFC');
	if ([...trimmed].length < NAME_MIN) throw new HttpError(400, `The user name must be at least ${NAME_MIN} characters.`);
	if ([...trimmed].length > NAME_MAX) throw new HttpError(400, `The user name must be at most ${NAME_MAX} characters.`);
	if (!/^[\p{L}\p{N}_.-]+$/u.test(trimmed)) {
		throw new HttpError(400, 'The user name may use letters, digits, "_", "-" and "." only.');
	}
	return trimmed;
}

/** Checks a password: 8–128 characters. */
export function password(value: unknown): string {
	if (typeof value !== 'string' || value === '') throw new HttpError(400, 'Enter a password.');
	if ([...value].length < PASSWORD_MIN) throw new HttpError(400, `The password must be at least ${PASSWORD_MIN} characters.`);
	if ([...value].length > PASSWORD_MAX) throw new HttpError(400, `The password must be at most ${PASSWORD_MAX} characters.`);
	return value;
}

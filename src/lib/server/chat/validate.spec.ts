import { describe, expect, it } from 'vitest';
import { ChatError } from './errors';
import { mentionedNames } from './mentions';
import * as validate from './validate';

const refusal = (run: () => unknown) => {
	try {
		run();
	} catch (error) {
		expect(error).toBeInstanceOf(ChatError);
		return (error as Error).message;
	}
	throw new Error('expected a ChatError');
};

describe('fields', () => {
	it('copies the known own fields into an object without a prototype', () => {
		const out = validate.fields({ roomId: 1, text: 'x' }, ['roomId', 'text', 'clientId'], '{…}');
		expect(Object.getPrototypeOf(out)).toBeNull();
		expect({ ...out }).toEqual({ roomId: 1, text: 'x' });
	});

	it('refuses __proto__, constructor and any other key, arrays, null and class instances', () => {
		const poisoned = JSON.parse('{"roomId":1,"__proto__":{"admin":true}}');
		expect(refusal(() => validate.fields(poisoned, ['roomId'], '{ roomId }'))).toBe('Unknown field "__proto__": send { roomId }.');
		expect(refusal(() => validate.fields({ constructor: 1 }, ['roomId'], '{ roomId }'))).toMatch(/Unknown field "constructor"/);
		expect(refusal(() => validate.fields([1], ['roomId'], '{ roomId }'))).toBe('Send an object: { roomId }.');
		expect(refusal(() => validate.fields(null, ['roomId'], '{ roomId }'))).toBe('Send an object: { roomId }.');
		expect(refusal(() => validate.fields(new Date(), ['roomId'], '{ roomId }'))).toBe('Send a plain object: { roomId }.');
	});

	it('never reads a field through a prototype', () => {
		expect(refusal(() => validate.fields(Object.create({ roomId: 5 }), ['roomId'], '{ roomId }'))).toBe('Send a plain object: { roomId }.');
		expect(validate.fields(Object.create(null), ['roomId'], '{ roomId }').roomId).toBeUndefined();
	});
});

describe('values', () => {
	it('takes room ids as positive whole numbers only', () => {
		expect(validate.roomId(3)).toBe(3);
		for (const bad of ['3', 0, -1, 1.5, 'Z2tqNzE5Q0Y3YW1pAAAB', null, {}]) expect(refusal(() => validate.roomId(bad))).toMatch(/roomId must be a room id/);
	});

	it('takes texts up to 4000 characters, not blank', () => {
		expect(validate.text(' hi ')).toBe(' hi ');
		expect(validate.text('x'.repeat(4000))).toHaveLength(4000);
		expect(refusal(() => validate.text('   \n'))).toBe('The message is empty.');
		expect(refusal(() => validate.text('x'.repeat(4001)))).toBe('The message is too long: 4001 characters, at most 4000.');
		expect(refusal(() => validate.text(42))).toBe('text must be a string.');
	});

	it('takes room names without ":" (never like user:… or session:…)', () => {
		expect(validate.roomName('  Team 7.a ')).toBe('Team 7.a');
		expect(validate.roomName('Z2tqNzE5Q0Y3YW1pAAAB')).toBe('Z2tqNzE5Q0Y3YW1pAAAB');
		for (const bad of ['user:1', 'session:abc', 'room:2', '#x', ' ', 'a'.repeat(41), '-x']) expect(() => validate.roomName(bad)).toThrow(ChatError);
	});

	it('checks client ids, limits and flags', () => {
		expect(validate.clientId('1b4e28ba-2fa1-11d2-883f-0016d3cca427')).toMatch(/^1b4e/);
		expect(() => validate.clientId('a b')).toThrow(/clientId/);
		expect(() => validate.clientId('x'.repeat(65))).toThrow(/clientId/);
		expect(validate.limit(undefined)).toBe(50);
		expect(() => validate.limit(201)).toThrow(/from 1 to 200/);
		expect(validate.flag(undefined, 'isPrivate')).toBe(false);
		expect(() => validate.flag('yes', 'isPrivate')).toThrow('isPrivate must be true or false.');
	});
});

describe('mentionedNames', () => {
	it('finds @names at word starts, lower-cased, with a trailing dot tried without', () => {
		expect(mentionedNames('hi @Ana. and @bo_b, not mail@x.org or @@z or @ab')).toEqual(['ana.', 'ana', 'bo_b']);
	});
});

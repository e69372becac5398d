import { describe, expect, it } from 'vitest';
import { hash, verify } from './password';

describe('password hashing', () => {
	it('verifies the right password and refuses a wrong one', async () => {
		const stored = await hash('correct horse battery');
		expect(stored).toMatch(/^scrypt\$16384\$8\$1\$[\w+/=]+\$[\w+/=]+$/);
		expect(await verify('correct horse battery', stored)).toBe(true);
		expect(await verify('correct horse batterY', stored)).toBe(false);
		expect(await verify('', stored)).toBe(false);
	});

	it('salts every hash', async () => {
		expect(await hash('same')).not.toBe(await hash('same'));
	});

	it('treats Unicode forms of one password alike', async () => {
		const stored = await hash('caf\u00e9-pass');
		expect(await verify('cafe\u0301-pass', stored)).toBe(true);
	});

	it('refuses a malformed stored hash instead of throwing', async () => {
		expect(await verify('x', 'plain-text')).toBe(false);
		expect(await verify('x', 'scrypt$1$2$3')).toBe(false);
	});
});

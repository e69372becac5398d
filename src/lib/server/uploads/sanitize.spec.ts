import { describe, expect, it } from 'vitest';
import { MAX_NAME_BYTES, sanitizeName } from './sanitize';

describe('sanitizeName', () => {
	it.each([
		['report.pdf', 'report.pdf'],
		['../../etc/passwd', 'passwd'],
		['C:\\Users\\ana\\secret.txt', 'secret.txt'],
		['a/b\\c/d.txt', 'd.txt'],
		['dir/', 'file'],
		['', 'file'],
		['...', 'file'],
		['   ', 'file'],
		['.bashrc', 'bashrc'],
		['..hidden.tar.gz', 'hidden.tar.gz'],
		['name. . .', 'name'],
		['trailing.txt.  ', 'trailing.txt'],
		['evil\u202Egnp.exe', 'evilgnp.exe'],
		['iso\u2066late\u2069d.txt', 'isolated.txt'],
		['mark\u200F.txt', 'mark.txt'],
		['nul\u0000byte.txt', 'nulbyte.txt'],
		['line\r\nbreak.txt', 'linebreak.txt'],
		['tab\there.txt', 'tabhere.txt'],
		['c1\u0085\u009b.txt', 'c1.txt'],
		['del\u007f.txt', 'del.txt'],
		['CON', '_CON'],
		['con.txt', '_con.txt'],
		['Aux.tar.gz', '_Aux.tar.gz'],
		['COM1', '_COM1'],
		['lpt9.log', '_lpt9.log'],
		['COM10.txt', 'COM10.txt'],
		['console.txt', 'console.txt'],
		['dir/nul', '_nul'],
		['e\u0301te\u0301.txt', 'été.txt'],
		['日本語のファイル.txt', '日本語のファイル.txt']
	])('%j -> %j', (input, expected) => {
		expect(sanitizeName(input)).toBe(expected);
	});

	it('caps the name at 200 bytes of UTF-8 and keeps the extension', () => {
		const long = sanitizeName(`${'a'.repeat(300)}.pdf`);
		expect(long).toBe(`${'a'.repeat(196)}.pdf`);
		const emoji = sanitizeName(`${'😀'.repeat(80)}.png`);
		expect(Buffer.byteLength(emoji)).toBeLessThanOrEqual(MAX_NAME_BYTES);
		expect(emoji).toBe(`${'😀'.repeat(49)}.png`);
		expect(emoji).not.toContain('\ufffd');
	});

	it('cuts a name whose "extension" is itself long without keeping it', () => {
		const name = sanitizeName(`x.${'y'.repeat(400)}`);
		expect(Buffer.byteLength(name)).toBe(MAX_NAME_BYTES);
		expect(name.startsWith('x.yyy')).toBe(true);
	});

	it('is idempotent', () => {
		for (const input of ['../CON.txt', ' .x. ', `${'é'.repeat(150)}.txt`, 'a\u202Eb']) {
			const once = sanitizeName(input);
			expect(sanitizeName(once)).toBe(once);
		}
	});
});

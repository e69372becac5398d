import { describe, expect, it } from 'vitest';
import { allowedOrigin, readCookie } from './handshake';

describe('readCookie', () => {
	it('finds a cookie among others and decodes it', () => {
		expect(readCookie('a=1; runnel_session=abc%2Bd; b=2', 'runnel_session')).toBe('abc+d');
		expect(readCookie('runnel_session="quoted"', 'runnel_session')).toBe('quoted');
	});
	it('returns undefined when absent or malformed', () => {
		expect(readCookie(undefined, 'x')).toBeUndefined();
		expect(readCookie('x_y=1', 'x')).toBeUndefined();
		expect(readCookie('xrunnel_session=no; runnel_sessionx=no', 'runnel_session')).toBeUndefined();
		expect(readCookie('x=%E0%A4%A', 'x')).toBeUndefined();
	});
});

describe('allowedOrigin', () => {
	it('allows no Origin and the same host', () => {
		expect(allowedOrigin(undefined, 'a:1', undefined)).toBe(true);
		expect(allowedOrigin('http://a:1', 'a:1', undefined)).toBe(true);
	});
	it('refuses another host, a garbage Origin and "null"', () => {
		expect(allowedOrigin('http://evil.example', 'a:1', undefined)).toBe(false);
		expect(allowedOrigin('null', 'a:1', undefined)).toBe(false);
		expect(allowedOrigin('http://a:2', 'a:1', undefined)).toBe(false);
	});
	it('holds to ORIGIN when it is set', () => {
		expect(allowedOrigin('https://app.example', 'internal:3000', 'https://app.example')).toBe(true);
		expect(allowedOrigin('http://internal:3000', 'internal:3000', 'https://app.example')).toBe(false);
	});
});

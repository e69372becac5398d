import { expect, test, uniqueName } from './support/fixtures';

test('JSON sign-up, sign-in and sign-out with clear errors', async ({ request }) => {
	const name = uniqueName('api');
	let response = await request.post('/api/auth/signup', { data: { name, password: 'password-123' } });
	expect(response.status()).toBe(201);
	expect(await response.json()).toEqual({ user: { id: expect.any(Number), name, role: 'user' } });
	const cookie = response.headers()['set-cookie'];
	expect(cookie).toMatch(/runnel_session=[\w-]{40,}; Path=\/; Expires=.+; HttpOnly; SameSite=Lax/);
	expect(cookie).not.toMatch(/Secure/);

	response = await request.post('/api/auth/signup', { data: { name: name.toUpperCase(), password: 'password-123' } });
	expect(response.status()).toBe(409);
	expect((await response.json()).error).toMatch(/is taken/);

	for (const [data, error] of [
		[{ name: '', password: 'password-123' }, 'Enter a user name.'],
		[{ name: 'okname' }, 'Enter a password.'],
		[{ name: 'x'.repeat(33), password: 'password-123' }, 'The user name must be at most 32 characters.'],
		[{ name: 'okname', password: 'p'.repeat(129) }, 'The password must be at most 128 characters.'],
		[{ name: 42, password: 'password-123' }, 'Enter a user name.']
	] as const) {
		response = await request.post('/api/auth/signup', { data });
		expect(response.status()).toBe(400);
		expect(await response.json()).toEqual({ error });
	}
	response = await request.post('/api/auth/signup', { headers: { 'content-type': 'application/json' }, data: Buffer.from('{"name":') });
	expect(response.status()).toBe(400);
	expect(await response.json()).toEqual({ error: 'The body is not valid JSON.' });

	response = await request.get('/api/whoever');
	expect(response.status()).toBe(404);

	response = await request.post('/api/auth/signout');
	expect(response.status()).toBe(200);
	response = await request.get('/api/whoever');
	expect(response.status()).toBe(401);
	expect(await response.json()).toEqual({ error: 'Sign in first.' });

	response = await request.post('/api/auth/signin', { data: { name, password: 'wrong-password' } });
	expect(response.status()).toBe(401);
	expect(await response.json()).toEqual({ error: 'Wrong user name or password.' });
	response = await request.post('/api/auth/signin', { data: { name, password: 'password-123' } });
	expect(response.status()).toBe(200);
	expect((await response.json()).user.name).toBe(name);
	expect(response.headers()['set-cookie']).toMatch(/runnel_session=/);
});

test('sign-in attempts are rate limited per address and name', async ({ request }) => {
	for (let i = 0; i < 5; i++) {
		const response = await request.post('/api/auth/signin', { data: { name: 'demo', password: `wrong-${i}-pass` } });
		expect(response.status()).toBe(401);
	}
	let response = await request.post('/api/auth/signin', { data: { name: 'demo', password: 'runnel-demo' } });
	expect(response.status()).toBe(429);
	expect(Number(response.headers()['retry-after'])).toBeGreaterThan(0);
	expect((await response.json()).error).toMatch(/Too many failed sign-ins\. Try again in \d+ minute/);

	// Another name from the same address is not locked out.
	const name = uniqueName('other');
	await request.post('/api/auth/signup', { data: { name, password: 'password-123' } });
	response = await request.post('/api/auth/signin', { data: { name, password: 'password-123' } });
	expect(response.status()).toBe(200);
});

test('pages redirect to sign-in and endpoints answer 401 without a session', async ({ request }) => {
	const page = await request.get('/dashboard', { maxRedirects: 0 });
	expect(page.status()).toBe(303);
	expect(page.headers()['location']).toBe('/signin?redirectTo=%2Fdashboard');
	const api = await request.get('/api/notifications', { maxRedirects: 0 });
	expect(api.status()).toBe(401);
	const signin = await request.get('/signin');
	expect(signin.status()).toBe(200);
	expect(signin.headers()['x-content-type-options']).toBe('nosniff');
	expect(signin.headers()['content-security-policy']).toContain("frame-ancestors 'none'");
});

import { createHash, randomBytes } from 'node:crypto';
import type { Kysely } from 'kysely';
import * as analytics from '../analytics';
import { compiledOnce } from '../db/compiled';
import type { Database } from '../db/schema';
import { runtime, type Runtime } from '../runtime';
import { HttpError } from '../errors';
import { createRateLimiter, type RateLimiter } from '../rate-limit';
import * as passwords from './password';
import * as validate from './validate';

/** The signed-in user as pages, endpoints and sockets see them. */
export interface SessionUser {
	id: number;
	name: string;
	role: 'user' | 'admin';
}

export const SESSION_COOKIE = 'runnel_session';
export const SESSION_DAYS = 30;
const DAY = 24 * 60 * 60 * 1000;

// Failed sign-ins: 5 per name from one address, 30 from one address, per 15 minutes; counted
// across instances when there is Redis (see rate-limit/). One pair per runtime.
const signInLimits = new WeakMap<Runtime, { perNameAndIp: RateLimiter; perIp: RateLimiter }>();

function limits(rt: Runtime) {
	let found = signInLimits.get(rt);
	if (!found) {
		const shared = { windowMs: 15 * 60 * 1000, redis: rt.redis, prefix: rt.config.redisPrefix, log: rt.log };
		found = {
			perNameAndIp: createRateLimiter({ ...shared, name: 'signin-name-ip', limit: 5 }),
			perIp: createRateLimiter({ ...shared, name: 'signin-ip', limit: 30 })
		};
		signInLimits.set(rt, found);
	}
	return found;
}

const tokenHash = (token: string) => createHash('sha256').update(token).digest('hex');

/** Creates an account; 400 for a bad name or password, 409 when the name is taken. */
export async function signUp(rawName: unknown, rawPassword: unknown): Promise<SessionUser> {
	const name = validate.name(rawName);
	const password = validate.password(rawPassword);
	const { db } = runtime().store;
	const taken = await db.selectFrom('users').select('id').where('name_key', '=', name.toLowerCase()).executeTakeFirst();
	if (taken) throw new HttpError(409, `The name "${name}" is taken. Choose another.`);
	const password_hash = await passwords.hash(password);
	try {
		const row = await db
			.insertInto('users')
			.values({ name, name_key: name.toLowerCase(), password_hash, role: 'user', created_at: Date.now() })
			.returning(['id', 'name', 'role'])
			.executeTakeFirstOrThrow();
		return row;
	} catch (error) {
		if (/unique/i.test(String(error))) throw new HttpError(409, `The name "${name}" is taken. Choose another.`);
		throw error;
	}
}

/**
 * Checks a name and password; 400 for empty input, 401 when wrong, 429 after too many failures.
 * A success counts as a sign-in on the analytics stream.
 */
export async function signIn(rawName: unknown, rawPassword: unknown, ip: string, userAgent?: string | null): Promise<SessionUser> {
	if (typeof rawName !== 'string' || rawName.trim() === '') throw new HttpError(400, 'Enter your user name.');
	if (typeof rawPassword !== 'string' || rawPassword === '') throw new HttpError(400, 'Enter your password.');
	if (rawName.length > 200 || rawPassword.length > 1000) throw new HttpError(401, 'Wrong user name or password.');
	const key = `${ip}\n${rawName.trim().toLowerCase()}`;
	const { perNameAndIp, perIp } = limits(runtime());
	// Each try counts before the password is checked, so parallel guesses can't all pass the limit.
	const tries = await Promise.all([perNameAndIp.attempt(key), perIp.attempt(ip)]);
	const wait = Math.max(...tries.map((t) => t.wait));
	if (wait > 0) {
		await Promise.all(tries.map((t) => t.release()));
		const seconds = Math.ceil(wait / 1000);
		throw new HttpError(429, `Too many failed sign-ins. Try again in ${Math.ceil(seconds / 60)} minute(s).`, seconds);
	}
	const user = await runtime()
		.store.db.selectFrom('users')
		.select(['id', 'name', 'role', 'password_hash'])
		.where('name_key', '=', rawName.trim().normalize('NFC').toLowerCase())
		.executeTakeFirst();
	const ok = user ? await passwords.verify(rawPassword, user.password_hash) : await passwords.hash(rawPassword).then(() => false);
	if (!user || !ok) throw new HttpError(401, 'Wrong user name or password.'); // the tries stay counted
	// A success forgets the name's failures and does not count against the address.
	await Promise.all([perNameAndIp.reset(key), tries[1].release()]);
	void analytics.track({ metric: 'signins', userId: user.id, userAgent });
	return { id: user.id, name: user.name, role: user.role };
}

/** Starts a session for a user and returns the cookie token (only its hash is stored). */
export async function createSession(userId: number): Promise<{ token: string; expires: Date }> {
	const token = randomBytes(32).toString('base64url');
	const now = Date.now();
	const expires_at = now + SESSION_DAYS * DAY;
	await runtime()
		.store.db.insertInto('sessions')
		.values({ id: tokenHash(token), user_id: userId, created_at: now, expires_at })
		.execute();
	return { token, expires: new Date(expires_at) };
}

// Every request asks this: compiled once, not built by Kysely each time.
const sessionUser = compiledOnce((db: Kysely<Database>, id: string) =>
	db
		.selectFrom('sessions')
		.innerJoin('users', 'users.id', 'sessions.user_id')
		.select(['users.id', 'users.name', 'users.role', 'sessions.expires_at'])
		.where('sessions.id', '=', id)
);

/** The user behind a session token, or null when it is unknown or expired. */
export async function authenticate(token: string | undefined): Promise<(SessionUser & { sessionId: string }) | null> {
	if (!token || token.length > 100) return null;
	const id = tokenHash(token);
	const [row] = await sessionUser(runtime().store.db, id);
	if (!row || Number(row.expires_at) < Date.now()) return null;
	return { id: row.id, name: row.name, role: row.role, sessionId: id };
}

/** Ends a session and closes the sockets that it opened. */
export async function signOut(token: string | undefined): Promise<void> {
	if (!token) return;
	const id = tokenHash(token);
	const rt = runtime();
	const [session] = await rt.store.db.deleteFrom('sessions').where('id', '=', id).returning('user_id').execute();
	if (!session || !rt.io) return;
	// Its sockets are among its user's, each knowing its session: this instance's at once, then every instance's.
	const room = `user:${session.user_id}`;
	for (const found of [rt.io.local.in(room).fetchSockets(), rt.io.in(room).fetchSockets()]) {
		void found.then((sockets) => sockets.forEach((socket) => socket.data.sessionId === id && socket.disconnect(true)), () => {});
	}
}

/** Finds a user by name (any case). */
export async function findByName(name: string): Promise<SessionUser | undefined> {
	return runtime()
		.store.db.selectFrom('users')
		.select(['id', 'name', 'role'])
		.where('name_key', '=', name.trim().toLowerCase())
		.executeTakeFirst();
}

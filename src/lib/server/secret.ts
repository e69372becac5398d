import { randomBytes } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Database } from './db';

const cache = new WeakMap<object, Promise<Buffer>>();

/**
 * The instance-wide secret kept in the store (made once, shared by every instance on that store).
 * @example const key = await instanceSecret(db);
 */
export function instanceSecret(db: Kysely<Database>): Promise<Buffer> {
	let secret = cache.get(db);
	if (!secret) {
		secret = (async () => {
			const fresh = randomBytes(32).toString('base64url');
			await db.insertInto('settings').values({ key: 'secret', value: fresh }).onConflict((oc) => oc.column('key').doNothing()).execute();
			const row = await db.selectFrom('settings').select('value').where('key', '=', 'secret').executeTakeFirstOrThrow();
			return Buffer.from(row.value, 'base64url');
		})();
		secret.catch(() => cache.delete(db));
		cache.set(db, secret);
	}
	return secret;
}

import * as passwords from './accounts/password';
import type { Runtime } from './runtime';

/** The demo account seeded into an empty database; the README prints the same pair. */
export const DEMO_USER = { name: 'demo', password: 'runnel-demo' } as const;

const DEMO_ROOMS = [
	{ name: 'general', topic: 'Everything and anything' },
	{ name: 'random', topic: 'Off-topic chatter' },
	{ name: 'releases', topic: 'What shipped and what is next' }
];

/** Seeds the demo user (an admin) and a few public rooms when the database has no users yet. */
export async function seed(rt: Runtime): Promise<void> {
	const { db } = rt.store;
	const anyone = await db.selectFrom('users').select('name').orderBy('id').limit(1).executeTakeFirst();
	if (anyone) {
		if (anyone.name === DEMO_USER.name) {
			rt.log.info(`demo user: sign in as "${DEMO_USER.name}" with password "${DEMO_USER.password}"`);
		}
		return;
	}
	const now = Date.now();
	const demo = await db
		.insertInto('users')
		.values({
			name: DEMO_USER.name,
			name_key: DEMO_USER.name,
			password_hash: await passwords.hash(DEMO_USER.password),
			role: 'admin',
			created_at: now
		})
		.returning('id')
		.executeTakeFirstOrThrow();
	for (const room of DEMO_ROOMS) {
		const { id } = await db
			.insertInto('rooms')
			.values({ ...room, is_private: 0, owner_id: demo.id, created_at: now })
			.returning('id')
			.executeTakeFirstOrThrow();
		await db.insertInto('room_members').values({ room_id: id, user_id: demo.id, joined_at: now }).execute();
	}
	rt.log.info(
		{ user: DEMO_USER.name, password: DEMO_USER.password },
		`demo data created: sign in as "${DEMO_USER.name}" with password "${DEMO_USER.password}"`
	);
}

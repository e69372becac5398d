// Fills an empty store with the demo history in the background, a day per transaction, resumable.
import type { Runtime } from '../runtime';
import { insertEvents } from './events';
import { DAY_MS, dailyCounts, eventsOfDay } from './generate';

/** Where the seeding stands; kept in `settings` so a restart resumes it. */
interface SeedState {
	/** The history ends here (the first start's time), Unix ms. */
	anchor: number;
	days: number;
	total: number;
	seed: number;
	/** Days already stored. */
	done: number;
}

const KEY = 'analytics_seed';

/** The seeding progress, 0 to 1, or null when there is none running. */
export function seedProgress(rt: Runtime): number | null {
	return rt.analyticsSeeding ?? null;
}

async function readState(rt: Runtime): Promise<SeedState | null> {
	const row = await rt.store.db.selectFrom('settings').select('value').where('key', '=', KEY).executeTakeFirst();
	return row ? (JSON.parse(row.value) as SeedState) : null;
}

/**
 * Generates the demo history when the store has none (or resumes one a restart cut short):
 * `events` events over `days` days up to now, a day per transaction, yielding to the event loop
 * between days, with progress logged. Resolves when done or when the runtime closes.
 * @example void seedAnalytics(rt, { events: 1_000_000, days: 90, seed: 42 });
 */
export async function seedAnalytics(rt: Runtime, options: { events: number; days: number; seed: number }): Promise<void> {
	const { db } = rt.store;
	let state = await readState(rt);
	if (!state) {
		const any = await db.selectFrom('analytics_events').select('id').limit(1).executeTakeFirst();
		if (any) return;
		state = { anchor: Date.now(), days: options.days, total: options.events, seed: options.seed, done: 0 };
		await db.insertInto('settings').values({ key: KEY, value: JSON.stringify(state) }).execute();
	}
	if (state.done >= state.days) return;

	const first = state.anchor - state.days * DAY_MS;
	const perDay = dailyCounts(state.total, state.days, first, state.seed);
	const started = performance.now();
	let lastLogged = -1;
	rt.log.info({ events: state.total, days: state.days, from: state.done }, 'analytics: generating the demo history in the background');
	rt.analyticsSeeding = state.done / state.days;
	try {
		for (let day = state.done; day < state.days; day++) {
			if (rt.closing.aborted) return;
			const events = eventsOfDay(first + day * DAY_MS, perDay[day], state.seed, day);
			const next: SeedState = { ...state, done: day + 1 };
			await db.transaction().execute(async (tx) => {
				await insertEvents(tx, events);
				await tx.updateTable('settings').set({ value: JSON.stringify(next) }).where('key', '=', KEY).execute();
			});
			state = next;
			rt.analyticsSeeding = state.done / state.days;
			const tenth = Math.floor(rt.analyticsSeeding * 10);
			if (tenth !== lastLogged && tenth < 10) {
				lastLogged = tenth;
				rt.log.info({ progress: `${tenth * 10}%` }, 'analytics: generating history');
			}
			// Let requests run between days.
			await new Promise((resolve) => setImmediate(resolve));
		}
		rt.log.info(
			{ events: state.total, seconds: Math.round((performance.now() - started) / 100) / 10 },
			'analytics: demo history ready'
		);
	} finally {
		rt.analyticsSeeding = null;
	}
}

// What only the in-process bus promises (ids 1..n per topic, rows in the store, trimming on
// publish); the shared contract is in bus.spec.ts.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { open, type Store } from '../db';
import { testDatabase, type TestDatabase } from '../testing/database';
import { LocalBus } from './local';
import { ReplayError } from './types';

let dir: string;
let store: Store;
let bus: LocalBus;
let database: TestDatabase;

beforeEach(async () => {
	dir = mkdtempSync(join(tmpdir(), 'runnel-bus-'));
	database = await testDatabase('localbus');
	store = await open({ dataDir: dir, ...(database.env.DATABASE_URL ? { databaseUrl: database.env.DATABASE_URL } : {}) });
	bus = new LocalBus({ db: store.db, retentionCount: 10, retentionAgeMs: 3600_000 });
});

afterEach(async () => {
	await bus.close();
	await store.close();
	await database.drop();
	rmSync(dir, { recursive: true, force: true });
});

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);
const publishMany = (topic: string, n: number) =>
	Promise.all(Array.from({ length: n }, (_, i) => bus.publish(topic, { type: 't', data: { i } })));

describe('LocalBus ids and storage', () => {
	it('hands out ids 1..n per topic, each a committed row', async () => {
		expect(await publishMany('room:1', 50)).toEqual(range(1, 50).map(String));
		expect(await bus.publish('b', { type: 't', data: null })).toBe('1');
		const rows = await store.db.selectFrom('bus_events').where('topic', '=', 'room:1').select('seq').orderBy('seq').execute();
		expect(rows.map((r) => Number(r.seq))).toEqual(range(51 - rows.length, 50)); // the newest, past retention
		expect(bus.isId('9999999999999999') && !bus.isId('1-0')).toBe(true);
	});

	it('trims a topic by itself every 100 publishes', async () => {
		await publishMany('a', 100);
		const topic = await store.db.selectFrom('bus_topics').selectAll().executeTakeFirstOrThrow();
		expect(Number(topic.min_seq)).toBe(91);
		const error = await bus.subscribe('a', { after: '80' })[Symbol.asyncIterator]().next().catch((e: unknown) => e);
		expect(error).toBeInstanceOf(ReplayError);
		expect((error as ReplayError).reason).toBe('too-old');
	});
});

import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Socket } from 'socket.io-client';
import { testDatabase } from '../../src/lib/server/testing/database';
import { testRedis } from '../../src/lib/server/testing/redis';
import type { ChatMessage } from '../../src/lib/shared/chat';
import type { HistoryPage } from '../../src/lib/stream/client/chat-log';
import { RoomLog, type ChatSocket } from './chat';
import { call, follow, freePort, type Seen } from './clients';
import { runName, startServer, type AppServer } from './server';

/**
 * Why the cluster suite would not run here, or null when it can: it needs PostgreSQL and Redis, and
 * runs once, in the cluster-mode pass of `npm test` (its servers ignore E2E_STORE anyway).
 */
export function clusterUnavailable(): string | null {
	if (!process.env.TEST_DATABASE_URL?.trim() || !process.env.TEST_REDIS_URL?.trim()) {
		return 'cluster tests need TEST_DATABASE_URL and TEST_REDIS_URL (two instances share PostgreSQL and Redis): skipped';
	}
	if (process.env.E2E_STORE !== 'postgres') return 'cluster tests run in the cluster-mode pass (E2E_STORE=postgres): skipped here';
	return null;
}

/** Two production instances on one PostgreSQL database and one Redis key prefix. */
export interface Cluster {
	a: AppServer;
	b: AppServer;
	/** Stops what still runs, then drops the database and the key prefix. */
	close(): Promise<void>;
}

/**
 * Starts two instances (one after the other: the second finds the migrations done) sharing a fresh
 * database and a fresh key prefix on `redisUrl` (TEST_REDIS_URL by default).
 * @example const cluster = await startCluster(); … await cluster.close();
 */
export async function startCluster(redisUrl = process.env.TEST_REDIS_URL!.trim(), env: Record<string, string> = {}): Promise<Cluster> {
	const database = await testDatabase(runName());
	const redis = testRedis(runName(), redisUrl)!;
	const shared = { databaseUrl: database.env.DATABASE_URL!, redisUrl: redis.url, redisPrefix: redis.prefix };
	// The chat send limit is per instance and not what these tests are about.
	const serverEnv = { DEMO_DATA: 'false', CHAT_RATE_MESSAGES: '100000', ...env };
	const servers: AppServer[] = [];
	const close = async () => {
		await Promise.all(servers.map((server) => server.stop()));
		await redis.drop().catch(() => undefined);
		await database.drop();
	};
	try {
		servers.push(await startServer({ shared, env: serverEnv }));
		servers.push(await startServer({ shared, env: serverEnv }));
	} catch (error) {
		await close();
		throw error;
	}
	return { a: servers[0], b: servers[1], close };
}

/** A redis-server of the test's own, in a temp dir, without persistence: a restart comes back empty. */
export interface OwnRedis {
	url: string;
	/** Kills it (SIGKILL, as a crash) and starts it again on the same port, empty. */
	restart(): Promise<void>;
	stop(): Promise<void>;
}

const REDIS_SERVER = process.env.REDIS_SERVER_PATH || '/usr/bin/redis-server';

/**
 * Starts `redis-server` on a free port with `--save '' --appendonly no`.
 * @example const redis = await ownRedis(); … await redis.restart(); … await redis.stop();
 */
export async function ownRedis(): Promise<OwnRedis> {
	const dir = mkdtempSync(join(tmpdir(), 'runnel-redis-'));
	const port = await freePort();
	let child: ChildProcess | undefined;
	const start = () =>
		new Promise<void>((resolve, reject) => {
			const args = ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'no', '--protected-mode', 'no'];
			const started = spawn(REDIS_SERVER, args, { stdio: ['ignore', 'pipe', 'pipe'] });
			child = started;
			let output = '';
			const timer = setTimeout(() => reject(new Error(`redis-server did not start:\n${output}`)), 10_000);
			started.stdout!.on('data', (chunk) => {
				output += chunk;
				if (output.includes('Ready to accept connections')) {
					clearTimeout(timer);
					resolve();
				}
			});
			started.once('exit', (code) => {
				clearTimeout(timer);
				reject(new Error(`redis-server exited (${code}):\n${output}`));
			});
		});
	const kill = async () => {
		const running = child;
		if (!running || running.exitCode !== null || running.signalCode !== null) return;
		const exited = new Promise((resolve) => running.once('exit', resolve));
		running.kill('SIGKILL');
		await exited;
	};
	process.once('exit', () => child?.kill('SIGKILL'));
	try {
		await start();
	} catch (error) {
		await kill();
		rmSync(dir, { recursive: true, force: true });
		throw error;
	}
	return {
		url: `redis://127.0.0.1:${port}`,
		async restart() {
			await kill();
			await start();
		},
		async stop() {
			await kill();
			rmSync(dir, { recursive: true, force: true });
		}
	};
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Emits an acknowledged event once, failing after `ms` without an answer (a dead instance never answers). */
export function askOnce(socket: ChatSocket, event: string, payload: object, ms = 2000): Promise<{ ok: boolean; error?: string } & Record<string, unknown>> {
	return (socket as unknown as Socket).timeout(ms).emitWithAck(event, payload);
}

/**
 * A RoomLog that asks whichever socket it follows now, once per try, retrying a dead instance's
 * silence for a few seconds.
 */
export function clusterRoomLog(roomId: number): RoomLog {
	const log: RoomLog = new RoomLog(roomId, async (after) => {
		for (let tries = 0; ; tries++) {
			try {
				return (await askOnce(log.socket!, 'messages:list', { roomId, after, limit: 200 })) as HistoryPage;
			} catch (error) {
				if (tries > 30) throw error;
				await sleep(200);
			}
		}
	});
	return log;
}

/**
 * Sends `count` messages one after another through whichever socket `current()` gives, each with
 * its own clientId and sent again (same clientId) until acknowledged: what the page's outbox does.
 */
export async function sendAll(name: string, roomId: number, count: number, current: () => ChatSocket, acked: ChatMessage[], paceMs = 0): Promise<void> {
	for (let i = 0; i < count; i++) {
		if (paceMs) await sleep(paceMs);
		for (let tries = 0; ; tries++) {
			let reply;
			try {
				reply = await askOnce(current(), 'message:send', { roomId, clientId: `${name}-${i}`, text: `${name} #${i}` });
			} catch (error) {
				if (tries > 60) throw new Error(`${name} #${i} never acknowledged: ${error}`);
				await sleep(100);
				continue;
			}
			if (!reply.ok) throw new Error(`${name} #${i} refused: ${reply.error}`);
			acked.push(reply.message as ChatMessage);
			break;
		}
	}
}

/** A notification as the stream and the list carry it. */
interface Note {
	id: number;
	title: string;
}

/**
 * A user's notifications as the page keeps them: the stream's events, and on `reset` a reload of
 * the list from the store and a fresh stream (no Last-Event-ID). `delivered` counts every copy the
 * stream handed over since the last reload, so a duplicate shows.
 */
export class NotificationView {
	notes = new Map<number, Note>();
	delivered: number[] = [];
	resets = 0;
	/** The id of the last event the stream delivered (what a browser sends as Last-Event-ID). */
	lastEventId: string | undefined;
	#stream: ReturnType<typeof follow> | null = null;
	#reloads: Promise<void> = Promise.resolve();

	constructor(
		readonly base: () => string,
		readonly cookie: string
	) {}

	/** Opens the stream (resuming after `lastEventId` when given); resolves once it is open. */
	open(lastEventId?: string): Promise<void> {
		const url = () => `${this.base()}/api/notifications/stream?types=notification`;
		const stream = follow(url, this.cookie, ['notification', 'reset'], lastEventId);
		this.#stream = stream;
		for (const type of ['notification', 'reset']) {
			stream.source.addEventListener(type, (event) => this.#on({ type, id: event.lastEventId, data: JSON.parse(event.data) }));
		}
		return stream.opened;
	}

	/** Every copy of every notification delivered since the last reload is there once. */
	duplicates(): number[] {
		return this.delivered.filter((id, i) => this.delivered.indexOf(id) !== i);
	}

	/** Waits for reloads under way. */
	settled(): Promise<void> {
		return this.#reloads;
	}

	close(): void {
		this.#stream?.close();
	}

	#on(event: Seen): void {
		if (event.type === 'reset') {
			this.resets++;
			this.#stream?.close();
			this.#reloads = this.#reloads.then(() => this.#reload());
			return;
		}
		const note = event.data as Note;
		this.lastEventId = event.id;
		this.delivered.push(note.id);
		this.notes.set(note.id, { id: note.id, title: note.title });
	}

	async #reload(): Promise<void> {
		// Stream first, then the list: whatever comes between is in one or the other (merged by id).
		await this.open();
		this.delivered = [];
		let before: number | null | undefined;
		do {
			const page = await call(this.base(), this.cookie, 'GET', `/api/notifications?limit=100${before ? `&before=${before}` : ''}`);
			if (page.status !== 200) throw new Error(`reload failed: ${page.status}`);
			for (const note of page.body.items as Note[]) this.notes.set(note.id, { id: note.id, title: note.title });
			before = page.body.nextBefore;
		} while (before);
	}
}

// Test utility: the runtime on a test database (testDatabase) with attachRealtime() on a free port,
// and socket.io clients signed in by session token; close() undoes all of it.
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { io as connectClient, type Socket } from 'socket.io-client';
import { SESSION_COOKIE } from '../accounts';
import { loadConfig } from '../config';
import { attachRealtime, type RealtimeServer } from '../realtime/attach';
import { closeRuntime, initRuntime } from '../runtime';
import { testDatabase } from './database';

/** A running realtime server for one spec file. */
export interface TestRealtime {
	url: string;
	io: RealtimeServer;
	/** The runtime's DATA_DIR. */
	dir: string;
	/** A WebSocket client with the session's cookie, connected; `setup` runs before it connects (listeners that must see the first events). */
	connect(token: string, setup?: (socket: Socket) => void): Promise<Socket>;
	/** Closes the clients, the server and the runtime; drops the database and the folder. */
	close(): Promise<void>;
}

/**
 * Starts the runtime (`env` over silent logs, no demo data) and Socket.IO on 127.0.0.1.
 * @example const realtime = await startRealtime('chat'); const socket = await realtime.connect(token); … await realtime.close();
 */
export async function startRealtime(name: string, env: Record<string, string> = {}): Promise<TestRealtime> {
	const dir = mkdtempSync(join(tmpdir(), `runnel-${name}-`));
	const database = await testDatabase(name);
	const rt = await initRuntime(loadConfig({ DATA_DIR: dir, ...database.env, LOG_LEVEL: 'silent', DEMO_DATA: 'false', ...env }));
	const http = createServer();
	const io = attachRealtime(http, rt);
	await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
	const url = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
	const open: Socket[] = [];
	return {
		url,
		io,
		dir,
		async connect(token, setup) {
			const socket = connectClient(url, { transports: ['websocket'], extraHeaders: { cookie: `${SESSION_COOKIE}=${token}` }, reconnection: false });
			open.push(socket);
			setup?.(socket);
			await new Promise<void>((resolve, reject) => {
				socket.once('connect', resolve);
				socket.once('connect_error', reject);
			});
			return socket;
		},
		async close() {
			for (const socket of open) socket.close();
			await io.close();
			await closeRuntime();
			await database.drop();
			rmSync(dir, { recursive: true, force: true });
		}
	};
}

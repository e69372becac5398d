import { sveltekit } from '@sveltejs/kit/vite';
import type { Server as HttpServer } from 'node:http';
import type { Plugin } from 'vite';
import { defineConfig } from 'vitest/config';
import { apiGenerator } from './scripts/vite-plugin-api.ts';

/** Attaches the realtime server (Socket.IO) to Vite's own HTTP server in dev and preview. */
function realtime(): Plugin {
	return {
		name: 'runnel-realtime',
		configureServer(server) {
			const http = server.httpServer as HttpServer | null;
			http?.once('listening', async () => {
				const { initRuntime } = await server.ssrLoadModule('/src/lib/server/runtime.ts');
				const { attachRealtime } = await server.ssrLoadModule('/src/lib/server/realtime/attach.ts');
				attachRealtime(http, await initRuntime());
			});
		},
		configurePreviewServer(server) {
			const http = server.httpServer as HttpServer;
			http.once('listening', async () => {
				process.env.RUNNEL_NO_MAIN = '1';
				const entry = new URL('./build/server.js', import.meta.url).href;
				const { initRuntime, attachRealtime } = await import(/* @vite-ignore */ entry);
				attachRealtime(http, await initRuntime());
			});
		}
	};
}

export default defineConfig({
	plugins: [sveltekit(), realtime(), apiGenerator()],
	test: {
		include: ['src/**/*.spec.ts', 'scripts/**/*.spec.ts'],
		environment: 'node',
		testTimeout: 20_000
	}
});

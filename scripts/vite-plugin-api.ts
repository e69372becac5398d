import { join, relative, sep } from 'node:path';
import type { Plugin } from 'vite';
import { generate, SOCKET_EVENTS, writeGenerated } from './generate-api.ts';

/**
 * Keeps `src/lib/api` in step with `src/routes/api` and the shared socket event map in dev: generates
 * on server start, when a `+server.ts` under src/routes/api is added, changed or removed, and when
 * src/lib/shared/socket-events.ts changes. Problems are logged, never thrown.
 * @example plugins: [sveltekit(), apiGenerator()]
 */
export function apiGenerator(): Plugin {
	let root = process.cwd();
	let timer: ReturnType<typeof setTimeout> | undefined;
	return {
		name: 'runnel-api-generator',
		// Dev only; Vitest (mode "test") also starts a Vite server, and tests must not write src/lib/api.
		apply: (_config, env) => env.command === 'serve' && env.mode !== 'test',
		configResolved(config) {
			root = config.root;
		},
		configureServer(server) {
			const logger = server.config.logger;
			const apiDir = join(root, 'src', 'routes', 'api') + sep;
			const socketEvents = join(root, SOCKET_EVENTS);
			const run = () => {
				try {
					const outDir = join(root, 'src/lib/api');
					const { files, warnings } = generate({ routesDir: join(root, 'src/routes'), outDir, socketEvents });
					for (const warning of warnings) logger.warn(`[api] ${warning}`, { timestamp: true });
					for (const path of writeGenerated(files, outDir)) logger.info(`[api] wrote ${relative(root, path)}`, { timestamp: true });
				} catch (error) {
					logger.error(`[api] ${(error as Error).message}`, { timestamp: true });
				}
			};
			const onFile = (file: string) => {
				const route = file.startsWith(apiDir) && file.endsWith(`${sep}+server.ts`);
				if (!route && file !== socketEvents) return;
				clearTimeout(timer);
				timer = setTimeout(run, 50);
			};
			server.watcher.on('add', onFile).on('change', onFile).on('unlink', onFile);
			run();
		}
	};
}

// Production entry: built by scripts/build-server.js into build/server.js beside adapter-node's handler.
import { ConfigError, loadConfig } from './src/lib/server/config';
import { initRuntime } from './src/lib/server/runtime';
import { LOCAL_PROTOCOL_HEADER, serve } from './src/lib/server/serve';

export { attachRealtime } from './src/lib/server/realtime/attach';
export { initRuntime } from './src/lib/server/runtime';

/** Starts Runnel: validated config, store and demo data, then pages and Socket.IO on one port. */
export async function main(): Promise<void> {
	let config;
	try {
		config = loadConfig();
	} catch (error) {
		if (error instanceof ConfigError) {
			console.error(`runnel: configuration error: ${error.message}`);
			process.exit(1);
		}
		throw error;
	}
	// adapter-node reads these when handler.js loads; a proxy deployment sets ORIGIN or its own header.
	if (!process.env.ORIGIN && !process.env.PROTOCOL_HEADER) process.env.PROTOCOL_HEADER = LOCAL_PROTOCOL_HEADER;
	// Upload chunks are up to 16 MiB; JSON endpoints keep their own smaller limit (readJson).
	process.env.BODY_SIZE_LIMIT ??= '16M';
	// Loading the handler runs SvelteKit's init hook, which starts the runtime with the app's own
	// module copies; this file then picks that same runtime up from globalThis.
	const handlerPath = './handler.js';
	const { handler, server } = await import(/* @vite-ignore */ handlerPath);
	const rt = await initRuntime(config);
	try {
		// scripts/adapter.js exports adapter-node's SvelteKit server: event streams are answered with it directly.
		await serve(rt, handler, server && ((request, options) => server.respond(request, options)));
	} catch (error) {
		rt.log.fatal({ err: error }, `cannot listen on ${config.host}:${config.port}: ${(error as Error).message}`);
		process.exit(1);
	}
}

if (process.env.RUNNEL_NO_MAIN !== '1' && import.meta.url === `file://${process.argv[1]}`) await main();

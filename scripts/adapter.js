// adapter-node, whose build/handler.js also exports the SvelteKit `server` it made, so that
// server.ts can answer event streams and file downloads itself (see src/lib/server/node-level.ts).
import node from '@sveltejs/adapter-node';
import { appendFileSync, existsSync, readFileSync } from 'node:fs';

/** @param {import('@sveltejs/adapter-node').AdapterOptions} [options] */
export default function adapter(options) {
	const base = node(options);
	return {
		...base,
		name: 'runnel-adapter-node',
		/** @param {import('@sveltejs/kit').Builder} builder */
		adapt(builder) {
			/** @type {import('@sveltejs/kit').Builder['copy']} */
			const copy = (from, to, opts) => {
				const copied = builder.copy(from, to, opts);
				const handler = `${to}/handler.js`;
				if (to.endsWith('/entries') && existsSync(handler)) {
					if (!/^const server = new Server\(manifest\);$/m.test(readFileSync(handler, 'utf8'))) {
						throw new Error(`runnel adapter: ${handler} no longer makes "const server"; update scripts/adapter.js`);
					}
					appendFileSync(handler, '\nexport { server };\n');
				}
				return copied;
			};
			return base.adapt({ ...builder, copy });
		}
	};
}

/**
 * Generates typed client helpers, `src/lib/api/<area>.api.ts`, from `src/routes/api/**\/+server.ts`.
 * Run `npm run gen` (or `npm run gen:check` to fail on stale files); in dev the Vite plugin
 * (scripts/vite-plugin-api.ts) regenerates on start and when a route file changes.
 *
 * Route conventions the generator reads (TypeScript parser only, no type checker):
 * - Handlers are `export const GET = (async (event) => …) satisfies RequestHandler` (or
 *   `export async function GET`), never annotated `: RequestHandler`, so the branded return type
 *   survives. Methods: GET, POST, PUT, PATCH, DELETE.
 * - The kind comes from the helper every `return` calls, by name: `sse(…)` -> events,
 *   `json(…)` -> json, `ndjson(…)` -> records, `file(…)` -> file, `text(…)` -> text. Events,
 *   records, file and text handlers must be GET; a handler returning
 *   anything else, or more than one kind, is skipped with a warning. A call wrapping an inline
 *   function, like `handleErrors(async () => json(…))`, counts as what that function returns;
 *   failures are thrown, not returned.
 * - `export type Query = {…}` types the GET handler's query parameters (values: string, number,
 *   boolean or arrays of them, joined with ","). `export type Body = {…}` types the JSON body of
 *   every POST, PUT, PATCH and DELETE in the file. The argument is optional when all members are.
 * - The handler's JSDoc becomes the generated function's; `@client <name>` overrides its name.
 * - Path: `(group)` directories are ignored; the first segment after /api/ is the area (one
 *   generated file each); `[id]` and `[id=matcher]` are string arguments, `[[opt]]` is
 *   `string | undefined`, `[...rest]` is a string whose "/" are kept; all are URL-encoded.
 *
 * Naming rule: prefix `open` for events, `read` for records and text, `download` for file, else (json) the
 * lower-case method; then each static segment in PascalCase ("read-all" -> "ReadAll"); a static
 * segment followed by a parameter is made singular ("ies" -> "y"; a final "s" dropped unless
 * "ss", "us", "is") and the parameter adds nothing; a parameter not after a static segment adds
 * `By<Param>`. Examples: GET /api/notifications -> getNotifications; POST /api/notifications/read
 * -> postNotificationsRead; GET (events) /api/notifications/stream -> openNotificationsStream;
 * GET /api/files/[id] -> getFile; GET (events) /api/rooms/[id]/stream -> openRoomStream;
 * GET (records) /api/analytics -> readAnalytics; GET (file) /api/files/[id]/content ->
 * downloadFileContent; GET (text) /api/jobs/[id]/log -> readJobLog. Two handlers with one name in an area are an error: give one a `@client`
 * name.
 *
 * What a helper returns: json `Promise<JsonOf<…>>` (requestJson); events `EventStream<EventsOf<…>>`
 * (openEvents); records `RecordStream<RecordOf<…>>` (readRecords, typed callbacks and an async
 * iterator); file `Promise<Blob>` (downloadFile; a declared `Query` goes into the URL).
 *
 * The socket kind: `src/lib/shared/socket-events.ts` declares the Socket.IO event maps once
 * (`ClientToServerEvents`, `ServerToClientEvents`). When `ClientToServerEvents` carries
 * `@client <Class> [extends <Base>]`, the generator writes `<area>.api.svelte.ts` (`ChatClient` ->
 * `chat.api.svelte.ts`): `class <Class> extends <Base>` (default
 * `SocketClient<ServerToClientEvents, ClientToServerEvents>`; the base comes from
 * `$lib/stream/client` and holds the `$state` and the logic) with one method per event a client
 * sends: `noun:verb` -> `verbNoun(input)` resolving with the typed acknowledgement (`@client <name>`
 * on a member renames it); an event marked `@volatile` has no acknowledgement and its method
 * returns void. An event that ends with no acknowledgement callback and is not `@volatile` is
 * skipped with a warning.
 * iterator); file `Promise<Blob>` (downloadFile; a declared `Query` goes into the URL); text
 * `TextStream` (readText: `onText` gets each chunk decoded with a streaming TextDecoder, AbortSignal).
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative, resolve, sep } from 'node:path';
import { emitArea, type Endpoint } from './api-gen/emit.ts';
import { parseModule, type Kind } from './api-gen/parse-module.ts';
import { functionName, parseRoutePath } from './api-gen/route-path.ts';
import { emitSocketClient, parseSocketMap, socketFileName } from './api-gen/socket.ts';

/** Where to read routes and write helpers. */
export interface GenerateOptions {
	/** The SvelteKit routes directory (the one holding `api/`). */
	routesDir: string;
	/** Where `<area>.api.ts` files go. */
	outDir: string;
	/** Module path from outDir to routesDir (default: computed, e.g. `../../routes`). */
	importBase?: string;
	/** The shared Socket.IO event map (`src/lib/shared/socket-events.ts`), if any. */
	socketEvents?: string;
}

/** One generated file. */
export interface GeneratedFile {
	path: string;
	content: string;
}

/** What generate() produced. */
export interface GenerateResult {
	files: GeneratedFile[];
	/** Routes or handlers left out, and why. */
	warnings: string[];
}

/** Reads the routes and returns the files to write; throws on name clashes and bad `@client` names. */
export function generate(options: GenerateOptions): GenerateResult {
	const routesDir = resolve(options.routesDir);
	const outDir = resolve(options.outDir);
	const importBase = options.importBase ?? toModulePath(relative(outDir, routesDir));
	const warnings: string[] = [];
	const errors: string[] = [];
	const areas = new Map<string, Endpoint[]>();
	for (const file of findRouteFiles(join(routesDir, 'api'))) {
		const where = relative(process.cwd(), file);
		const dirs = relative(join(routesDir, 'api'), file).split(sep).slice(0, -1);
		let route;
		try {
			route = parseRoutePath(dirs);
		} catch (error) {
			warnings.push(`${where}: skipped: ${(error as Error).message}`);
			continue;
		}
		const module = parseModule(readFileSync(file, 'utf8'), file);
		warnings.push(...module.warnings.map((w) => `${where}: skipped ${w}`));
		const importPath = `${importBase}/api/${dirs.join('/')}/+server`;
		for (const handler of module.handlers) {
			if (handler.kind !== 'json' && handler.method !== 'GET') {
				warnings.push(`${where}: skipped ${handler.method}: ${KIND_NOUN[handler.kind]} must be GET`);
				continue;
			}
			if (handler.client !== undefined && !/^[A-Za-z_$][\w$]*$/.test(handler.client)) {
				errors.push(`${where}: ${handler.method}: @client "${handler.client}" is not an identifier`);
				continue;
			}
			const prefix = PREFIX[handler.kind] ?? handler.method.toLowerCase();
			const name = handler.client || functionName(prefix, route.segments);
			const list = areas.get(route.area) ?? [];
			areas.set(route.area, [...list, { route, module, handler, name, importPath }]);
		}
	}
	for (const [area, endpoints] of areas) {
		const seen = new Map<string, string>();
		for (const { name, handler, route } of endpoints) {
			const here = `${handler.method} ${route.id}`;
			const other = seen.get(name);
			if (other) errors.push(`${area}: ${other} and ${here} would both be ${name}(): add @client to one`);
			seen.set(name, here);
		}
	}
	if (errors.length) throw new Error(`API generator:\n  ${errors.join('\n  ')}`);
	const files = [...areas]
		.sort(([a], [b]) => a.localeCompare(b))
		.map(([area, endpoints]) => ({ path: join(outDir, `${area}.api.ts`), content: emitArea(endpoints) }));
	if (options.socketEvents && existsSync(options.socketEvents)) files.push(...socketClient(resolve(options.socketEvents), routesDir, outDir, warnings));
	return { files, warnings };
}

/** The typed client class of the shared Socket.IO event map (none when it has no `@client` tag). */
function socketClient(file: string, routesDir: string, outDir: string, warnings: string[]): GeneratedFile[] {
	const map = parseSocketMap(readFileSync(file, 'utf8'), file);
	if (!map) return [];
	const where = relative(process.cwd(), file);
	warnings.push(...map.warnings.map((w) => `${where}: ${w}`));
	const from = relative(resolve(routesDir, '../..'), file).split(sep).join('/');
	const mapImport = toModulePath(relative(outDir, file)).replace(/\.ts$/, '');
	return [{ path: join(outDir, socketFileName(map.className)), content: emitSocketClient(map, mapImport, from) }];
}

/** Differences between `files` and what is in `outDir` (stale or left-over generated files). */
export function staleFiles(files: GeneratedFile[], outDir: string): string[] {
	const problems: string[] = [];
	for (const file of files) {
		const current = existsSync(file.path) ? readFileSync(file.path, 'utf8') : null;
		if (current === null) problems.push(`${relative(process.cwd(), file.path)} is missing`);
		else if (current !== file.content) problems.push(`${relative(process.cwd(), file.path)} is out of date`);
	}
	for (const path of leftovers(files, outDir)) problems.push(`${relative(process.cwd(), path)} has no routes left`);
	return problems;
}

/** Writes the files that changed and deletes generated files whose area is gone; returns what changed. */
export function writeGenerated(files: GeneratedFile[], outDir: string): string[] {
	mkdirSync(outDir, { recursive: true });
	const changed: string[] = [];
	for (const file of files) {
		if (existsSync(file.path) && readFileSync(file.path, 'utf8') === file.content) continue;
		writeFileSync(file.path, file.content);
		changed.push(file.path);
	}
	for (const path of leftovers(files, outDir)) {
		rmSync(path);
		changed.push(path);
	}
	return changed;
}

/** CLI: `[--check]`, run from the project root; returns the exit code. */
export function main(args: string[], root = process.cwd()): number {
	const outDir = join(root, 'src/lib/api');
	try {
		const { files, warnings } = generate({ routesDir: join(root, 'src/routes'), outDir, socketEvents: join(root, SOCKET_EVENTS) });
		for (const warning of warnings) console.warn(`warning: ${warning}`);
		if (args.includes('--check')) {
			const problems = staleFiles(files, outDir);
			if (problems.length === 0) return 0;
			console.error(`API helpers are stale; run npm run gen:\n  ${problems.join('\n  ')}`);
			return 1;
		}
		const changed = writeGenerated(files, outDir);
		console.log(`API helpers: ${files.length} file(s), ${changed.length} changed`);
		return 0;
	} catch (error) {
		console.error((error as Error).message);
		return 1;
	}
}

/** The shared Socket.IO event map, from the project root. */
export const SOCKET_EVENTS = 'src/lib/shared/socket-events.ts';

/** How every generated file starts (route helpers and socket clients alike). */
const GENERATED = '// GENERATED by scripts/generate-api.ts';

/** The name prefix of each streaming kind; json helpers use the lower-case method. */
const PREFIX: Partial<Record<Kind, string>> = { events: 'open', records: 'read', file: 'download', text: 'read' };

const KIND_NOUN: Record<Kind, string> = { events: 'event streams', records: 'record streams', file: 'file downloads', text: 'text streams', json: 'JSON calls' };

function findRouteFiles(dir: string): string[] {
	if (!existsSync(dir)) return [];
	return readdirSync(dir, { recursive: true, encoding: 'utf8' })
		.filter((path) => path === '+server.ts' || path.endsWith(`${sep}+server.ts`))
		.map((path) => join(dir, path))
		.sort();
}

function leftovers(files: GeneratedFile[], outDir: string): string[] {
	if (!existsSync(outDir)) return [];
	const wanted = new Set(files.map((file) => file.path));
	return readdirSync(outDir)
		.filter((name) => /\.api(\.svelte)?\.ts$/.test(name))
		.map((name) => join(outDir, name))
		.filter((path) => !wanted.has(path) && readFileSync(path, 'utf8').startsWith(GENERATED));
}

function toModulePath(path: string): string {
	const posix = path.split(sep).join('/');
	return posix.startsWith('.') ? posix : `./${posix}`;
}

// Route directories -> URL segments, parameters, generated names (see the rules in ../generate-api.ts).

/** One URL segment of a route under /api (groups removed). */
export type Segment =
	| { kind: 'static'; name: string }
	| { kind: 'param'; name: string; rest: boolean; optional: boolean; ident: string };

/** A parameter segment. */
export type Param = Extract<Segment, { kind: 'param' }>;

/** A `+server.ts` under `<routes>/api`, located. */
export interface RoutePath {
	/** e.g. `/api/rooms/[id]/stream` */
	id: string;
	/** First segment after /api/: the generated file is `<area>.api.ts`. */
	area: string;
	segments: Segment[];
	/** Identifier-safe form of the path, for type aliases: `rooms_$id_stream`. */
	key: string;
}

const RESERVED = new Set(
	'query body options break case catch class const continue debugger default delete do else enum export extends false finally for function if import in instanceof new null return super switch this throw true try typeof var void while with yield let static await'.split(' ')
);

/** Parses the directories between `api/` and `+server.ts`; throws a readable message if unsupported. */
export function parseRoutePath(dirs: string[]): RoutePath {
	const segments: Segment[] = [];
	for (const dir of dirs) {
		if (/^\(.+\)$/.test(dir)) continue;
		const param = /^(\[)?\[(\.\.\.)?([A-Za-z_$][\w$]*)(=\w+)?\](\])?$/.exec(dir);
		if (param && Boolean(param[1]) === Boolean(param[5])) {
			const name = param[3];
			const ident = RESERVED.has(name) ? `${name}Param` : name;
			segments.push({ kind: 'param', name, rest: Boolean(param[2]), optional: Boolean(param[1]), ident });
		} else if (/[[\]]/.test(dir)) {
			throw new Error(`segment "${dir}" mixes text and parameters, which the generator does not support`);
		} else {
			segments.push({ kind: 'static', name: dir });
		}
	}
	const first = segments[0];
	if (!first || first.kind !== 'static') throw new Error('routes must sit in an area: /api/<area>/…');
	const id = '/api/' + segments.map(show).join('/');
	const key = segments.map(keyOf).join('_');
	return { id, area: first.name, segments, key };
}

/**
 * The derived function name: the kind's prefix (`open`, `read`, `download`) or the lower-case method, then each static segment in
 * PascalCase; a static segment followed by a parameter is made singular and the parameter adds
 * nothing (`files/[id]` -> `File`); a parameter after another parameter adds `By<Name>`.
 */
export function functionName(prefix: string, segments: Segment[]): string {
	let name = prefix;
	segments.forEach((segment, i) => {
		if (segment.kind === 'static') {
			const word = pascal(segment.name);
			name += segments[i + 1]?.kind === 'param' ? singular(word) : word;
		} else if (segments[i - 1]?.kind !== 'static') {
			name += 'By' + pascal(segment.name);
		}
	});
	return name;
}

/** The URL as a template literal body, parameters encoded. */
export function urlTemplate(segments: Segment[]): string {
	let url = '/api';
	for (const segment of segments) {
		if (segment.kind === 'static') url += '/' + segment.name.replace(/[`$\\]/g, '\\$&');
		else if (segment.rest) url += `\${${segment.ident} ? '/' + ${segment.ident}.split('/').map(encodeURIComponent).join('/') : ''}`;
		else if (segment.optional) url += `\${${segment.ident} === undefined ? '' : '/' + encodeURIComponent(${segment.ident})}`;
		else url += `/\${encodeURIComponent(${segment.ident})}`;
	}
	return url;
}

/** The path parameters, in order. */
export function paramsOf(segments: Segment[]): Param[] {
	return segments.filter((segment): segment is Param => segment.kind === 'param');
}

/** `read-all` -> `ReadAll`, `unreadCount` -> `UnreadCount`. */
export function pascal(text: string): string {
	return text
		.split(/[^A-Za-z0-9]+/)
		.filter(Boolean)
		.map((word) => word[0].toUpperCase() + word.slice(1))
		.join('');
}

/** `Categories` -> `Category`, `Files` -> `File`; `Status`, `Class`, `Analysis` stay. */
export function singular(word: string): string {
	if (/ies$/.test(word)) return word.slice(0, -3) + 'y';
	if (/(ss|us|is)$/.test(word) || !word.endsWith('s')) return word;
	return word.slice(0, -1);
}

function show(segment: Segment): string {
	if (segment.kind === 'static') return segment.name;
	const inner = (segment.rest ? '...' : '') + segment.name;
	return segment.optional ? `[[${inner}]]` : `[${inner}]`;
}

function keyOf(segment: Segment): string {
	if (segment.kind === 'static') return segment.name.replace(/[^\w$]/g, '_');
	return (segment.rest ? '$$' : '$') + segment.name + (segment.optional ? '$' : '');
}

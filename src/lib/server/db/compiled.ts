import { CompiledQuery, type Compilable, type Kysely } from 'kysely';

/** A compiled query and where each of its parameters comes from: an argument's index, or -1 for a constant. */
interface Template {
	sql: string;
	sources: number[];
	constants: readonly unknown[];
}

/** Stands in for argument `i` while the query compiles once; no real value looks like it. */
const marker = (i: number) => `\u0000runnel-arg-${i}\u0000`;

/**
 * A query that Kysely builds and compiles once per database (its transactions share it), then runs
 * with each call's arguments:
 * the hot paths (the session of every request, a file's access) pay for SQL and its prepared
 * statement, not for Kysely's builders and compiler. `build` must put each argument into the query
 * as a value, as is (it sees stand-ins while compiling, so it must not branch on them or change them);
 * values it writes itself stay constants.
 * @example
 * const sessionUser = compiledOnce((db, id: string) => db.selectFrom('sessions').select('user_id').where('id', '=', id));
 * const [row] = await sessionUser(runtime().store.db, id);
 */
export function compiledOnce<DB, A extends unknown[], R>(
	build: (db: Kysely<DB>, ...args: A) => Compilable<R>
): (db: Kysely<DB>, ...args: A) => Promise<R[]> {
	// By the database's adapter: a transaction is a Kysely of its own over the same one.
	const templates = new WeakMap<object, Template>();
	const templateFor = (db: Kysely<DB>, count: number): Template => {
		const key = db.getExecutor().adapter;
		let template = templates.get(key);
		if (template) return template;
		const markers = Array.from({ length: count }, (_, i) => marker(i));
		const compiled = build(db, ...(markers as unknown as A)).compile();
		const sources = compiled.parameters.map((value) => markers.indexOf(value as string));
		for (let i = 0; i < count; i++) {
			if (!sources.includes(i)) throw new Error(`compiledOnce: argument ${i} is not a parameter of ${compiled.sql}`);
		}
		template = { sql: compiled.sql, sources, constants: compiled.parameters };
		templates.set(key, template);
		return template;
	};
	return async (db, ...args) => {
		const { sql, sources, constants } = templateFor(db, args.length);
		const parameters = sources.map((source, i) => (source < 0 ? constants[i] : args[source]));
		return (await db.executeQuery(CompiledQuery.raw(sql, parameters))).rows as R[];
	};
}

import type { CreateTableBuilder } from 'kysely';

/** The SQL dialects the store speaks; migrations branch on it only where SQL differs. */
export type Dialect = 'sqlite' | 'postgres';

/** Adds an auto-increment integer primary key `id` in the dialect's own way. */
export function idColumn<T extends string>(table: CreateTableBuilder<T, never>, dialect: Dialect) {
	return dialect === 'postgres'
		? table.addColumn('id', 'serial', (c) => c.primaryKey())
		: table.addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement());
}

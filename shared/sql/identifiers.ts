/** Quoting table names from the config for the engine's SQL. Names come from the operator's config, not from data. */
import type { SqlEngine } from './types';

/** Splits `schema.table` (or `table`) on the first unquoted dot. */
export function splitTableName(name: string): { schema?: string; table: string } {
  const i = name.indexOf('.');
  return i > 0 ? { schema: name.slice(0, i), table: name.slice(i + 1) } : { table: name };
}

export function quoteIdentifier(engine: SqlEngine, id: string): string {
  return engine === 'postgres' ? `"${id.replaceAll('"', '""')}"` : `\`${id.replaceAll('`', '``')}\``;
}

/**
 * A quoted, optionally schema-qualified table name. PostgreSQL folds unquoted names to lower case, so
 * a plain name (`Orders`) is folded as PostgreSQL would (`orders`, what `CREATE TABLE Orders` made);
 * a name with other characters is taken literally.
 */
export function quoteTable(engine: SqlEngine, name: string): string {
  const { schema, table } = splitTableName(name);
  const fold = (s: string) =>
    engine === 'postgres' && /^[A-Za-z_][A-Za-z0-9_$]*$/.test(s) ? s.toLowerCase() : s;
  const q = (s: string) => quoteIdentifier(engine, fold(s));
  return schema ? `${q(schema)}.${q(table)}` : q(table);
}

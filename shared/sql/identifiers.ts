/**
 * Table names from the config, in one syntax for `tables`, `rowCounts` and the default checks:
 * written as in SQL — `orders`, `public.orders`, `"MixedCase"`, `audit."Log"`, and on MySQL also
 * `` `Orders` ``. An unquoted part is folded to lower case on PostgreSQL (what `CREATE TABLE Orders`
 * made) and kept as written on MySQL; a quoted part is taken literally. Names come from the
 * operator's config, not from data, and are always re-quoted before they reach SQL.
 */
import type { SqlEngine } from './types';

/** One part of a name: its text and whether it was quoted (quoted parts are never folded). */
export interface NamePart {
  readonly text: string;
  readonly quoted: boolean;
}

/** A parsed, optionally schema-qualified table name. */
export interface TableName {
  readonly schema?: NamePart;
  readonly table: NamePart;
}

/**
 * Parses `schema.table` or `table`, each part bare (`[A-Za-z_][A-Za-z0-9_$]*`) or quoted with
 * `"…"` or `` `…` `` (a doubled quote escapes it).
 * @throws TypeError for anything else (three parts, an empty part, an unterminated quote)
 */
export function parseTableName(name: string): TableName {
  const parts: NamePart[] = [];
  let i = 0;
  while (i <= name.length) {
    const q = name[i];
    if (q === '"' || q === '`') {
      let text = '';
      i++;
      for (;;) {
        if (i >= name.length) throw new TypeError(`unterminated quote in table name ${JSON.stringify(name)}`);
        if (name[i] === q) {
          if (name[i + 1] === q) {
            text += q;
            i += 2;
            continue;
          }
          i++;
          break;
        }
        text += name[i];
        i++;
      }
      if (text === '') throw new TypeError(`empty quoted name in ${JSON.stringify(name)}`);
      parts.push({ text, quoted: true });
    } else {
      const m = /^[A-Za-z_\u0080-\uffff][A-Za-z0-9_$\u0080-\uffff]*/.exec(name.slice(i));
      if (!m) throw new TypeError(`not a table name: ${JSON.stringify(name)}`);
      parts.push({ text: m[0], quoted: false });
      i += m[0].length;
    }
    if (i === name.length) break;
    if (name[i] !== '.') throw new TypeError(`not a table name: ${JSON.stringify(name)}`);
    i++;
  }
  if (parts.length > 2) throw new TypeError(`a table name has at most two parts (schema.table): ${name}`);
  const [a, b] = parts as [NamePart, NamePart | undefined];
  return b ? { schema: a, table: b } : { table: a };
}

/** The name as the server stores it: PostgreSQL folds unquoted parts to lower case. */
export const resolvePart = (engine: SqlEngine, p: NamePart): string =>
  engine === 'postgres' && !p.quoted ? p.text.toLowerCase() : p.text;

/** Splits and resolves `schema.table` (or `table`) to the names the catalog holds. */
export function splitTableName(
  name: string,
  engine: SqlEngine = 'postgres',
): { schema?: string; table: string } {
  const t = parseTableName(name);
  return {
    ...(t.schema ? { schema: resolvePart(engine, t.schema) } : {}),
    table: resolvePart(engine, t.table),
  };
}

export function quoteIdentifier(engine: SqlEngine, id: string): string {
  return engine === 'postgres' ? `"${id.replaceAll('"', '""')}"` : `\`${id.replaceAll('`', '``')}\``;
}

/** The table name quoted for the engine's SQL, optionally schema-qualified. */
export function quoteTable(engine: SqlEngine, name: string): string {
  const { schema, table } = splitTableName(name, engine);
  return schema
    ? `${quoteIdentifier(engine, schema)}.${quoteIdentifier(engine, table)}`
    : quoteIdentifier(engine, table);
}

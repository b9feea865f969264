/**
 * Checks that need no SQL from the user: every SQL-reachable restore gets them unless the profile
 * turns them off (`options.defaultChecks: false`) or bounds them (`options.defaultChecks:
 * { maxTables, budgetSeconds, foreignKeys }`).
 *
 * - `user-tables`: lists the user tables (at most `maxTables`), counts each — the catalog's estimate
 *   first, then an exact `count(*)` while the time budget lasts — and proves emptiness exactly
 *   (`LIMIT 1`). With a source database (`connection.source`) it fails on tables that are empty or
 *   missing in the restore but hold rows in the source; counts that merely differ are recorded (the
 *   source keeps changing after the snapshot). No user table at all fails.
 * - `foreign-keys`: for each declared foreign key (at most `maxTables`), counts child rows whose key
 *   has no parent row (MATCH SIMPLE: a key with a NULL column is not checked); any orphan fails.
 */
import { type CheckDefinition, type CheckOutcome, defineCheck, errored, fail, pass, skip } from '../checks';
import { reasonOf } from '../errors';
import { SqlStatementError } from './connection';
import { toBigInt } from './decimal';
import { quoteIdentifier } from './identifiers';
import type { SqlSession } from './session';
import type { SqlPool } from './types';

export const USER_TABLES_CHECK_ID = 'user-tables';
export const FOREIGN_KEYS_CHECK_ID = 'foreign-keys';

/** How far the default checks go; from the profile's `options.defaultChecks`. */
export interface DepthOptions {
  /** Tables listed and counted (and foreign keys checked), at most. Default 200. */
  readonly maxTables: number;
  /** Time for exact counts (and for orphan queries), per check. Default 30 s. */
  readonly budgetMs: number;
  /** Check declared foreign keys for orphans. Default true. */
  readonly foreignKeys: boolean;
}

export const DEFAULT_DEPTH: DepthOptions = { maxTables: 200, budgetMs: 30_000, foreignKeys: true };

/**
 * Reads `options.defaultChecks` of a profile: `false` turns the checks off, an object bounds them.
 * @throws TypeError naming the field and the fix
 */
export function depthOptions(value: unknown): DepthOptions | false {
  if (value === undefined || value === true) return DEFAULT_DEPTH;
  if (value === false) return false;
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new TypeError('options.defaultChecks must be false or { maxTables, budgetSeconds, foreignKeys }');
  const o = value as Record<string, unknown>;
  for (const k of Object.keys(o))
    if (!['maxTables', 'budgetSeconds', 'foreignKeys'].includes(k))
      throw new TypeError(
        `options.defaultChecks.${k} is not an option: use maxTables, budgetSeconds, foreignKeys`,
      );
  const int = (k: string, d: number, min: number) => {
    const v = o[k];
    if (v === undefined) return d;
    if (typeof v !== 'number' || !Number.isFinite(v) || v < min)
      throw new TypeError(`options.defaultChecks.${k} must be a number ≥ ${min}, got ${JSON.stringify(v)}`);
    return v;
  };
  if (o.foreignKeys !== undefined && typeof o.foreignKeys !== 'boolean')
    throw new TypeError('options.defaultChecks.foreignKeys must be true or false');
  return {
    maxTables: Math.floor(int('maxTables', DEFAULT_DEPTH.maxTables, 1)),
    budgetMs: int('budgetSeconds', DEFAULT_DEPTH.budgetMs / 1000, 1) * 1000,
    foreignKeys: o.foreignKeys !== false,
  };
}

interface UserTable {
  readonly schema: string;
  readonly name: string;
  /** The catalog's row estimate; undefined when the catalog has none (never analysed). */
  readonly estimate?: bigint;
}

const display = (t: { schema: string; name: string }) => `${t.schema}.${t.name}`;
const sqlName = (pool: SqlPool, t: { schema: string; name: string }) =>
  `${quoteIdentifier(pool.engine, t.schema)}.${quoteIdentifier(pool.engine, t.name)}`;

/** The user tables the validation user can see, in name order, at most `limit` (one more tells "more"). */
export async function listUserTables(
  pool: SqlPool,
  limit: number,
  signal?: AbortSignal,
): Promise<UserTable[]> {
  const r =
    pool.engine === 'postgres'
      ? await pool.query(
          `SELECT n.nspname AS s, c.relname AS t, c.reltuples::bigint AS e FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
           WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition AND n.nspname NOT IN ('pg_catalog', 'information_schema')
             AND n.nspname NOT LIKE 'pg\\_toast%' AND n.nspname NOT LIKE 'pg\\_temp%' AND has_table_privilege(c.oid, 'SELECT')
           ORDER BY 1, 2 LIMIT $1`,
          { params: [limit + 1], signal },
        )
      : await pool.query(
          `SELECT TABLE_SCHEMA AS s, TABLE_NAME AS t, TABLE_ROWS AS e FROM information_schema.TABLES
           WHERE TABLE_TYPE = 'BASE TABLE' AND (TABLE_SCHEMA = DATABASE() OR (DATABASE() IS NULL AND TABLE_SCHEMA NOT IN ('mysql', 'information_schema', 'performance_schema', 'sys')))
           ORDER BY 1, 2 LIMIT ?`,
          { params: [limit + 1], signal },
        );
  return r.rows.map((row) => {
    const e = toBigInt(row.e);
    return {
      schema: String(row.s),
      name: String(row.t),
      estimate: e !== undefined && e >= 0n ? e : undefined,
    };
  });
}

/** Runs `body` with what is left of the budget as its statement timeout; undefined when none is left. */
async function withinBudget<T>(
  until: number,
  body: (timeoutMs: number) => Promise<T>,
): Promise<{ value: T } | undefined> {
  const left = until - Date.now();
  if (left < 50) return undefined;
  try {
    return { value: await body(left) };
  } catch (err) {
    if (err instanceof SqlStatementError && /timed out/.test(err.message)) return undefined;
    throw err;
  }
}

async function hasRows(pool: SqlPool, table: string, signal?: AbortSignal): Promise<boolean> {
  const r = await pool.query(`SELECT 1 AS x FROM ${table} LIMIT 1`, { signal, maxRows: 1 });
  return r.rowCount > 0;
}

interface Counted {
  readonly table: string;
  readonly empty: boolean;
  readonly rows?: string;
  readonly estimated: boolean;
}

async function countAll(
  pool: SqlPool,
  tables: readonly UserTable[],
  budgetMs: number,
  signal?: AbortSignal,
): Promise<Counted[]> {
  const until = Date.now() + budgetMs;
  const out: Counted[] = [];
  // Smallest estimate first: the budget then covers as many tables as it can.
  const order = [...tables].sort((a, b) => Number((a.estimate ?? 0n) - (b.estimate ?? 0n)));
  for (const t of order) {
    const q = sqlName(pool, t);
    const empty = !(await hasRows(pool, q, signal));
    const exact = empty
      ? { value: 0n }
      : await withinBudget(until, async (timeoutMs) => {
          const r = await pool.query(`SELECT COUNT(*) AS n FROM ${q}`, { signal, timeoutMs, maxRows: 1 });
          return toBigInt(r.rows[0]?.n) ?? 0n;
        });
    out.push({
      table: display(t),
      empty,
      rows: exact ? exact.value.toString() : t.estimate?.toString(),
      estimated: !exact,
    });
  }
  return out.sort((a, b) => a.table.localeCompare(b.table));
}

function userTablesCheck<F>(session: SqlSession, o: DepthOptions, restored: () => Promise<SqlPool>) {
  return defineCheck<F>({
    id: USER_TABLES_CHECK_ID,
    description:
      'Every user table is listed and counted; none is empty in the restore while the source has rows.',
    run: async (_f, { signal }): Promise<CheckOutcome> => {
      const pool = await restored();
      const listed = await listUserTables(pool, o.maxTables, signal);
      const more = listed.length > o.maxTables;
      const tables = listed.slice(0, o.maxTables);
      if (tables.length === 0)
        return fail(
          'the restored database has no user tables the validation user can read: the restore is empty, or the user lacks SELECT grants',
        );
      const counts = await countAll(pool, tables, o.budgetMs, signal);
      const estimated = counts.filter((c) => c.estimated).length;
      const empty = counts.filter((c) => c.empty).map((c) => c.table);
      const scope = `${tables.length}${more ? ` (the first ${o.maxTables}; more exist, raise options.defaultChecks.maxTables)` : ''} user tables`;
      const how = `${counts.length - estimated} counted exactly${estimated ? `, ${estimated} estimated (count budget ${o.budgetMs / 1000} s)` : ''}`;
      const data: Record<string, unknown> = {
        tables: counts.map((c) => ({ table: c.table, rows: c.rows, estimated: c.estimated })),
      };
      if (!session.hasSource)
        return pass(
          `${scope}; ${how}; ${empty.length ? `empty: ${empty.join(', ')} (no source to compare with)` : 'none empty'}`,
          data,
        );
      let source: SqlPool;
      try {
        source = await session.source();
      } catch (err) {
        return errored(`could not compare with the source: ${reasonOf(err)}`, data);
      }
      const sourceTables = (await listUserTables(source, o.maxTables, signal)).slice(0, o.maxTables);
      // MySQL: the schema is the connected database, which may be named differently on each side.
      const key = (t: { schema: string; name: string }) => (pool.engine === 'postgres' ? display(t) : t.name);
      const restoredByKey = new Map(
        tables.map((t) => [key(t), counts.find((c) => c.table === display(t))] as const),
      );
      const problems: string[] = [];
      for (const t of sourceTables) {
        const mine = restoredByKey.get(key(t));
        if (mine && !mine.empty) continue;
        if (!(await hasRows(source, sqlName(source, t), signal))) continue;
        problems.push(
          mine
            ? `${mine.table} is empty (the source has rows)`
            : `${display(t)} is missing (the source has rows)`,
        );
      }
      data.comparedWithSource = true;
      return problems.length
        ? fail(`compared with the source: ${problems.join('; ')}`, data)
        : pass(`${scope}; ${how}; no table empty or missing that has rows in the source`, data);
    },
  });
}

interface ForeignKey {
  readonly name: string;
  readonly child: { schema: string; name: string };
  readonly parent: { schema: string; name: string };
  readonly childColumns: readonly string[];
  readonly parentColumns: readonly string[];
}

/** Declared foreign keys, at most `limit`. */
export async function listForeignKeys(
  pool: SqlPool,
  limit: number,
  signal?: AbortSignal,
): Promise<ForeignKey[]> {
  if (pool.engine === 'postgres') {
    const r = await pool.query(
      `SELECT con.conname::text AS k, cn.nspname::text AS cs, cc.relname::text AS ct, pn.nspname::text AS ps, pc.relname::text AS pt,
         ARRAY(SELECT a.attname::text FROM unnest(con.conkey) WITH ORDINALITY AS u(n, i) JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = u.n ORDER BY u.i) AS cc,
         ARRAY(SELECT a.attname::text FROM unnest(con.confkey) WITH ORDINALITY AS u(n, i) JOIN pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = u.n ORDER BY u.i) AS pc
       FROM pg_constraint con JOIN pg_class cc ON cc.oid = con.conrelid JOIN pg_namespace cn ON cn.oid = cc.relnamespace
         JOIN pg_class pc ON pc.oid = con.confrelid JOIN pg_namespace pn ON pn.oid = pc.relnamespace
       WHERE con.contype = 'f' AND cn.nspname NOT IN ('pg_catalog', 'information_schema')
         AND has_table_privilege(cc.oid, 'SELECT') AND has_table_privilege(pc.oid, 'SELECT')
       ORDER BY 2, 3, 1 LIMIT $1`,
      { params: [limit], signal },
    );
    return r.rows.map((row) => ({
      name: String(row.k),
      child: { schema: String(row.cs), name: String(row.ct) },
      parent: { schema: String(row.ps), name: String(row.pt) },
      childColumns: row.cc as string[],
      parentColumns: row.pc as string[],
    }));
  }
  const r = await pool.query(
    `SELECT CONSTRAINT_NAME AS k, TABLE_SCHEMA AS cs, TABLE_NAME AS ct, COLUMN_NAME AS c, REFERENCED_TABLE_SCHEMA AS ps,
       REFERENCED_TABLE_NAME AS pt, REFERENCED_COLUMN_NAME AS pc FROM information_schema.KEY_COLUMN_USAGE
     WHERE REFERENCED_TABLE_NAME IS NOT NULL AND (TABLE_SCHEMA = DATABASE() OR DATABASE() IS NULL)
     ORDER BY TABLE_SCHEMA, TABLE_NAME, CONSTRAINT_NAME, ORDINAL_POSITION`,
    { signal },
  );
  const keys = new Map<
    string,
    {
      name: string;
      child: ForeignKey['child'];
      parent: ForeignKey['parent'];
      childColumns: string[];
      parentColumns: string[];
    }
  >();
  for (const row of r.rows) {
    const id = `${row.cs}.${row.ct}.${row.k}`;
    let k = keys.get(id);
    if (!k) {
      if (keys.size >= limit) break;
      k = {
        name: String(row.k),
        child: { schema: String(row.cs), name: String(row.ct) },
        parent: { schema: String(row.ps), name: String(row.pt) },
        childColumns: [],
        parentColumns: [],
      };
      keys.set(id, k);
    }
    k.childColumns.push(String(row.c));
    k.parentColumns.push(String(row.pc));
  }
  return [...keys.values()];
}

const ORPHAN_SAMPLE = 1000;

function orphanSql(pool: SqlPool, fk: ForeignKey): string {
  const q = (s: string) => quoteIdentifier(pool.engine, s);
  const notNull = fk.childColumns.map((c) => `c.${q(c)} IS NOT NULL`).join(' AND ');
  const join = fk.childColumns.map((c, i) => `p.${q(fk.parentColumns[i] ?? '')} = c.${q(c)}`).join(' AND ');
  return `SELECT COUNT(*) AS n FROM (SELECT 1 AS x FROM ${sqlName(pool, fk.child)} c WHERE ${notNull} AND NOT EXISTS (SELECT 1 FROM ${sqlName(pool, fk.parent)} p WHERE ${join}) LIMIT ${ORPHAN_SAMPLE}) AS rv_orphans`;
}

function foreignKeysCheck<F>(o: DepthOptions, restored: () => Promise<SqlPool>) {
  return defineCheck<F>({
    id: FOREIGN_KEYS_CHECK_ID,
    description: 'No child row references a parent row that is missing, for every declared foreign key.',
    run: async (_f, { signal }): Promise<CheckOutcome> => {
      const pool = await restored();
      const keys = await listForeignKeys(pool, o.maxTables, signal);
      if (keys.length === 0) return skip('no declared foreign keys to check');
      const until = Date.now() + o.budgetMs;
      const orphans: string[] = [];
      let unchecked = 0;
      for (const fk of keys) {
        const r = await withinBudget(until, async (timeoutMs) => {
          const res = await pool.query(orphanSql(pool, fk), { signal, timeoutMs, maxRows: 1 });
          return toBigInt(res.rows[0]?.n) ?? 0n;
        });
        if (!r) unchecked++;
        else if (r.value > 0n)
          orphans.push(
            `${fk.name}: ${r.value >= BigInt(ORPHAN_SAMPLE) ? `at least ${ORPHAN_SAMPLE}` : r.value} row(s) of ${display(fk.child)} (${fk.childColumns.join(', ')}) have no parent in ${display(fk.parent)}`,
          );
      }
      const checked = keys.length - unchecked;
      const data = { foreignKeys: keys.length, checked, orphaned: orphans.length };
      const tail = unchecked ? `; ${unchecked} not checked within the budget of ${o.budgetMs / 1000} s` : '';
      if (orphans.length) return fail(`${orphans.join('; ')}${tail}`, data);
      if (checked === 0)
        return errored(`no foreign key could be checked within the budget of ${o.budgetMs / 1000} s`, data);
      return pass(`${checked} foreign key${checked === 1 ? '' : 's'} without orphan rows${tail}`, data);
    },
  });
}

/** The default checks for a session, as configured; none when turned off. */
export function depthChecks<F>(
  session: SqlSession,
  o: DepthOptions | false,
  restored: () => Promise<SqlPool>,
  taken: ReadonlySet<string>,
): CheckDefinition<F>[] {
  if (o === false) return [];
  const out: CheckDefinition<F>[] = [];
  if (!taken.has(USER_TABLES_CHECK_ID)) out.push(userTablesCheck<F>(session, o, restored));
  if (o.foreignKeys && !taken.has(FOREIGN_KEYS_CHECK_ID)) out.push(foreignKeysCheck<F>(o, restored));
  return out;
}

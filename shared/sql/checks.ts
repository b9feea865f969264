/**
 * The SQL check kinds (`sql`, `freshness`, `tables`, `rowCounts`) as CheckDefinitions over a
 * SqlSession. Used by the RDS and Aurora validators and reusable by custom checks.
 *
 * Status rules: data that is wrong, missing or stale is `fail`; a statement the server rejects on the
 * restored database (missing relation, timeout) is `fail` too, since the restore cannot answer it; a
 * check that tries to write (refused before it runs), SQL with a syntax error, a missing grant, or a
 * config that cannot be evaluated is `error`: the profile is wrong, not the restore. When login failed,
 * the `login` check fails with the cause and the other SQL checks are skipped (not run twice).
 * Results never carry row data: only counts, numbers the expectations compared, and column names.
 */
import { type CheckDefinition, type CheckOutcome, defineCheck, errored, fail, pass, skip } from '../checks';
import type { CheckConfig } from '../config/index';
import { type CheckOptions, optionsOf } from '../config/kinds/registry';
import { reasonOf } from '../errors';
import { SqlStatementError } from './connection';
import { compareDecimal, toBigInt, toDecimal } from './decimal';
import { type DepthOptions, depthChecks } from './depth';
import { evaluateExpectation } from './expect';
import { quoteTable, splitTableName } from './identifiers';
import { freshnessKind, rowCountsKind, sqlKind, tablesKind } from './kinds';
import type { SqlSession } from './session';
import { parseDbTimestamp } from './time';
import type { SqlEngine, SqlPool, SqlRow } from './types';

export const SQL_CHECK_KINDS = ['sql', 'freshness', 'tables', 'rowCounts'] as const;
export const LOGIN_CHECK_ID = 'login';

export interface SqlCheckEnv {
  readonly session: SqlSession;
  readonly engine: SqlEngine;
  /** The reference time for freshness: the recovery point's creation time (or now, locally). */
  readonly recoveryPointTime?: Date;
  /** Records measured facts (dataAgeMinutes) into the evidence. */
  readonly note?: (key: string, value: unknown) => void;
  /** The default checks that need no SQL from the user (depth.ts); off when undefined. */
  readonly depth?: DepthOptions | false;
}

/** Freshness tolerates rows this much newer than the recovery point (clock skew between app and AWS). */
const CLOCK_SKEW_MINUTES = 5;

class NotConnected extends Error {}

const descriptionOf = (c: CheckConfig): string | undefined =>
  typeof c.description === 'string' ? c.description : undefined;

async function restored(env: SqlCheckEnv): Promise<SqlPool> {
  try {
    return (await env.session.ready()).pool;
  } catch (err) {
    throw new NotConnected(reasonOf(err));
  }
}

/** Runs `body`, turning a failed login into `skip` and a rejected statement into `fail`/`error`. */
async function guarded(body: () => Promise<CheckOutcome>): Promise<CheckOutcome> {
  try {
    return await body();
  } catch (err) {
    if (err instanceof NotConnected) return skip(`not run: could not log in (see ${LOGIN_CHECK_ID})`);
    if (err instanceof SqlStatementError) {
      return err.problem === 'restore' ? fail(`statement failed: ${err.message}`) : errored(err.message);
    }
    throw err;
  }
}

/** A profile's SQL check: its id, description and time-out, the query run `guarded`. */
function profileCheck<F>(
  c: CheckConfig,
  timeoutMs: number | undefined,
  run: (signal: AbortSignal) => Promise<CheckOutcome>,
): CheckDefinition<F> {
  return defineCheck<F>({
    id: c.id,
    description: descriptionOf(c),
    timeoutMs,
    run: (_f, { signal }) => guarded(() => run(signal)),
  });
}

/** Finds a column by name, case-insensitively as a fallback (PostgreSQL folds unquoted aliases). */
function column(row: SqlRow, name: string): { found: boolean; value: unknown; key?: string } {
  if (Object.hasOwn(row, name)) return { found: true, value: row[name], key: name };
  const key = Object.keys(row).find((k) => k.toLowerCase() === name.toLowerCase());
  return key === undefined ? { found: false, value: undefined } : { found: true, value: row[key], key };
}

const PG_POWER_ROLES = [
  'rds_superuser',
  'pg_execute_server_program',
  'pg_write_server_files',
  'pg_read_server_files',
];
const MYSQL_POWER_PRIVILEGES = [
  'SUPER',
  'FILE',
  'SHUTDOWN',
  'PROCESS',
  'RELOAD',
  'CREATE ROUTINE',
  'EXECUTE',
];

/**
 * What the validation user may do beyond reading: superuser, server-file and program roles
 * (PostgreSQL) or global SUPER/FILE/… privileges (MySQL). Empty for a least-privilege user.
 */
export async function elevatedPrivileges(pool: SqlPool, signal?: AbortSignal): Promise<string[]> {
  if (pool.engine === 'postgres') {
    const r = await pool.query(
      `SELECT r.rolsuper AS super, ARRAY(SELECT b.rolname::text FROM pg_roles b WHERE b.rolname = ANY($1::text[]) AND pg_has_role(current_user, b.oid, 'member') ORDER BY 1) AS roles FROM pg_roles r WHERE r.rolname = current_user`,
      { params: [PG_POWER_ROLES], signal },
    );
    const row = r.rows[0];
    const roles = Array.isArray(row?.roles) ? (row.roles as string[]) : [];
    return [...(row?.super === true ? ['superuser'] : []), ...roles];
  }
  const r = await pool.query(
    'SELECT DISTINCT PRIVILEGE_TYPE AS p FROM information_schema.USER_PRIVILEGES WHERE PRIVILEGE_TYPE IN (?) ORDER BY 1',
    { params: [MYSQL_POWER_PRIVILEGES], signal },
  );
  return r.rows.map((row) => String(row.p));
}

function privilegeWarning(engine: SqlEngine, user: string, held: readonly string[]): string {
  if (held.length === 0) return '';
  const what =
    engine === 'postgres'
      ? held.includes('superuser')
        ? `${user} is a superuser${held.length > 1 ? ` (and a member of ${held.filter((h) => h !== 'superuser').join(', ')})` : ''}`
        : `${user} is a member of ${held.join(', ')}`
      : `${user} holds ${held.join(', ')}`;
  return `; warning: ${what}: validate with a user that may only SELECT (docs/databases.md, "The validation user")`;
}

/** The `login` check: opens the session and proves the credentials work. */
export function loginCheck<F>(env: SqlCheckEnv): CheckDefinition<F> {
  return defineCheck<F>({
    id: LOGIN_CHECK_ID,
    description: 'The validation user can log in to the restored database.',
    run: async (_f, { signal }) => {
      try {
        const { pool, serverVersion } = await env.session.ready();
        const where = pool.endpoint;
        // A failed privilege look-up must not fail the login: the warning is advice.
        const held = await elevatedPrivileges(pool, signal).catch(() => []);
        return pass(
          `logged in as ${where.user} (${where.credentialSource}) to ${env.engine} ${serverVersion}${privilegeWarning(env.engine, where.user, held)}`,
          { serverVersion, ...(held.length ? { elevatedPrivileges: held } : {}) },
        );
      } catch (err) {
        return fail(reasonOf(err));
      }
    },
  });
}

function sqlCheck<F>(c: CheckOptions<typeof sqlKind>, env: SqlCheckEnv, timeoutMs?: number) {
  return profileCheck<F>(c, timeoutMs, async (signal) => {
    const pool = await restored(env);
    // Only the first row is kept (for expect); the others are counted as they stream past.
    const r = await pool.query(c.sql, { signal, timeoutMs, maxRows: 1 });
    const reasons: string[] = [];
    const data: Record<string, unknown> = { rows: r.rowCount };
    if (c.rows) {
      const why = evaluateExpectation('row count', r.rowCount, c.rows);
      if (why) reasons.push(why);
    }
    const expectations = Object.entries(c.expect ?? {});
    if (expectations.length > 0) {
      const first = r.rows[0];
      if (!first) {
        reasons.push(
          `the query returned no rows, so ${expectations.map(([k]) => k).join(', ')} could not be checked`,
        );
      } else {
        for (const [name, e] of expectations) {
          const { found, value, key } = column(first, name);
          if (!found) {
            reasons.push(`column ${name} is not in the result (columns: ${r.columns.join(', ') || 'none'})`);
            continue;
          }
          const kind = r.columnKinds[r.columns.indexOf(key ?? name)];
          const why = evaluateExpectation(`column ${name}`, value, e, kind);
          if (why) reasons.push(why);
        }
      }
    }
    if (reasons.length) return fail(reasons.join('; '), data);
    const what = [c.rows ? 'row count' : '', ...expectations.map(([k]) => k)].filter(Boolean);
    return pass(`${r.rowCount} row${r.rowCount === 1 ? '' : 's'}; ${what.join(', ')} as expected`, data);
  });
}

function freshnessCheck<F>(
  c: CheckOptions<typeof freshnessKind>,
  env: SqlCheckEnv,
  timeoutMs: number | undefined,
  recordAge: (minutes: number) => void,
) {
  return profileCheck<F>(c, timeoutMs, async (signal) => {
    const pool = await restored(env);
    const r = await pool.query(c.freshness.sql, { signal, timeoutMs, maxRows: 1 });
    const first = r.rows[0];
    if (!first) return fail('the freshness query returned no rows: is the table empty?');
    const key = r.columns[0] ?? Object.keys(first)[0];
    const raw = key === undefined ? undefined : first[key];
    // timestamptz / MySQL TIMESTAMP are absolute (returned in the session's UTC): the zone for
    // wall-clock columns must not shift them.
    const zone = r.columnKinds[0] === 'instant' ? 'UTC' : (c.freshness.timeZone ?? 'UTC');
    let newest: Date | undefined;
    try {
      newest = parseDbTimestamp(raw, zone);
    } catch (err) {
      return errored(`the freshness query's first column is not a timestamp: ${reasonOf(err)}`);
    }
    if (!newest) return fail('the newest timestamp is NULL: the table is empty or the column holds no times');
    const reference = env.recoveryPointTime ?? new Date();
    const refName = env.recoveryPointTime ? 'the recovery point' : 'now (no recovery point time given)';
    const ageMinutes = Math.round(((reference.getTime() - newest.getTime()) / 60_000) * 10) / 10;
    const data = {
      newest: newest.toISOString(),
      reference: reference.toISOString(),
      dataAgeMinutes: ageMinutes,
      maxAgeMinutes: c.freshness.maxAgeMinutes,
    };
    if (ageMinutes < -CLOCK_SKEW_MINUTES) {
      return fail(
        `the newest row (${newest.toISOString()}) is ${-ageMinutes} minutes after ${refName} (${reference.toISOString()}): this is not a copy taken at the recovery point, or the column's time zone is wrong (freshness.timeZone)`,
        data,
      );
    }
    recordAge(Math.max(0, ageMinutes));
    if (ageMinutes > c.freshness.maxAgeMinutes) {
      return fail(
        `data is ${ageMinutes} minutes older than ${refName}: newest row ${newest.toISOString()}, allowed ${c.freshness.maxAgeMinutes} minutes before ${reference.toISOString()}`,
        data,
      );
    }
    return pass(
      `newest row is ${Math.max(0, ageMinutes)} minutes before ${refName} (allowed ${c.freshness.maxAgeMinutes})`,
      data,
    );
  });
}

/**
 * Which of `tables` are missing from the database. Names are parsed as in SQL (identifiers.ts);
 * an unqualified name is looked up like the server does (PostgreSQL search_path, MySQL the
 * connection's database).
 */
export async function missingTables(
  pool: SqlPool,
  tables: readonly string[],
  options: { signal?: AbortSignal; timeoutMs?: number } = {},
): Promise<string[]> {
  if (pool.engine === 'postgres') {
    // to_regclass resolves a quoted name like the server does and never raises for absence.
    const r = await pool.query(
      'SELECT i AS i, to_regclass(t) IS NOT NULL AS present FROM unnest($1::text[]) WITH ORDINALITY AS u(t, i)',
      { params: [tables.map((t) => quoteTable('postgres', t))], ...options },
    );
    return r.rows.filter((row) => row.present !== true).map((row) => tables[Number(row.i) - 1] ?? '');
  }
  const missing: string[] = [];
  for (const name of tables) {
    const { schema, table } = splitTableName(name, pool.engine);
    const r = await pool.query(
      'SELECT COUNT(*) AS n FROM information_schema.tables WHERE table_schema = COALESCE(?, DATABASE()) AND table_name = ?',
      { params: [schema ?? null, table], ...options },
    );
    if (toBigInt(r.rows[0]?.n) === 0n) missing.push(name);
  }
  return missing;
}

/** Rows in `table`, counted only up to `limit` (an existence proof, not a scan of a big table). */
export async function countRowsUpTo(
  pool: SqlPool,
  table: string,
  limit: number,
  options: { signal?: AbortSignal; timeoutMs?: number } = {},
): Promise<bigint> {
  const bounded = `(SELECT 1 AS x FROM ${quoteTable(pool.engine, table)} LIMIT ${Math.max(1, Math.floor(limit))}) AS rv_bounded`;
  return countOf(pool, table, bounded, options);
}

function tablesCheck<F>(c: CheckOptions<typeof tablesKind>, env: SqlCheckEnv, timeoutMs?: number) {
  const minRows = c.minRows ?? 1;
  return profileCheck<F>(c, timeoutMs, async (signal) => {
    const pool = await restored(env);
    const missing = await missingTables(pool, c.tables, { signal, timeoutMs });
    const present = c.tables.filter((t) => !missing.includes(t));
    const counts = await Promise.all(
      present.map(async (t) => ({
        table: t,
        rows: await countRowsUpTo(pool, t, Math.max(1, minRows), { signal, timeoutMs }),
      })),
    );
    const empty = counts.filter((x) => x.rows === 0n).map((x) => x.table);
    const short = counts.filter((x) => x.rows < BigInt(minRows));
    const problems = [
      ...(missing.length
        ? [`missing table${missing.length > 1 ? 's' : ''}: ${missing.join(', ')} (of ${c.tables.length})`]
        : []),
      ...short.map((x) =>
        x.rows === 0n
          ? `${x.table}: exists, 0 rows (min ${minRows})`
          : `${x.table}: exists, ${x.rows} rows (min ${minRows})`,
      ),
    ];
    const data = { missing, empty };
    if (problems.length) return fail(problems.join('; '), data);
    return pass(
      `all ${c.tables.length} tables exist${
        minRows > 0
          ? ` with at least ${minRows} row${minRows === 1 ? '' : 's'}`
          : empty.length
            ? ` (${empty.map((t) => `${t}: exists, 0 rows`).join('; ')})`
            : ''
      }`,
      data,
    );
  });
}

/** count(*) of a table as a BigInt. */
export async function countRows(
  pool: SqlPool,
  table: string,
  options: { signal?: AbortSignal; timeoutMs?: number } = {},
): Promise<bigint> {
  return countOf(pool, table, quoteTable(pool.engine, table), options);
}

/** `SELECT COUNT(*) … FROM from` as a BigInt; `table` names what was counted when the answer is not one. */
async function countOf(
  pool: SqlPool,
  table: string,
  from: string,
  options: { signal?: AbortSignal; timeoutMs?: number },
): Promise<bigint> {
  const r = await pool.query(`SELECT COUNT(*) AS n FROM ${from}`, options);
  const n = toBigInt(r.rows[0]?.n);
  if (n === undefined) throw new SqlStatementError(`count of ${table} is not an integer`);
  return n;
}

function rowCountsCheck<F>(c: CheckOptions<typeof rowCountsKind>, env: SqlCheckEnv, timeoutMs?: number) {
  return profileCheck<F>(c, timeoutMs, async (signal) => {
    if (!env.session.hasSource)
      return errored('rowCounts needs a source database: set connection.source in the profile');
    const pool = await restored(env);
    let source: SqlPool;
    try {
      source = await env.session.source();
    } catch (err) {
      return errored(reasonOf(err));
    }
    const tol = toDecimal(String(c.rowCounts.tolerancePercent)) ?? { digits: 0n, scale: 0 };
    const counts = await Promise.all(
      c.rowCounts.tables.map(async (t) => {
        const [restoredCount, sourceCount] = await Promise.all([
          countRows(pool, t, { signal, timeoutMs }),
          countRows(source, t, { signal, timeoutMs }).catch((err: unknown) => {
            throw new SqlStatementError(`source: ${reasonOf(err)}`);
          }),
        ]);
        return { table: t, restored: restoredCount, source: sourceCount };
      }),
    );
    const off: string[] = [];
    for (const { table, restored: r, source: s } of counts) {
      const diff = r > s ? r - s : s - r;
      // diff ≤ source × tolerance / 100, exactly: diff × 100 × 10^scale ≤ source × tolDigits
      const within =
        compareDecimal({ digits: diff * 100n, scale: 0 }, { digits: s * tol.digits, scale: tol.scale }) <= 0;
      if (!within)
        off.push(
          `${table}: ${r} rows restored, ${s} in the source (differs by ${diff}, tolerance ${c.rowCounts.tolerancePercent}%)`,
        );
    }
    const data = {
      counts: counts.map((x) => ({
        table: x.table,
        restored: x.restored.toString(),
        source: x.source.toString(),
      })),
    };
    return off.length
      ? fail(off.join('; '), data)
      : pass(`${counts.length} table row counts within ${c.rowCounts.tolerancePercent}% of the source`, data);
  });
}

/**
 * Turns the profile's SQL checks into CheckDefinitions, preceded by the `login` check. Returns the
 * ids handled so the validator can hand any other kind to the generic implementations.
 */
export function buildSqlChecks<F>(
  profileChecks: readonly CheckConfig[],
  env: SqlCheckEnv,
): { checks: CheckDefinition<F>[]; handled: Set<string> } {
  const handled = new Set<string>();
  const checks: CheckDefinition<F>[] = [loginCheck<F>(env)];
  let worstAge: number | undefined;
  const recordAge = (minutes: number) => {
    worstAge = worstAge === undefined ? minutes : Math.max(worstAge, minutes);
    env.note?.('dataAgeMinutes', worstAge);
  };
  for (const c of profileChecks) {
    const timeoutMs = typeof c.timeoutSeconds === 'number' ? c.timeoutSeconds * 1000 : undefined;
    let def: CheckDefinition<F> | undefined;
    if (c.kind === 'sql') def = sqlCheck<F>(optionsOf(sqlKind, c), env, timeoutMs);
    else if (c.kind === 'freshness')
      def = freshnessCheck<F>(optionsOf(freshnessKind, c), env, timeoutMs, recordAge);
    else if (c.kind === 'tables') def = tablesCheck<F>(optionsOf(tablesKind, c), env, timeoutMs);
    else if (c.kind === 'rowCounts') def = rowCountsCheck<F>(optionsOf(rowCountsKind, c), env, timeoutMs);
    if (def) {
      checks.push(def);
      handled.add(c.id);
    }
  }
  const ids = new Set(profileChecks.map((c) => c.id));
  for (const d of depthChecks<F>(env.session, env.depth ?? false, () => restored(env), ids))
    checks.push({ ...d, run: (f, ctx) => guarded(async () => d.run(f, ctx)) });
  return { checks, handled };
}

/** True when the profile has at least one SQL check kind. */
export const hasSqlChecks = (checks: readonly CheckConfig[] | undefined): boolean =>
  (checks ?? []).some((c) => (SQL_CHECK_KINDS as readonly string[]).includes(c.kind));

/**
 * Read-only connection pools for PostgreSQL (`pg`) and MySQL/MariaDB (`mysql2`).
 *
 * Defence in depth against a check that writes: (0) a statement that is not one plain read is
 * refused before it is sent (statement-guard.ts: COPY, INTO OUTFILE, dblink_exec, … act outside any
 * transaction); (1) every statement runs alone in a READ ONLY
 * transaction that is rolled back afterwards; (2) the session default is read-only too, so an
 * implicit commit (MySQL DDL) or a smuggled COMMIT cannot escape into a writable transaction;
 * (3) one statement per call — `pg` uses the extended protocol, which rejects `a; b`, and mysql2
 * runs with `multipleStatements: false`; (4) a statement timeout on the server. Operators should
 * still give the validation user read-only grants.
 *
 * Values keep their exact form: bigint/numeric as strings, timestamps and dates as text (so the
 * process's time zone never shifts them; see time.ts).
 */
import type { Connection as CallbackConnection } from 'mysql2';
import mysql from 'mysql2/promise';
import pg from 'pg';
import { RestoreValidationError, reasonOf } from '../errors';
import { explainConnectError } from './errors';
import { assertReadOnlyStatement, UnsafeStatementError } from './statement-guard';
import { tlsConnectOptions } from './tls';
import type { ColumnKind, QueryOptions, QueryResult, SqlEndpoint, SqlPool, SqlRow } from './types';

const DEFAULT_STATEMENT_TIMEOUT_MS = 30_000;
const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;

/** A connection failure with the likely cause already spelled out. */
export class SqlConnectError extends RestoreValidationError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'SqlConnectError';
  }
}

/**
 * Whose problem a failed statement is: `refused` (the check tried to write or act outside the
 * read-only transaction), `config` (the check's SQL is invalid or the validation user lacks a grant:
 * fix the profile or the user), or `restore` (the restored database cannot answer it: missing
 * relation, timeout, bad data).
 */
export type StatementProblem = 'refused' | 'config' | 'restore';

/** A statement that failed on the server or was refused before it was sent. */
export class SqlStatementError extends RestoreValidationError {
  readonly code?: string;
  readonly problem: StatementProblem;
  constructor(message: string, code?: string, options?: ErrorOptions & { problem?: StatementProblem }) {
    super(message, options);
    this.name = 'SqlStatementError';
    this.code = code;
    this.problem = options?.problem ?? 'restore';
  }
}

/** Refuses `sql` before it is sent unless it is one read-only query (statement-guard.ts). */
function guardStatement(sql: string, engine: SqlEndpoint['engine']): void {
  try {
    assertReadOnlyStatement(sql, engine);
  } catch (err) {
    if (err instanceof UnsafeStatementError)
      throw new SqlStatementError(`refused before running: ${err.message}`, 'RV_REFUSED', {
        problem: 'refused',
      });
    throw err;
  }
}

// Values from rows can appear in a driver's data-exception text ('invalid input syntax for type
// integer: "<value>"', MySQL 'Truncated incorrect DOUBLE value: '<value>''): quoted parts of such
// messages are removed before they reach a verdict, a log or the evidence.
const QUOTED = /'(?:[^'\\]|''|\\.)*'|"(?:[^"\\]|""|\\.)*"/g;

/**
 * A driver error's text without row data: for data exceptions (SQLSTATE class 22) and integrity
 * violations (class 23) every quoted part is replaced by `"…"`; other messages name only
 * identifiers and the check's own SQL and are kept. Cut to 500 characters.
 */
export function redactDriverMessage(message: string, sqlState: string | undefined): string {
  const dataBearing = sqlState !== undefined && /^(22|23)/.test(sqlState);
  const text = dataBearing ? message.replace(QUOTED, '"…"') : message;
  return text.length > 500 ? `${text.slice(0, 499)}…` : text;
}

/** Opens a pool for the endpoint's engine. Nothing connects until the first probe or query. */
export function createSqlPool(endpoint: SqlEndpoint): SqlPool {
  return endpoint.engine === 'postgres' ? new PgPool(endpoint) : new MysqlPool(endpoint);
}

const effectiveTimeout = (endpoint: SqlEndpoint, options?: QueryOptions): number => {
  const base = endpoint.statementTimeoutMs ?? DEFAULT_STATEMENT_TIMEOUT_MS;
  return Math.max(1, Math.floor(options?.timeoutMs ? Math.min(base, options.timeoutMs) : base));
};

const CLOSE_WAIT_MS = 5_000;

/** Waits for a pool to end, but not for ever: clean-up must finish even if a connection hangs. */
async function bounded(ending: Promise<unknown>): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    ending.catch(() => undefined),
    new Promise<void>((r) => {
      timer = setTimeout(r, CLOSE_WAIT_MS);
      timer.unref();
    }),
  ]);
  clearTimeout(timer);
}

const publicEndpoint = (e: SqlEndpoint) => ({
  host: e.host,
  port: e.port,
  database: e.database,
  user: e.user,
  credentialSource: e.credentialSource,
});

// Date/time types (date, timestamp, timestamptz, time, timetz) stay text: see time.ts.
const PG_TEXT_TYPES = new Set([1082, 1114, 1184, 1083, 1266]);
const pgTypes = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    PG_TEXT_TYPES.has(oid)
      ? (v: string) => v
      : pg.types.getTypeParser(oid, format as 'text')) as typeof pg.types.getTypeParser,
};

class PgPool implements SqlPool {
  readonly engine = 'postgres' as const;
  readonly endpoint;
  readonly #pool: pg.Pool;
  readonly #config: SqlEndpoint;

  constructor(e: SqlEndpoint) {
    this.#config = e;
    this.endpoint = publicEndpoint(e);
    const ssl = tlsConnectOptions(e.tls, e.host);
    this.#pool = new pg.Pool({
      host: e.host,
      port: e.port,
      database: e.database,
      user: e.user,
      password: e.password,
      ssl: ssl ?? false,
      max: Math.max(1, e.poolSize ?? 4),
      connectionTimeoutMillis: e.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS,
      idleTimeoutMillis: 10_000,
      // No query_timeout: pg would then give every query a callback and collect its rows (see
      // pgStream); query() has its own backstop instead.
      application_name: 'restore-validation',
      // Startup parameters: read-only by default, UTC, ISO dates (a parameter group may set another DateStyle).
      // standard_conforming_strings=on: backslashes in '…' are literal, as the statement guard reads them.
      options:
        '-c default_transaction_read_only=on -c standard_conforming_strings=on -c TimeZone=UTC -c DateStyle=ISO,MDY',
      types: pgTypes,
    });
    // An idle client that errors (server restart) must not crash the process.
    this.#pool.on('error', () => undefined);
  }

  async #connect(): Promise<pg.PoolClient> {
    try {
      return await this.#pool.connect();
    } catch (err) {
      throw new SqlConnectError(explainConnectError(err, this.#config), { cause: err });
    }
  }

  async probe(): Promise<{ serverVersion: string }> {
    const client = await this.#connect();
    try {
      const r = await client.query<{ server_version: string }>('SHOW server_version');
      return { serverVersion: r.rows[0]?.server_version ?? '' };
    } finally {
      client.release();
    }
  }

  async query(sql: string, options?: QueryOptions): Promise<QueryResult> {
    if (options?.signal?.aborted) throw new SqlStatementError('not run: aborted');
    guardStatement(sql, this.engine);
    const client = await this.#connect();
    let broken: Error | undefined;
    const onAbort = () => {
      // The server-side statement_timeout ends the statement; the client is discarded, not reused.
      broken = new Error('aborted');
    };
    options?.signal?.addEventListener('abort', onAbort, { once: true });
    // Client-side backstop a little after the server's statement_timeout (a hung network): the
    // connection is cut, which fails whatever is pending on it.
    let hung = false;
    const backstop = setTimeout(() => {
      hung = true;
      broken = new Error('no answer from the server');
      (client as unknown as { connection?: { stream?: { destroy(): void } } }).connection?.stream?.destroy();
    }, effectiveTimeout(this.#config, options) + 5_000);
    backstop.unref();
    try {
      // One round trip for both; simple protocol allows two statements here (our text, no parameters).
      await client.query(
        `BEGIN READ ONLY; SET LOCAL statement_timeout = ${effectiveTimeout(this.#config, options)}`,
      );
      try {
        return await pgStream(client, sql, options);
      } catch (err) {
        if (hung)
          throw new SqlStatementError('statement timed out (no answer from the server)', 'RV_HUNG', {
            cause: err,
          });
        throw pgStatementError(err);
      } finally {
        await client.query('ROLLBACK').catch((err: Error) => {
          broken = err;
        });
      }
    } finally {
      clearTimeout(backstop);
      options?.signal?.removeEventListener('abort', onAbort);
      client.release(broken);
    }
  }

  async close(): Promise<void> {
    await bounded(this.#pool.end());
  }
}

// SQLSTATEs that mean the check (or the validation user), not the restore, is wrong.
const PG_CONFIG_STATES = new Set(['42601', '42501', '42804', '42P18', '42725', '42803']);

// PostgreSQL type OIDs: int8, int2, int4, oid, float4, float8, numeric, money; text-like; timestamptz.
const PG_NUMBER = new Set([20, 21, 23, 26, 700, 701, 1700, 790]);
const PG_TEXT = new Set([25, 1042, 1043, 18, 19, 142, 114, 3802]);
const pgKind = (oid: number): ColumnKind =>
  PG_NUMBER.has(oid) ? 'number' : PG_TEXT.has(oid) ? 'text' : oid === 1184 ? 'instant' : 'other';

/** Runs one statement, keeping at most `maxRows` rows and counting the rest as they stream by. */
function pgStream(client: pg.PoolClient, sql: string, options?: QueryOptions): Promise<QueryResult> {
  const keep = options?.maxRows ?? Number.POSITIVE_INFINITY;
  return new Promise((resolve, reject) => {
    const rows: SqlRow[] = [];
    let count = 0;
    const q = new pg.Query({
      text: sql,
      values: options?.params ? [...options.params] : undefined,
      queryMode: 'extended',
      types: pgTypes,
    } as pg.QueryConfig);
    // A 'row' listener and no callback: pg does not accumulate the rows itself.
    q.on('row', (row: SqlRow) => {
      count++;
      if (rows.length < keep) rows.push(row);
    });
    q.on('error', reject);
    q.on('end', (result: pg.QueryResult) => {
      const fields = result?.fields ?? [];
      resolve({
        rows,
        rowCount: count,
        columns: fields.map((f) => f.name),
        columnKinds: fields.map((f) => pgKind(f.dataTypeID)),
      });
    });
    client.query(q as unknown as pg.QueryConfig);
  });
}

function pgStatementError(err: unknown): SqlStatementError {
  const e = err as { code?: string; message?: string };
  if (e.code === '57014')
    return new SqlStatementError('statement timed out (canceled by statement_timeout)', e.code, {
      cause: err,
    });
  const message = redactDriverMessage(reasonOf(err), e.code);
  if (e.code === '25006')
    return new SqlStatementError(`write refused: ${message} (checks run read-only)`, e.code, {
      cause: err,
      problem: 'refused',
    });
  if (e.code && PG_CONFIG_STATES.has(e.code))
    return new SqlStatementError(configReason(message, e.code), e.code, { cause: err, problem: 'config' });
  return new SqlStatementError(message, e.code, { cause: err });
}

/** The reason for a statement the check got wrong, with the fix. */
function configReason(message: string, code: string): string {
  if (code === '42501' || code === 'ER_TABLEACCESS_DENIED_ERROR' || code === 'ER_COLUMNACCESS_DENIED_ERROR')
    return `${message}: grant the validation user SELECT on it in the source database (docs/databases.md, "The validation user")`;
  return `the check's SQL is invalid (${message}): fix the statement in the profile`;
}

interface MysqlConn extends mysql.PoolConnection {
  __rvFlavor?: 'mysql' | 'mariadb';
}

class MysqlPool implements SqlPool {
  readonly engine;
  readonly endpoint;
  readonly #config: SqlEndpoint;
  #pool: Promise<mysql.Pool> | undefined;

  constructor(e: SqlEndpoint) {
    this.engine = e.engine;
    this.#config = e;
    this.endpoint = publicEndpoint(e);
  }

  /** The pool is made on first use: an IAM token is minted just before the first connection. */
  #getPool(): Promise<mysql.Pool> {
    this.#pool ??= (async () => {
      const e = this.#config;
      const password = typeof e.password === 'function' ? await e.password() : e.password;
      const pool = mysql.createPool({
        host: e.host,
        port: e.port,
        database: e.database,
        user: e.user,
        password,
        ssl: tlsConnectOptions(e.tls, e.host),
        connectionLimit: Math.max(1, e.poolSize ?? 4),
        connectTimeout: e.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS,
        supportBigNumbers: true,
        bigNumberStrings: true,
        decimalNumbers: false,
        dateStrings: true,
        multipleStatements: false,
        timezone: 'Z',
        // IAM auth tokens are sent with mysql_clear_password (TLS is required for IAM anyway).
        authPlugins: { mysql_clear_password: () => () => Buffer.from(`${password ?? ''}\0`) },
      });
      // Errors on idle connections must not crash the process.
      pool.on('connection', (conn) => conn.on('error', () => undefined));
      return pool;
    })();
    return this.#pool;
  }

  async #connect(): Promise<MysqlConn> {
    let conn: MysqlConn;
    try {
      conn = (await (await this.#getPool()).getConnection()) as MysqlConn;
    } catch (err) {
      throw new SqlConnectError(explainConnectError(err, this.#config), { cause: err });
    }
    if (!conn.__rvFlavor) {
      try {
        const [rows] = await conn.query<mysql.RowDataPacket[]>('SELECT VERSION() AS v');
        conn.__rvFlavor = /mariadb/i.test(String(rows[0]?.v ?? '')) ? 'mariadb' : 'mysql';
        // Session defaults: read-only (survives implicit commits) and UTC for TIMESTAMP columns.
        await conn.query('SET SESSION TRANSACTION READ ONLY');
        await conn.query("SET SESSION time_zone = '+00:00'");
      } catch (err) {
        conn.destroy();
        throw new SqlConnectError(explainConnectError(err, this.#config), { cause: err });
      }
    }
    return conn;
  }

  async probe(): Promise<{ serverVersion: string }> {
    const conn = await this.#connect();
    try {
      const [rows] = await conn.query<mysql.RowDataPacket[]>('SELECT VERSION() AS v');
      return { serverVersion: String(rows[0]?.v ?? '') };
    } finally {
      conn.release();
    }
  }

  async query(sql: string, options?: QueryOptions): Promise<QueryResult> {
    if (options?.signal?.aborted) throw new SqlStatementError('not run: aborted');
    guardStatement(sql, this.engine);
    const conn = await this.#connect();
    const timeoutMs = effectiveTimeout(this.#config, options);
    let broken = false;
    const onAbort = () => {
      broken = true;
    };
    options?.signal?.addEventListener('abort', onAbort, { once: true });
    try {
      // MariaDB: max_statement_time (seconds, any statement); MySQL: max_execution_time (ms, SELECT).
      // The session's read-only default is re-asserted every time: an earlier check on this pooled
      // connection may have run `SET SESSION TRANSACTION READ WRITE`, and DDL's implicit commit would
      // then run writable.
      if (conn.__rvFlavor === 'mariadb') {
        await conn.query(
          `SET SESSION max_statement_time = ${(timeoutMs / 1000).toFixed(3)}, tx_read_only = 1`,
        );
      } else {
        // Separate statements: `transaction_read_only` is unknown before MySQL 5.7.20 (Aurora MySQL 2).
        await conn.query('SET SESSION TRANSACTION READ ONLY');
        await conn.query(`SET SESSION max_execution_time = ${timeoutMs}`);
      }
      await conn.query('START TRANSACTION READ ONLY');
      try {
        return await mysqlStream(conn, sql, options, timeoutMs);
      } catch (err) {
        throw mysqlStatementError(err);
      } finally {
        await conn.query('ROLLBACK').catch(() => {
          broken = true;
        });
      }
    } catch (err) {
      if (!(err instanceof SqlStatementError)) broken = true;
      throw err instanceof SqlStatementError ? err : mysqlStatementError(err);
    } finally {
      options?.signal?.removeEventListener('abort', onAbort);
      if (broken) conn.destroy();
      else conn.release();
    }
  }

  async close(): Promise<void> {
    const pool = this.#pool;
    this.#pool = undefined;
    const p = pool ? await pool.catch(() => undefined) : undefined;
    if (p) await bounded(p.end());
  }
}

// mysql2 column types: DECIMAL, TINY, SHORT, LONG, FLOAT, DOUBLE, LONGLONG, INT24, YEAR, NEWDECIMAL;
// VARCHAR, VAR_STRING, STRING (CHAR) — BLOB types may hold binary and stay `other`; TIMESTAMP.
const MYSQL_NUMBER = new Set([0, 1, 2, 3, 4, 5, 8, 9, 13, 246]);
const MYSQL_TEXT = new Set([15, 253, 254]);
const mysqlKind = (type: number | undefined): ColumnKind =>
  type === undefined
    ? 'other'
    : MYSQL_NUMBER.has(type)
      ? 'number'
      : MYSQL_TEXT.has(type)
        ? 'text'
        : type === 7
          ? 'instant'
          : 'other';

/** Runs one statement, keeping at most `maxRows` rows and counting the rest as they stream by. */
function mysqlStream(
  conn: MysqlConn,
  sql: string,
  options: QueryOptions | undefined,
  timeoutMs: number,
): Promise<QueryResult> {
  const keep = options?.maxRows ?? Number.POSITIVE_INFINITY;
  return new Promise((resolve, reject) => {
    const rows: SqlRow[] = [];
    let count = 0;
    let fields: Array<{ name: string; columnType?: number; type?: number }> | undefined;
    let failed = false;
    // The callback connection: without a callback, mysql2 emits rows instead of collecting them.
    // The client-side timeout is a backstop a little after the server's (a hung network).
    const q = (conn.connection as unknown as CallbackConnection).query({
      sql,
      values: options?.params ? [...options.params] : undefined,
      timeout: timeoutMs + 5_000,
    });
    q.on('error', (err: unknown) => {
      failed = true;
      reject(err);
    });
    q.on('fields', (f: typeof fields) => {
      fields = f;
    });
    q.on('result', (row: unknown) => {
      if (!fields) return; // an OK packet (no result set)
      count++;
      if (rows.length < keep) rows.push(row as SqlRow);
    });
    q.on('end', () => {
      if (failed) return;
      if (!fields) {
        reject(new SqlStatementError('the statement returned no result set (checks must be queries)'));
        return;
      }
      resolve({
        rows,
        rowCount: count,
        columns: fields.map((f) => f.name),
        columnKinds: fields.map((f) => mysqlKind(f.columnType ?? f.type)),
      });
    });
  });
}

function mysqlStatementError(err: unknown): SqlStatementError {
  if (err instanceof SqlStatementError) return err;
  const e = err as { code?: string; errno?: number; message?: string };
  // 1969 ER_STATEMENT_TIMEOUT (MariaDB), 3024 ER_QUERY_TIMEOUT (MySQL), PROTOCOL_SEQUENCE_TIMEOUT (client backstop)
  if (e.errno === 1969 || e.errno === 3024 || e.code === 'PROTOCOL_SEQUENCE_TIMEOUT') {
    return new SqlStatementError('statement timed out (max statement time exceeded)', e.code, { cause: err });
  }
  const message = redactDriverMessage(reasonOf(err), (err as { sqlState?: string }).sqlState);
  // 1792 ER_CANT_EXECUTE_IN_READ_ONLY_TRANSACTION
  if (e.errno === 1792)
    return new SqlStatementError(`write refused: ${message} (checks run read-only)`, e.code, {
      cause: err,
      problem: 'refused',
    });
  // 1064 ER_PARSE_ERROR, 1149 ER_SYNTAX_ERROR, 1142/1143 table/column access denied
  if (e.errno === 1064 || e.errno === 1149 || e.errno === 1142 || e.errno === 1143)
    return new SqlStatementError(configReason(message, e.code ?? ''), e.code, {
      cause: err,
      problem: 'config',
    });
  return new SqlStatementError(message, e.code, { cause: err });
}

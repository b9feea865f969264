/**
 * Refuses, before it is sent, a check's SQL that could write or act outside the read-only
 * transaction. A read-only transaction stops INSERT/UPDATE/DDL, but not what happens beside it:
 * `COPY … TO PROGRAM`, `lo_export`, `dblink_exec` (a new connection, writable, to any host), MySQL
 * `INTO OUTFILE`, `SET GLOBAL`, a procedure that commits, `pg_terminate_backend`, `pg_reload_conf`,
 * `CHECKPOINT`, advisory locks. So a check's statement must be exactly one `SELECT` (or
 * `WITH … SELECT`, or a parenthesised one), without `INTO`, `COPY`, data-modifying words or row
 * locks, and without calls of the functions in {@link DENIED_FUNCTIONS}.
 *
 * The guard lexes the text as the server would (strings, quoted identifiers, dollar quotes, nested
 * PostgreSQL comments, MySQL `#` and `-- ` comments) and refuses MySQL's executable comments
 * (`/*! … *\/`), which the server runs. Whether a backslash escapes a quote depends on MySQL's
 * `NO_BACKSLASH_ESCAPES` and `"…"` is a name without escapes under `ANSI_QUOTES`, so MySQL text is
 * lexed in each of the three readings these allow and must pass all of them (PostgreSQL sessions
 * are pinned to `standard_conforming_strings=on`). It is an allow-list of statement shape, not a sandbox: a user-defined function can
 * still do anything its owner may, which is why the validation user must hold only SELECT grants
 * (docs/databases.md, "The validation user").
 */
import type { SqlEngine } from './types';

/** A statement the guard refused; the message names what was refused and the fix. */
export class UnsafeStatementError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UnsafeStatementError';
  }
}

type Token =
  | { kind: 'word'; text: string }
  | { kind: 'quoted'; text: string }
  | { kind: 'string' }
  | { kind: 'punct'; text: string }
  | { kind: 'other' };

/** Words that make a statement more than a read: writes, file/program access, locks, procedures. */
const DENIED_WORDS = new Set([
  'into',
  'copy',
  'insert',
  'update',
  'delete',
  'merge',
  'lock',
  'procedure',
  'outfile',
  'dumpfile',
]);

/**
 * Functions that act outside the transaction or the database: server files and programs, other
 * connections, other sessions, server configuration, locks, sequences, and SQL-from-text
 * evaluators that would reach any of these. Entries ending in `*` are prefixes.
 */
export const DENIED_FUNCTIONS: readonly string[] = [
  // PostgreSQL: other sessions and the server
  'pg_terminate_backend',
  'pg_cancel_backend',
  'pg_reload_conf',
  'pg_rotate_logfile',
  'pg_promote',
  'pg_switch_wal',
  'pg_create_restore_point',
  'pg_log_backend_memory_contexts',
  'pg_import_system_collations',
  'pg_stat_reset*',
  'pg_backup_*',
  'pg_start_backup',
  'pg_stop_backup',
  'pg_wal_*',
  'pg_create_*',
  'pg_drop_*',
  'pg_replication_*',
  'pg_logical_*',
  'pg_copy_*',
  'pg_notify',
  'set_config',
  // PostgreSQL: locks
  'pg_advisory*',
  'pg_try_advisory*',
  // PostgreSQL: server files and large objects
  'lo_*',
  'lowrite',
  'loread',
  'pg_read_file',
  'pg_read_binary_file',
  'pg_ls_*',
  'pg_stat_file',
  'pg_file_*',
  'pg_logdir_ls',
  // PostgreSQL extensions that change data or state outside the transaction: pg_surgery,
  // pg_visibility, pg_stat_statements
  'heap_force_*',
  'pg_truncate_visibility_map',
  'pg_stat_statements_reset',
  // PostgreSQL: other connections (dblink, postgres_fdw helpers)
  'dblink*',
  'postgres_fdw_*',
  // PostgreSQL: SQL given as text is run by these, past this guard
  'query_to_xml*',
  'query_to_xmlschema',
  'cursor_to_xml*',
  'database_to_xml*',
  'schema_to_xml*',
  'ts_stat',
  // sequences (write even in a read-only transaction on MariaDB; refused anyway on PostgreSQL)
  'nextval',
  'setval',
  // MySQL / MariaDB: locks, files, programs (lib_mysqludf_sys), replication waits
  'get_lock',
  'release_lock',
  'release_all_locks',
  'load_file',
  'sys_exec',
  'sys_eval',
  'sys_get',
  'sys_set',
  'master_pos_wait',
  'source_pos_wait',
  'master_gtid_wait',
];

const DENIED_EXACT = new Set(DENIED_FUNCTIONS.filter((f) => !f.endsWith('*')));
const DENIED_PREFIXES = DENIED_FUNCTIONS.filter((f) => f.endsWith('*')).map((f) => f.slice(0, -1));

const isDeniedFunction = (name: string): boolean =>
  DENIED_EXACT.has(name) || DENIED_PREFIXES.some((p) => name.startsWith(p));

const WORD_START = /[A-Za-z_\u0080-\uffff]/;
const WORD_CHAR = /[A-Za-z0-9_$\u0080-\uffff]/;

/**
 * Tokens of `sql` as `engine` reads it. `backslashEscapes` says whether a backslash escapes the
 * next character inside ordinary string literals (MySQL's default; PostgreSQL only in `E'…'`);
 * `doubleQuoteEscapes` the same inside MySQL `"…"`, which ANSI_QUOTES turns into a name that takes
 * no escapes.
 */
function lex(
  sql: string,
  engine: SqlEngine,
  backslashEscapes: boolean,
  doubleQuoteEscapes = backslashEscapes,
): Token[] {
  const mysql = engine !== 'postgres';
  const out: Token[] = [];
  let i = 0;
  const n = sql.length;
  const readQuoted = (quote: string, escapes: boolean): void => {
    i++;
    for (;;) {
      if (i >= n) throw new UnsafeStatementError('the statement has an unterminated quote');
      const c = sql[i];
      if (escapes && c === '\\') {
        i += 2;
        continue;
      }
      if (c === quote) {
        if (sql[i + 1] === quote) {
          i += 2;
          continue;
        }
        i++;
        return;
      }
      i++;
    }
  };
  while (i < n) {
    const c = sql[i] as string;
    const next = sql[i + 1];
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    // Comments
    const dashComment = c === '-' && next === '-' && (!mysql || i + 2 >= n || sql.charCodeAt(i + 2) <= 32);
    if (dashComment || (mysql && c === '#')) {
      while (i < n && sql[i] !== '\n') i++;
      continue;
    }
    if (c === '/' && next === '*') {
      if (mysql && /^\/\*(!|M!)/.test(sql.slice(i, i + 4)))
        throw new UnsafeStatementError(
          'the statement has a MySQL executable comment (/*! … */), which the server runs: remove it',
        );
      let depth = 1;
      i += 2;
      while (depth > 0) {
        if (i >= n) throw new UnsafeStatementError('the statement has an unterminated comment');
        if (sql[i] === '*' && sql[i + 1] === '/') {
          depth--;
          i += 2;
        } else if (!mysql && sql[i] === '/' && sql[i + 1] === '*') {
          depth++;
          i += 2;
        } else i++;
      }
      continue;
    }
    // String literals (PostgreSQL E'…' always takes backslash escapes)
    if (!mysql && (c === 'E' || c === 'e') && next === "'") {
      i++;
      readQuoted("'", true);
      out.push({ kind: 'string' });
      continue;
    }
    if (c === "'") {
      readQuoted("'", backslashEscapes);
      out.push({ kind: 'string' });
      continue;
    }
    // PostgreSQL U&"…": the server decodes escapes (U&"\0070g_reload_conf"), the deny-list would not.
    if (!mysql && (c === 'U' || c === 'u') && next === '&' && sql[i + 2] === '"')
      throw new UnsafeStatementError(
        'Unicode-escaped identifiers (U&"…") are not allowed in a check: write the name plainly',
      );
    if (c === '"') {
      const start = i;
      // MySQL: a string (or an identifier under ANSI_QUOTES); PostgreSQL: an identifier.
      readQuoted('"', mysql && doubleQuoteEscapes);
      out.push({ kind: 'quoted', text: sql.slice(start + 1, i - 1).replaceAll('""', '"') });
      continue;
    }
    if (mysql && c === '`') {
      const start = i;
      readQuoted('`', false);
      out.push({ kind: 'quoted', text: sql.slice(start + 1, i - 1).replaceAll('``', '`') });
      continue;
    }
    // PostgreSQL dollar quoting: $tag$ … $tag$ ($1 is a parameter)
    if (!mysql && c === '$') {
      const m = /^\$([A-Za-z_\u0080-\uffff][A-Za-z0-9_\u0080-\uffff]*)?\$/.exec(sql.slice(i));
      if (m) {
        const tag = m[0];
        const end = sql.indexOf(tag, i + tag.length);
        if (end < 0) throw new UnsafeStatementError('the statement has an unterminated dollar quote');
        i = end + tag.length;
        out.push({ kind: 'string' });
        continue;
      }
    }
    if (WORD_START.test(c)) {
      const start = i;
      while (i < n && WORD_CHAR.test(sql[i] as string)) i++;
      out.push({ kind: 'word', text: sql.slice(start, i).toLowerCase() });
      continue;
    }
    if (c === ';' || c === '(' || c === ')' || c === '.') {
      out.push({ kind: 'punct', text: c });
      i++;
      continue;
    }
    out.push({ kind: 'other' });
    i++;
  }
  return out;
}

function checkTokens(tokens: readonly Token[]): void {
  const semicolon = tokens.findIndex((t) => t.kind === 'punct' && t.text === ';');
  if (semicolon >= 0 && semicolon < tokens.length - 1)
    throw new UnsafeStatementError(
      'give exactly one statement: the text has more than one (a ";" inside it)',
    );
  const body = semicolon >= 0 ? tokens.slice(0, semicolon) : tokens;
  const first = body.find((t) => !(t.kind === 'punct' && t.text === '('));
  if (!first) throw new UnsafeStatementError('the statement is empty');
  if (first.kind !== 'word' || (first.text !== 'select' && first.text !== 'with'))
    throw new UnsafeStatementError(
      `only SELECT (or WITH … SELECT) may run, the statement starts with ${first.kind === 'word' ? first.text.toUpperCase() : 'something else'}`,
    );
  for (let k = 0; k < body.length; k++) {
    const t = body[k] as Token;
    const prev = body[k - 1];
    const rowLock =
      t.kind === 'word' &&
      t.text === 'share' &&
      prev?.kind === 'word' &&
      (prev.text === 'for' || prev.text === 'key' || prev.text === 'in');
    // MariaDB `NEXT VALUE FOR seq` advances a sequence, like nextval().
    const sequenceStep =
      t.kind === 'word' && t.text === 'value' && prev?.kind === 'word' && prev.text === 'next';
    if (t.kind === 'word' && (DENIED_WORDS.has(t.text) || rowLock || sequenceStep))
      throw new UnsafeStatementError(
        `${t.text.toUpperCase()} is not allowed in a check (checks only read); quote it if it is a column or table name`,
      );
    const nextToken = body[k + 1];
    if (
      (t.kind === 'word' || t.kind === 'quoted') &&
      nextToken?.kind === 'punct' &&
      nextToken.text === '(' &&
      isDeniedFunction(t.text.toLowerCase())
    )
      throw new UnsafeStatementError(
        `${t.text.toLowerCase()}() is not allowed in a check: it acts outside the read-only transaction`,
      );
  }
}

/**
 * Throws UnsafeStatementError unless `sql` is one read-only query for `engine`. Called before any
 * statement of a check reaches the server.
 */
export function assertReadOnlyStatement(sql: string, engine: SqlEngine): void {
  // PostgreSQL sessions run with standard_conforming_strings=on (connection.ts): one reading.
  if (engine === 'postgres') {
    checkTokens(lex(sql, engine, false));
    return;
  }
  // The server's sql_mode decides: the default (backslash escapes in '…' and "…" strings),
  // NO_BACKSLASH_ESCAPES (none anywhere) or ANSI_QUOTES alone (escapes in '…', "…" a name without).
  const modes: ReadonlyArray<readonly [strings: boolean, doubleQuotes: boolean]> = [
    [true, true],
    [false, false],
    [true, false],
  ];
  const readings = modes.map(([strings, doubleQuotes]) => {
    try {
      return lex(sql, engine, strings, doubleQuotes);
    } catch (err) {
      return err as UnsafeStatementError;
    }
  });
  if (readings.some((r) => r instanceof Error) && !readings.every((r) => r instanceof Error))
    throw new UnsafeStatementError(
      "the statement's quotes read differently under the server's sql_mode settings (NO_BACKSLASH_ESCAPES, ANSI_QUOTES): write a quote inside a string as '' instead of \\', and inside \"…\" as \"\"",
    );
  for (const r of readings) {
    if (r instanceof Error) throw r;
    checkTokens(r);
  }
}

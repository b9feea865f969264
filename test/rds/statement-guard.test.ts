import { describe, expect, it } from 'vitest';
import { assertReadOnlyStatement } from '../../shared/sql/statement-guard';
import type { SqlEngine } from '../../shared/sql/types';

const refused = (sql: string, engine: SqlEngine = 'postgres') => {
  try {
    assertReadOnlyStatement(sql, engine);
    return undefined;
  } catch (err) {
    return (err as Error).message;
  }
};

describe('assertReadOnlyStatement', () => {
  it('lets ordinary queries through when they only read', () => {
    for (const sql of [
      'select count(*) as n from orders',
      'SELECT o.id, sum(i.qty) OVER (PARTITION BY o.id) FROM orders o JOIN items i ON i.order_id = o.id;',
      'with recent as (select * from orders where created_at > now() - interval $$1 day$$) select count(*) from recent',
      '(select 1) union all (select 2)',
      `select 'delete from x; copy' as "into", $1::int as p`,
      'select * from t /* ; drop table t */ where a = 1',
      'select updated_at, deleted, copy_count from t',
    ])
      expect(refused(sql), sql).toBeUndefined();
    expect(refused('select `update` from t where note = "into outfile"', 'mariadb')).toBeUndefined();
    expect(refused("select 'it''s' as a", 'mysql')).toBeUndefined();
    expect(refused("select 'it\\'s' as a", 'mysql')).toContain("as '' instead");
  });

  it('refuses a second statement, another statement kind, and write or file words', () => {
    expect(refused('select 1; delete from t')).toContain('exactly one statement');
    expect(refused('show server_version')).toContain('starts with SHOW');
    expect(refused('explain analyze delete from t')).toContain('starts with EXPLAIN');
    expect(refused('with d as (delete from t returning *) select * from d')).toContain('DELETE');
    expect(refused('select * into copy_of_t from t')).toContain('INTO');
    expect(refused('select * from t for update')).toContain('UPDATE');
    expect(refused('select * from t for key share')).toContain('SHARE');
    expect(refused('select * from t lock in share mode', 'mysql')).toContain('LOCK');
  });

  it('refuses denied functions however they are spelt', () => {
    for (const sql of [
      'select pg_reload_conf()',
      'select "pg_reload_conf"()',
      'select pg_catalog.pg_terminate_backend (1)',
      'select PG_ADVISORY_XACT_LOCK(1)',
      "select query_to_xml('select pg_reload_conf()', true, true, '')",
      "select * from dblink('host=x', 'select 1') as t(a int)",
      "select lo_import('/etc/passwd')",
      "select heap_force_kill('orders'::regclass, array['(0,1)']::tid[])",
      "select pg_truncate_visibility_map('orders')",
      'select pg_stat_statements_reset()',
    ])
      expect(refused(sql), sql).toMatch(/is not allowed in a check/);
    expect(refused("select load_file('/etc/passwd')", 'mariadb')).toContain('load_file()');
  });

  it('reads MySQL text as ANSI_QUOTES does too: "…" a name without escapes, \\\' still escaping in strings', () => {
    // Default and NO_BACKSLASH_ESCAPES readings put the call inside a quote; ANSI_QUOTES runs it.
    const hidden = `SELECT 1 AS "a\\", '\\'' AS y, GET_LOCK(CHAR(114, 118), 0) AS z -- '''\\""`;
    for (const engine of ['mysql', 'mariadb'] as const)
      expect(refused(hidden, engine), engine).toMatch(/GET_LOCK|get_lock\(\)|read differently/);
    expect(refused('select 1 as "a\\"', 'mysql')).toContain('read differently');
    expect(refused('select "a""b" as x', 'mysql')).toBeUndefined();
  });

  it('sees through what hides a word from a naive reader but not from the server', () => {
    // MySQL runs executable comments.
    expect(refused("select 1 /*! into outfile '/tmp/x' */", 'mysql')).toContain('executable comment');
    expect(refused("select 1 /*M! into outfile '/tmp/x' */", 'mariadb')).toContain('executable comment');
    // Under NO_BACKSLASH_ESCAPES the string ends at the second quote and INTO is live.
    expect(refused("select '\\' into outfile '/tmp/x' -- '", 'mysql')).toContain('INTO');
    // MySQL: "--x" is not a comment.
    expect(refused('select 1 --1\n into outfile "/tmp/x"', 'mysql')).toContain('INTO');
    // PostgreSQL nests block comments; MySQL does not.
    expect(refused("select 1 /* /* */ into outfile '/tmp/x' /* */", 'mysql')).toContain('INTO');
    expect(refused('select 1 /* /* */ delete */')).toBeUndefined();
    expect(refused("select 'unterminated")).toContain('unterminated');
    // PostgreSQL decodes U&"\0070g_reload_conf" to pg_reload_conf.
    expect(refused('select U&"\\0070g_reload_conf"()')).toContain('Unicode-escaped identifiers');
    expect(refused("select U&'d\\0061t\\+000061' as s")).toBeUndefined();
    expect(refused('select next value for s', 'mariadb')).toContain('VALUE');
  });
});

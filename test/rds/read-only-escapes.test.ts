/**
 * Statements that a read-only transaction does not stop (issue 20.1): each one wrote a file, ran a
 * program, reached another connection, changed the server or took a lock, and was reported as a
 * pass or a plain fail. Run as superuser / root, so only the statement guard stands in the way.
 */
import { existsSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rdsValidator } from '../../functions/rds/validator';
import { type MariaDb, type Postgres, startMariaDb, startPostgres } from '../support/engines';
import { byId, runLocal } from './support';

let pg: Postgres;
let maria: MariaDb;

beforeAll(async () => {
  [pg, maria] = await Promise.all([startPostgres(), startMariaDb()]);
  pg.psql(`CREATE DATABASE shop;`);
  pg.psql(
    `CREATE TABLE orders (id int); INSERT INTO orders SELECT generate_series(1, 10);
     CREATE EXTENSION dblink;
     SELECT lo_from_bytea(4242, 'secret');`,
    'shop',
  );
  maria.sql(`
    CREATE DATABASE shop;
    CREATE TABLE shop.orders (id int); INSERT INTO shop.orders VALUES (1), (2), (3);
    DELIMITER //
    CREATE PROCEDURE shop.wipe() BEGIN COMMIT; SET SESSION TRANSACTION READ WRITE; START TRANSACTION; DELETE FROM shop.orders; COMMIT; END //
    DELIMITER ;
  `);
  process.env.RV_ESC_PG = pg.password;
  process.env.RV_ESC_MARIA = maria.password;
});

afterAll(async () => {
  await Promise.all([pg?.stop(), maria?.stop()]);
  for (const name of ['program', 'copy', 'lo', 'outfile', 'dumpfile']) rmSync(file(name), { force: true });
});

const pgTarget = () => ({
  engine: 'postgres',
  host: pg.host,
  port: String(pg.port),
  database: 'shop',
  user: 'postgres',
  passwordEnv: 'RV_ESC_PG',
});
const mariaTarget = () => ({
  engine: 'mariadb',
  host: maria.host,
  port: String(maria.port),
  database: 'shop',
  user: 'root',
  passwordEnv: 'RV_ESC_MARIA',
});

const file = (name: string) => join(tmpdir(), `rv-escape-${process.pid}-${name}`);

describe('statements that act outside the read-only transaction', () => {
  it('refuses each PostgreSQL escape before it runs, and none takes effect', async () => {
    const program = file('program');
    const copied = file('copy');
    const exported = file('lo');
    const run = await runLocal(rdsValidator, {
      target: pgTarget(),
      checks: [
        { id: 'copy-program', sql: `COPY (SELECT 1) TO PROGRAM 'touch ${program}'`, rows: { min: 0 } },
        { id: 'copy-file', sql: `COPY orders TO '${copied}'`, rows: { min: 0 } },
        { id: 'lo-export', sql: `SELECT lo_export(4242, '${exported}') AS n`, rows: { min: 0 } },
        {
          id: 'dblink-exec',
          sql: `SELECT dblink_exec('host=127.0.0.1 port=${pg.port} dbname=shop user=postgres password=postgres', 'DELETE FROM orders') AS r`,
          rows: { min: 0 },
        },
        { id: 'terminate', sql: 'SELECT pg_terminate_backend(2147483647) AS t', rows: { min: 0 } },
        { id: 'reload', sql: 'SELECT pg_reload_conf() AS r', rows: { min: 0 } },
        { id: 'checkpoint', sql: 'CHECKPOINT', rows: { min: 0 } },
        { id: 'advisory', sql: 'SELECT pg_advisory_lock(42) AS l', rows: { min: 0 } },
        // The server decodes this name to pg_reload_conf.
        { id: 'unicode-name', sql: 'SELECT U&"\\0070g_reload_conf"() AS r', rows: { min: 0 } },
      ],
    });
    for (const id of [
      'copy-program',
      'copy-file',
      'lo-export',
      'dblink-exec',
      'terminate',
      'reload',
      'checkpoint',
      'advisory',
      'unicode-name',
    ]) {
      expect(byId(run, id).status, id).toBe('error');
      expect(byId(run, id).detail, id).toContain('refused before running');
    }
    expect(byId(run, 'dblink-exec').detail).toContain('dblink_exec() is not allowed');
    expect(byId(run, 'checkpoint').detail).toContain('starts with CHECKPOINT');
    expect(existsSync(program)).toBe(false);
    expect(existsSync(copied)).toBe(false);
    expect(existsSync(exported)).toBe(false);
    expect(pg.psql('SELECT count(*) FROM orders', 'shop').trim()).toBe('10');
    expect(run.verdict.verdict).toBe('FAILED');
  });

  it('refuses each MariaDB escape before it runs, and none takes effect', async () => {
    const outfile = file('outfile');
    const dumpfile = file('dumpfile');
    const before = maria.sql('SELECT @@GLOBAL.max_connections').trim();
    const run = await runLocal(rdsValidator, {
      target: mariaTarget(),
      checks: [
        { id: 'outfile', sql: `SELECT id FROM orders INTO OUTFILE '${outfile}'`, rows: { min: 0 } },
        { id: 'dumpfile', sql: `SELECT 'x' INTO DUMPFILE '${dumpfile}'`, rows: { min: 0 } },
        { id: 'set-global', sql: 'SET GLOBAL max_connections = 77', rows: { min: 0 } },
        { id: 'procedure', sql: 'CALL wipe()', rows: { min: 0 } },
        { id: 'lock', sql: "SELECT GET_LOCK('rv', 0) AS l", rows: { min: 0 } },
        { id: 'hidden', sql: `SELECT 1 AS n /*! INTO OUTFILE '${outfile}' */`, rows: { min: 0 } },
      ],
    });
    for (const id of ['outfile', 'dumpfile', 'set-global', 'procedure', 'lock', 'hidden']) {
      expect(byId(run, id).status, id).toBe('error');
      expect(byId(run, id).detail, id).toContain('refused before running');
    }
    expect(existsSync(outfile)).toBe(false);
    expect(existsSync(dumpfile)).toBe(false);
    expect(maria.sql('SELECT @@GLOBAL.max_connections').trim()).toBe(before);
    expect(maria.sql('SELECT count(*) FROM shop.orders').trim()).toBe('3');
  });

  it('refuses a MariaDB call hidden by ANSI_QUOTES quoting ("…" a name without escapes, \\\' in strings)', async () => {
    // The server's sql_mode is the restored database's: under ANSI_QUOTES without NO_BACKSLASH_ESCAPES
    // the server reads "a\" as a whole name and '\'' as one string, so GET_LOCK runs. Read with
    // backslash escapes in both kinds of quotes, or in neither, the call sits inside a quote.
    maria.sql("SET GLOBAL sql_mode = CONCAT(@@GLOBAL.sql_mode, ',ANSI_QUOTES')");
    try {
      const run = await runLocal(rdsValidator, {
        target: mariaTarget(),
        checks: [
          {
            id: 'ansi-quotes',
            sql: `SELECT 1 AS "a\\", '\\'' AS y, GET_LOCK(CHAR(114, 118), 0) AS z -- '''\\""`,
            rows: { min: 0 },
          },
        ],
      });
      expect(byId(run, 'ansi-quotes').status).toBe('error');
      expect(byId(run, 'ansi-quotes').detail).toContain('refused before running');
    } finally {
      maria.sql("SET GLOBAL sql_mode = REPLACE(@@GLOBAL.sql_mode, 'ANSI_QUOTES', '')");
    }
  });

  it('still runs ordinary queries that mention those words only in strings and quoted names', async () => {
    const run = await runLocal(rdsValidator, {
      target: pgTarget(),
      checks: [
        {
          id: 'words-in-strings',
          sql: `WITH x AS (SELECT 'delete; into copy' AS "update", $q$ pg_reload_conf() $q$ AS s) SELECT count(*) AS n FROM x -- ; drop`,
          expect: { n: { equals: 1 } },
        },
      ],
    });
    expect(byId(run, 'words-in-strings').status).toBe('pass');
  });

  it('warns in the login detail when the validation user is a superuser', async () => {
    const run = await runLocal(rdsValidator, {
      target: pgTarget(),
      checks: [{ id: 'one', sql: 'SELECT 1 AS n', expect: { n: { equals: 1 } } }],
    });
    expect(byId(run, 'login').status).toBe('pass');
    expect(byId(run, 'login').detail).toContain('warning: postgres is a superuser');
    const maria = await runLocal(rdsValidator, {
      target: mariaTarget(),
      checks: [{ id: 'one', sql: 'SELECT 1 AS n', expect: { n: { equals: 1 } } }],
    });
    expect(byId(maria, 'login').detail).toContain('warning: root holds');
  });
});

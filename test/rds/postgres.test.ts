import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rdsValidator } from '../../functions/rds/validator';
import { createSqlPool } from '../../shared/sql/index';
import { freePort, type Postgres, startPostgres } from '../support/engines';
import { byId, runLocal } from './support';

let pg: Postgres;
const PASSWORD_ENV = 'RV_TEST_PG_PASSWORD';
const RECOVERY_POINT = new Date('2026-11-24T22:00:00Z');

beforeAll(async () => {
  pg = await startPostgres();
  pg.psql(`
    CREATE DATABASE shop;
    CREATE DATABASE shop_source;
  `);
  const schema = `
    CREATE TABLE orders (id bigserial PRIMARY KEY, total numeric(20,2) NOT NULL, created_at timestamptz NOT NULL, note text);
    CREATE TABLE events (id int, happened timestamp without time zone);
    CREATE TABLE "MixedCase" (id int);
    CREATE TABLE empty_t (id int);
    CREATE SCHEMA audit;
    CREATE TABLE audit."Log" (id int);
    INSERT INTO audit."Log" VALUES (1), (2);
    CREATE TABLE codes (code text, big bigint);
    INSERT INTO codes VALUES ('00123', 9007199254740992);
  `;
  pg.psql(
    `${schema}
    INSERT INTO orders (total, created_at, note) SELECT g * 1.5, timestamptz '2026-11-24 21:30:00+00' - (g || ' minutes')::interval, CASE WHEN g % 2 = 0 THEN 'even' END FROM generate_series(1, 1000) g;
    INSERT INTO events VALUES (1, '2026-11-24 22:45:00');  -- wall clock in Europe/Berlin = 21:45 UTC
    CREATE ROLE validator LOGIN PASSWORD 'v-secret';
    GRANT SELECT ON ALL TABLES IN SCHEMA public TO validator;`,
    'shop',
  );
  // A parameter group with other date settings must not change how timestamps are read.
  pg.psql(
    "ALTER DATABASE shop SET DateStyle = 'SQL, DMY'; ALTER DATABASE shop SET TimeZone = 'America/New_York';",
  );
  pg.psql(
    `${schema} INSERT INTO orders (total, created_at) SELECT 1, now() FROM generate_series(1, 1040) g;`,
    'shop_source',
  );
  process.env[PASSWORD_ENV] = 'v-secret';
  process.env.RV_TEST_PG_SUPER = 'postgres';
});

afterAll(async () => {
  await pg?.stop();
});

const target = (extra: Record<string, unknown> = {}) => ({
  engine: 'postgres',
  host: pg.host,
  port: String(pg.port),
  database: 'shop',
  user: 'validator',
  passwordEnv: PASSWORD_ENV,
  ...extra,
});

const orderCount = () => pg.psql('select count(*) from orders', 'shop').trim();

describe('rds validator on PostgreSQL', () => {
  it('compares a text column as text and big integers exactly, never as doubles', async () => {
    const run = await runLocal(rdsValidator, {
      target: target(),
      checks: [
        { id: 'text-same', sql: 'select code from codes', expect: { code: { equals: '00123' } } },
        { id: 'text-vs-string', sql: 'select code from codes', expect: { code: { equals: '123' } } },
        { id: 'text-vs-number', sql: 'select code from codes', expect: { code: { equals: 123 } } },
        { id: 'big', sql: 'select big from codes', expect: { big: { equals: '9007199254740993' } } },
      ],
    });
    expect(byId(run, 'text-same').status).toBe('pass');
    expect(byId(run, 'text-vs-string')).toMatchObject({
      status: 'fail',
      detail: 'column code is a text value (5 characters), expected "123"',
    });
    expect(byId(run, 'text-vs-number').status).toBe('fail');
    expect(byId(run, 'big')).toMatchObject({
      status: 'fail',
      detail: 'column big is 9007199254740992, expected "9007199254740993"',
    });
  });

  it('fails tables on an empty table unless minRows is 0, and says "exists, 0 rows"', async () => {
    const run = await runLocal(rdsValidator, {
      target: target(),
      checks: [
        { id: 'default', tables: ['orders', 'empty_t'] },
        { id: 'may-be-empty', tables: ['empty_t'], minRows: 0 },
        { id: 'enough', tables: ['orders'], minRows: 1000 },
        { id: 'too-few', tables: ['orders'], minRows: 1001 },
      ],
    });
    expect(byId(run, 'default')).toMatchObject({ status: 'fail', detail: 'empty_t: exists, 0 rows (min 1)' });
    expect(byId(run, 'may-be-empty')).toMatchObject({
      status: 'pass',
      detail: 'all 1 tables exist (empty_t: exists, 0 rows)',
    });
    expect(byId(run, 'enough').status).toBe('pass');
    expect(byId(run, 'too-few')).toMatchObject({
      status: 'fail',
      detail: 'orders: exists, 1000 rows (min 1001)',
    });
  });

  it('reads schema-qualified, quoted and mixed-case names the same way in tables and rowCounts', async () => {
    const names = ['audit."Log"', '"MixedCase"', 'public.orders', 'ORDERS'];
    const run = await runLocal(rdsValidator, {
      target: target({ user: 'postgres', passwordEnv: 'RV_TEST_PG_SUPER' }),
      connection: { source: { host: pg.host, port: pg.port, database: 'shop_source' } },
      checks: [
        { id: 'exist', tables: names, minRows: 0 },
        { id: 'folded', tables: ['MixedCase'], minRows: 0 },
        { id: 'counts', rowCounts: { tables: ['audit."Log"', '"MixedCase"'] } },
      ],
    });
    expect(byId(run, 'exist').status).toBe('pass');
    // Unquoted names fold to lower case, as in SQL: "MixedCase" needs its quotes.
    expect(byId(run, 'folded')).toMatchObject({ status: 'fail', detail: 'missing table: MixedCase (of 1)' });
    expect(byId(run, 'counts')).toMatchObject({
      status: 'pass',
      detail: '2 table row counts within 0% of the source',
    });
    expect(byId(run, 'counts').data).toMatchObject({
      counts: [
        { table: 'audit."Log"', restored: '2', source: '2' },
        { table: '"MixedCase"', restored: '0', source: '0' },
      ],
    });
  });

  it('keeps only the first row of a big result and still counts every row', async () => {
    const pool = createSqlPool({
      engine: 'postgres',
      host: pg.host,
      port: pg.port,
      database: 'shop',
      user: 'postgres',
      password: 'postgres',
      tls: false,
      credentialSource: 'local',
    });
    try {
      const r = await pool.query("select g, repeat('x', 100) as pad from generate_series(1, 200000) g", {
        maxRows: 1,
      });
      expect(r.rows).toHaveLength(1);
      expect(r.rowCount).toBe(200000);
      expect(r.columnKinds).toEqual(['number', 'text']);
    } finally {
      await pool.close();
    }
    const run = await runLocal(rdsValidator, {
      target: target(),
      checks: [{ id: 'all', sql: 'select * from generate_series(1, 200000) g', rows: { equals: 200000 } }],
    });
    expect(byId(run, 'all')).toMatchObject({ status: 'pass', detail: '200000 rows; row count as expected' });
  });

  it('passes sql expectations on columns and rows when the data holds', async () => {
    const run = await runLocal(rdsValidator, {
      target: target(),
      checks: [
        {
          id: 'orders',
          sql: 'select count(*) as n, sum(total) as s from orders',
          expect: { n: { min: 1000, max: 1000 }, s: { equals: '750750.00' } },
          rows: { equals: 1 },
        },
      ],
    });
    expect(byId(run, 'login').status).toBe('pass');
    expect(byId(run, 'orders')).toMatchObject({ status: 'pass' });
    expect(run.verdict.verdict).toBe('SUCCESSFUL');
  });

  it('fails with the measured number when a minimum is not met', async () => {
    const run = await runLocal(rdsValidator, {
      target: target(),
      checks: [{ id: 'orders', sql: 'select count(*) as n from orders', expect: { n: { min: 5000 } } }],
    });
    expect(byId(run, 'orders')).toMatchObject({ status: 'fail', detail: 'column n is 1000, below min 5000' });
    expect(run.verdict.verdict).toBe('FAILED');
  });

  it('fails when the query returns no rows but columns are expected', async () => {
    const run = await runLocal(rdsValidator, {
      target: target(),
      checks: [
        { id: 'none', sql: "select id from orders where note = 'nope'", expect: { id: { notNull: true } } },
      ],
    });
    expect(byId(run, 'none').status).toBe('fail');
    expect(byId(run, 'none').detail).toContain('returned no rows');
  });

  it('checks the row count of the result with rows', async () => {
    const run = await runLocal(rdsValidator, {
      target: target(),
      checks: [
        { id: 'few', sql: 'select id from orders limit 3', rows: { min: 3 } },
        { id: 'many', sql: 'select id from orders limit 3', rows: { min: 4 } },
      ],
    });
    expect(byId(run, 'few').status).toBe('pass');
    expect(byId(run, 'many')).toMatchObject({ status: 'fail', detail: 'row count is 3, below min 4' });
  });

  it('treats NULL per notNull and equals null when a column is NULL', async () => {
    const run = await runLocal(rdsValidator, {
      target: target(),
      checks: [
        { id: 'null-ok', sql: 'select note from orders where id = 1', expect: { note: { equals: null } } },
        { id: 'null-bad', sql: 'select note from orders where id = 1', expect: { note: { notNull: true } } },
        {
          id: 'text-match',
          sql: 'select note from orders where id = 2',
          expect: { note: { matches: '^ev' } },
        },
      ],
    });
    expect(byId(run, 'null-ok').status).toBe('pass');
    expect(byId(run, 'null-bad')).toMatchObject({ status: 'fail', detail: 'column note is NULL' });
    expect(byId(run, 'text-match').status).toBe('pass');
  });

  it('compares bigint and decimal exactly when they exceed a double', async () => {
    const run = await runLocal(rdsValidator, {
      target: target(),
      checks: [
        {
          id: 'big-eq',
          sql: 'select 9223372036854775807::bigint as v',
          expect: { v: { equals: '9223372036854775807' } },
        },
        {
          id: 'big-ne',
          sql: 'select 9223372036854775807::bigint as v',
          expect: { v: { equals: '9223372036854775806' } },
        },
        {
          id: 'big-max',
          sql: 'select 9007199254740993::bigint as v',
          expect: { v: { max: '9007199254740992' } },
        },
        {
          id: 'dec-min',
          sql: 'select 12345678901234567890.0000000001::numeric(40,10) as v',
          expect: { v: { min: '12345678901234567890.0000000001' } },
        },
        {
          id: 'dec-min-bad',
          sql: 'select 12345678901234567890.0000000001::numeric(40,10) as v',
          expect: { v: { min: '12345678901234567890.0000000002' } },
        },
      ],
    });
    expect(byId(run, 'big-eq').status).toBe('pass');
    expect(byId(run, 'big-ne').status).toBe('fail');
    expect(byId(run, 'big-max')).toMatchObject({
      status: 'fail',
      detail: 'column v is 9007199254740993, above max 9007199254740992',
    });
    expect(byId(run, 'dec-min').status).toBe('pass');
    expect(byId(run, 'dec-min-bad').status).toBe('fail');
  });

  it('passes freshness and notes the data age when the newest row is recent enough', async () => {
    const run = await runLocal(rdsValidator, {
      target: target(),
      recoveryPointTime: RECOVERY_POINT,
      checks: [{ id: 'fresh', freshness: { sql: 'select max(created_at) from orders', maxAgeMinutes: 45 } }],
    });
    expect(byId(run, 'fresh')).toMatchObject({ status: 'pass' });
    expect(byId(run, 'fresh').data).toMatchObject({ dataAgeMinutes: 31 });
    expect(run.notes.dataAgeMinutes).toBe(31);
  });

  it('fails freshness with the age when the copy is stale', async () => {
    const run = await runLocal(rdsValidator, {
      target: target(),
      recoveryPointTime: RECOVERY_POINT,
      checks: [{ id: 'fresh', freshness: { sql: 'select max(created_at) from orders', maxAgeMinutes: 30 } }],
    });
    expect(byId(run, 'fresh').status).toBe('fail');
    expect(byId(run, 'fresh').detail).toContain('data is 31 minutes older than the recovery point');
  });

  it('reads timestamps without time zone in the configured zone when freshness.timeZone is set', async () => {
    const utc = await runLocal(rdsValidator, {
      target: target(),
      recoveryPointTime: RECOVERY_POINT,
      checks: [{ id: 'fresh', freshness: { sql: 'select max(happened) from events', maxAgeMinutes: 30 } }],
    });
    // Read as UTC, 22:45 is after the 22:00 recovery point: not a copy from then.
    expect(byId(utc, 'fresh').status).toBe('fail');
    expect(byId(utc, 'fresh').detail).toContain('after the recovery point');
    const berlin = await runLocal(rdsValidator, {
      target: target(),
      recoveryPointTime: RECOVERY_POINT,
      checks: [
        {
          id: 'fresh',
          freshness: {
            sql: 'select max(happened) from events',
            maxAgeMinutes: 30,
            timeZone: 'Europe/Berlin',
          },
        },
      ],
    });
    expect(byId(berlin, 'fresh')).toMatchObject({ status: 'pass' });
    expect(byId(berlin, 'fresh').data).toMatchObject({ dataAgeMinutes: 15 });
  });

  it('fails freshness when the newest timestamp is NULL', async () => {
    const run = await runLocal(rdsValidator, {
      target: target(),
      recoveryPointTime: RECOVERY_POINT,
      checks: [
        {
          id: 'fresh',
          freshness: { sql: 'select max(happened) from events where id < 0', maxAgeMinutes: 30 },
        },
      ],
    });
    expect(byId(run, 'fresh').status).toBe('fail');
    expect(byId(run, 'fresh').detail).toContain('NULL');
  });

  it('passes tables when they exist and names the missing ones when not', async () => {
    const run = await runLocal(rdsValidator, {
      target: target(),
      checks: [
        { id: 'present', tables: ['orders', 'public.events', '"MixedCase"'], minRows: 0 },
        { id: 'absent', tables: ['orders', 'customers', 'other.log'] },
      ],
    });
    expect(byId(run, 'present').status).toBe('pass');
    expect(byId(run, 'absent')).toMatchObject({
      status: 'fail',
      detail: 'missing tables: customers, other.log (of 3)',
    });
  });

  it('compares row counts with the source within the tolerance', async () => {
    const connection = { source: { host: pg.host, port: pg.port, database: 'shop_source' } };
    const run = await runLocal(rdsValidator, {
      target: target({ user: 'postgres', passwordEnv: 'RV_TEST_PG_SUPER' }),
      connection,
      checks: [
        { id: 'within', rowCounts: { tables: ['orders', 'events'], tolerancePercent: 100 } },
        { id: 'outside', rowCounts: { tables: ['orders'], tolerancePercent: 3 } },
      ],
    });
    expect(byId(run, 'within').status).toBe('fail'); // events: 1 restored vs 0 in the source is outside 100% of 0
    expect(byId(run, 'outside')).toMatchObject({ status: 'fail' });
    expect(byId(run, 'outside').detail).toContain('orders: 1000 rows restored, 1040 in the source');
    const ok = await runLocal(rdsValidator, {
      target: target({ user: 'postgres', passwordEnv: 'RV_TEST_PG_SUPER' }),
      connection,
      checks: [{ id: 'orders-only', rowCounts: { tables: ['orders'], tolerancePercent: 4 } }],
    });
    expect(byId(ok, 'orders-only').status).toBe('pass');
  });

  it('fails login with the likely cause and skips the other checks when the password is wrong', async () => {
    process.env.RV_TEST_PG_WRONG = 'not-the-password';
    const run = await runLocal(rdsValidator, {
      target: target({ passwordEnv: 'RV_TEST_PG_WRONG' }),
      checks: [{ id: 'orders', sql: 'select 1 as one', expect: { one: { equals: 1 } } }],
    });
    expect(byId(run, 'login').status).toBe('fail');
    expect(byId(run, 'login').detail).toContain('login failed for user "validator"');
    expect(byId(run, 'orders').status).toBe('skip');
    expect(run.verdict.verdict).toBe('FAILED');
    expect(run.verdict.message).not.toContain('not-the-password');
  });

  it('fails login naming the network when the host is unreachable', async () => {
    const port = await freePort();
    const run = await runLocal(rdsValidator, {
      target: target({ port: String(port) }),
      checks: [{ id: 'orders', sql: 'select 1', rows: { min: 0 } }],
    });
    expect(byId(run, 'login').status).toBe('fail');
    expect(byId(run, 'login').detail).toContain(`could not reach 127.0.0.1:${port} (ECONNREFUSED)`);
    // Local advice: the CLI's flags, not the restore testing selection's overrides.
    expect(byId(run, 'login').detail).toContain('Check --host and --port');
    expect(byId(run, 'login').detail).not.toContain('dbSubnetGroupName');
    expect(run.verdict.verdict).toBe('FAILED');
  });

  it('fails a statement that runs past the statement timeout', async () => {
    const run = await runLocal(rdsValidator, {
      target: target(),
      connection: { statementTimeoutSeconds: 0.5 },
      checks: [{ id: 'slow', sql: 'select pg_sleep(20) as s', rows: { min: 0 } }],
    });
    expect(byId(run, 'slow')).toMatchObject({
      status: 'fail',
      detail: 'statement failed: statement timed out (canceled by statement_timeout)',
    });
    // cancelled by the server, not waited out: it ended long before the statement would have
    expect(byId(run, 'slow').durationMs).toBeLessThan(20_000);
  });

  it('refuses a write and changes nothing when a check tries to write', async () => {
    pg.psql(
      "CREATE OR REPLACE FUNCTION bump() RETURNS int LANGUAGE sql AS 'INSERT INTO orders (total, created_at) VALUES (1, now()) RETURNING 1';",
      'shop',
    );
    const before = orderCount();
    const run = await runLocal(rdsValidator, {
      // The superuser may write: only the guard and the read-only transaction stop it.
      target: target({ user: 'postgres', passwordEnv: 'RV_TEST_PG_SUPER' }),
      checks: [
        { id: 'delete', sql: 'delete from orders returning id', rows: { min: 0 } },
        { id: 'smuggle', sql: 'commit; delete from orders', rows: { min: 0 } },
        { id: 'ddl', sql: 'drop table orders', rows: { min: 0 } },
        // A function that writes passes the guard: the read-only transaction refuses it.
        { id: 'function', sql: 'select bump() as b', rows: { min: 1 } },
      ],
    });
    expect(byId(run, 'delete')).toMatchObject({ status: 'error' });
    expect(byId(run, 'delete').detail).toContain('refused before running');
    expect(byId(run, 'smuggle').status).toBe('error');
    expect(byId(run, 'smuggle').detail).toContain('exactly one statement');
    expect(byId(run, 'ddl').status).toBe('error');
    expect(byId(run, 'function')).toMatchObject({ status: 'error' });
    expect(byId(run, 'function').detail).toContain('write refused');
    expect(orderCount()).toBe(before);
    expect(run.verdict.verdict).toBe('FAILED');
  });

  it('reports a missing relation as a failed statement when the restore lacks it', async () => {
    const run = await runLocal(rdsValidator, {
      target: target(),
      checks: [{ id: 'gone', sql: 'select count(*) as n from customers', expect: { n: { min: 1 } } }],
    });
    expect(byId(run, 'gone').status).toBe('fail');
    expect(byId(run, 'gone').detail).toContain('relation "customers" does not exist');
  });

  it('reports a syntax error in the check as error, naming the fix, when the SQL is invalid', async () => {
    const run = await runLocal(rdsValidator, {
      target: target(),
      checks: [{ id: 'typo', sql: 'select count(* as n from orders', expect: { n: { min: 1 } } }],
    });
    expect(byId(run, 'typo').status).toBe('error');
    expect(byId(run, 'typo').detail).toContain("the check's SQL is invalid");
    expect(byId(run, 'typo').detail).toContain('syntax error at or near');
    expect(byId(run, 'typo').detail).toContain('fix the statement in the profile');
  });

  it('keeps row values out of the detail when the driver error quotes them', async () => {
    const run = await runLocal(rdsValidator, {
      target: target(),
      checks: [
        {
          id: 'cast',
          sql: 'select note::int as n from orders where note is not null',
          expect: { n: { min: 0 } },
        },
      ],
    });
    expect(byId(run, 'cast').status).toBe('fail');
    expect(byId(run, 'cast').detail).toContain('invalid input syntax for type integer');
    expect(byId(run, 'cast').detail).not.toContain('even');
  });

  it('fails login when TLS is required but the server offers none', async () => {
    const run = await runLocal(rdsValidator, {
      target: target({ tls: true }),
      checks: [{ id: 'q', sql: 'select 1', rows: { min: 0 } }],
    });
    expect(byId(run, 'login').status).toBe('fail');
    expect(byId(run, 'login').detail).toContain('does not accept TLS');
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rdsValidator } from '../../functions/rds/validator';
import { createSqlPool } from '../../shared/sql/index';
import { type MariaDb, startMariaDb } from '../support/engines';
import { byId, runLocal } from './support';

let db: MariaDb;
const RECOVERY_POINT = new Date('2026-11-24T22:00:00Z');

beforeAll(async () => {
  db = await startMariaDb();
  db.sql(`
    CREATE DATABASE shop;
    CREATE DATABASE shop_source;
    CREATE TABLE shop.orders (id BIGINT UNSIGNED PRIMARY KEY AUTO_INCREMENT, total DECIMAL(38,10) NOT NULL, created_at DATETIME(3) NOT NULL, stamped TIMESTAMP NULL, note VARCHAR(20) NULL, paid BOOLEAN NOT NULL DEFAULT 1);
    INSERT INTO shop.orders (total, created_at, note) VALUES (1.5, '2026-11-24 21:40:00', NULL), (12345678901234567890.0000000001, '2026-11-24 21:50:00', 'big');
    CREATE TABLE shop_source.orders LIKE shop.orders;
    INSERT INTO shop_source.orders (total, created_at) VALUES (1, NOW()), (1, NOW()), (1, NOW());
    CREATE TABLE shop.Orders2 (id int, code VARCHAR(10));
    INSERT INTO shop.Orders2 VALUES (1, '00123'), (2, '7');
    CREATE TABLE shop_source.Orders2 LIKE shop.Orders2;
    INSERT INTO shop_source.Orders2 SELECT * FROM shop.Orders2;
    CREATE TABLE shop.empty_t (id int);
    CREATE USER 'validator'@'127.0.0.1' IDENTIFIED BY 'v-secret';
    GRANT SELECT ON shop.* TO 'validator'@'127.0.0.1';
    GRANT SELECT ON shop_source.* TO 'validator'@'127.0.0.1';
  `);
  db.sql(`DELIMITER //
    CREATE FUNCTION shop.bump() RETURNS INT MODIFIES SQL DATA BEGIN INSERT INTO shop.orders (total, created_at) VALUES (1, NOW()); RETURN 1; END //
    DELIMITER ;`);
  // TIMESTAMP is stored in UTC and shown in the session zone: write it from a +02:00 session.
  db.sql("SET time_zone = '+02:00'; UPDATE shop.orders SET stamped = '2026-11-24 23:55:00' WHERE id = 2;");
  process.env.RV_TEST_MARIA_PW = 'v-secret';
  process.env.RV_TEST_MARIA_ROOT = 'root';
  process.env.RV_TEST_MARIA_WRONG = 'nope';
});

afterAll(async () => {
  await db?.stop();
});

const target = (extra: Record<string, unknown> = {}) => ({
  engine: 'mariadb',
  host: db.host,
  port: String(db.port),
  database: 'shop',
  user: 'validator',
  passwordEnv: 'RV_TEST_MARIA_PW',
  ...extra,
});

describe('rds validator on MariaDB', () => {
  it('passes sql, tables and freshness checks when the data holds', async () => {
    const run = await runLocal(rdsValidator, {
      target: target(),
      recoveryPointTime: RECOVERY_POINT,
      checks: [
        {
          id: 'count',
          sql: 'select count(*) as n, max(id) as top from orders',
          expect: { n: { equals: 2 }, top: { min: 2 } },
        },
        { id: 'tables', tables: ['orders', 'shop.orders'] },
        { id: 'fresh', freshness: { sql: 'select max(created_at) from orders', maxAgeMinutes: 15 } },
        { id: 'paid', sql: 'select paid from orders where id = 1', expect: { paid: { equals: true } } },
      ],
    });
    expect(run.results.map((r) => [r.id, r.status])).toEqual([
      ['login', 'pass'],
      ['count', 'pass'],
      ['tables', 'pass'],
      ['fresh', 'pass'],
      ['paid', 'pass'],
      ['user-tables', 'pass'],
      ['foreign-keys', 'skip'],
    ]);
    expect(run.notes.dataAgeMinutes).toBe(10);
  });

  it('fails sql, tables and freshness with precise reasons when the data does not hold', async () => {
    const run = await runLocal(rdsValidator, {
      target: target(),
      recoveryPointTime: RECOVERY_POINT,
      checks: [
        { id: 'count', sql: 'select count(*) as n from orders', expect: { n: { min: 3 } } },
        { id: 'tables', tables: ['orders', 'customers'] },
        { id: 'fresh', freshness: { sql: 'select max(created_at) from orders', maxAgeMinutes: 5 } },
        { id: 'empty', sql: 'select id from orders where id > 100', expect: { id: { notNull: true } } },
      ],
    });
    expect(byId(run, 'count')).toMatchObject({ status: 'fail', detail: 'column n is 2, below min 3' });
    expect(byId(run, 'tables')).toMatchObject({ status: 'fail', detail: 'missing table: customers (of 2)' });
    expect(byId(run, 'fresh').detail).toContain('data is 10 minutes older than the recovery point');
    expect(byId(run, 'empty').detail).toContain('returned no rows');
    expect(run.verdict.verdict).toBe('FAILED');
  });

  it('returns DECIMAL and BIGINT as exact strings and NULL as null', async () => {
    const run = await runLocal(rdsValidator, {
      target: target(),
      checks: [
        {
          id: 'dec',
          sql: 'select total from orders where id = 2',
          expect: { total: { equals: '12345678901234567890.0000000001' } },
        },
        {
          id: 'dec-off',
          sql: 'select total from orders where id = 2',
          expect: { total: { max: '12345678901234567890' } },
        },
        {
          id: 'ubig',
          sql: 'select cast(18446744073709551615 as unsigned) as v',
          expect: { v: { equals: '18446744073709551615' } },
        },
        { id: 'null', sql: 'select note from orders where id = 1', expect: { note: { notNull: true } } },
      ],
    });
    expect(byId(run, 'dec').status).toBe('pass');
    expect(byId(run, 'dec-off')).toMatchObject({
      status: 'fail',
      detail: 'column total is 12345678901234567890.0000000001, above max 12345678901234567890',
    });
    expect(byId(run, 'ubig').status).toBe('pass');
    expect(byId(run, 'null')).toMatchObject({ status: 'fail', detail: 'column note is NULL' });
  });

  it('reads TIMESTAMP columns in UTC whatever zone wrote them', async () => {
    const run = await runLocal(rdsValidator, {
      target: target(),
      recoveryPointTime: RECOVERY_POINT,
      checks: [{ id: 'stamped', freshness: { sql: 'select max(stamped) from orders', maxAgeMinutes: 10 } }],
    });
    // 23:55 at +02:00 is 21:55 UTC: 5 minutes before the recovery point.
    expect(byId(run, 'stamped')).toMatchObject({ status: 'pass' });
    expect(byId(run, 'stamped').data).toMatchObject({ dataAgeMinutes: 5 });
  });

  it('reads TIMESTAMP columns as absolute when freshness.timeZone is set for DATETIME columns', async () => {
    const run = await runLocal(rdsValidator, {
      target: target(),
      recoveryPointTime: RECOVERY_POINT,
      checks: [
        {
          id: 'stamped',
          freshness: { sql: 'select max(stamped) from orders', maxAgeMinutes: 10, timeZone: 'Europe/Berlin' },
        },
        {
          id: 'local',
          freshness: {
            sql: 'select max(created_at) from orders',
            maxAgeMinutes: 80,
            timeZone: 'Europe/Berlin',
          },
        },
      ],
    });
    expect(byId(run, 'stamped')).toMatchObject({ status: 'pass' });
    expect(byId(run, 'stamped').data).toMatchObject({ dataAgeMinutes: 5 });
    // The same zone still applies to the DATETIME column it is for: 21:50 in Berlin is 20:50 UTC.
    expect(byId(run, 'local')).toMatchObject({ status: 'pass' });
    expect(byId(run, 'local').data).toMatchObject({ dataAgeMinutes: 70 });
  });

  it('compares a VARCHAR as text, not as a number', async () => {
    const run = await runLocal(rdsValidator, {
      target: target(),
      checks: [
        { id: 'same', sql: 'select code from Orders2 where id = 1', expect: { code: { equals: '00123' } } },
        { id: 'string', sql: 'select code from Orders2 where id = 1', expect: { code: { equals: '123' } } },
        { id: 'number', sql: 'select code from Orders2 where id = 1', expect: { code: { equals: 123 } } },
      ],
    });
    expect(byId(run, 'same').status).toBe('pass');
    expect(byId(run, 'string')).toMatchObject({
      status: 'fail',
      detail: 'column code is a text value (5 characters), expected "123"',
    });
    expect(byId(run, 'number').status).toBe('fail');
  });

  it('reads qualified, quoted and mixed-case names the same way in tables and rowCounts', async () => {
    const run = await runLocal(rdsValidator, {
      target: target(),
      connection: { source: { host: db.host, port: db.port, database: 'shop_source' } },
      checks: [
        { id: 'exist', tables: ['Orders2', '`Orders2`', 'shop.`Orders2`', '"Orders2"', 'shop.orders'] },
        { id: 'case', tables: ['orders2'] },
        { id: 'empty', tables: ['empty_t'] },
        { id: 'may-be-empty', tables: ['empty_t'], minRows: 0 },
        { id: 'counts', rowCounts: { tables: ['`Orders2`', 'shop.Orders2'] } },
      ],
    });
    expect(byId(run, 'exist').status).toBe('pass');
    // MySQL keeps names as written (lower_case_table_names=0 on Linux).
    expect(byId(run, 'case')).toMatchObject({ status: 'fail', detail: 'missing table: orders2 (of 1)' });
    expect(byId(run, 'empty')).toMatchObject({ status: 'fail', detail: 'empty_t: exists, 0 rows (min 1)' });
    expect(byId(run, 'may-be-empty').detail).toBe('all 1 tables exist (empty_t: exists, 0 rows)');
    expect(byId(run, 'counts')).toMatchObject({
      status: 'pass',
      detail: '2 table row counts within 0% of the source',
    });
  });

  it('keeps only the first row of a big result and still counts every row', async () => {
    const pool = createSqlPool({
      engine: 'mariadb',
      host: db.host,
      port: db.port,
      database: 'shop',
      user: 'root',
      password: 'root',
      tls: false,
      credentialSource: 'local',
    });
    try {
      const r = await pool.query("select seq, repeat('x', 100) as pad from seq_1_to_200000", { maxRows: 1 });
      expect(r.rows).toHaveLength(1);
      expect(r.rowCount).toBe(200000);
      expect(r.columnKinds).toEqual(['number', 'text']);
    } finally {
      await pool.close();
    }
  });

  it('compares row counts with the source database', async () => {
    const run = await runLocal(rdsValidator, {
      target: target(),
      connection: { source: { host: db.host, port: db.port, database: 'shop_source' } },
      checks: [
        { id: 'strict', rowCounts: { tables: ['orders'] } },
        { id: 'loose', rowCounts: { tables: ['orders'], tolerancePercent: 50 } },
      ],
    });
    expect(byId(run, 'strict').detail).toContain(
      'orders: 2 rows restored, 3 in the source (differs by 1, tolerance 0%)',
    );
    expect(byId(run, 'strict').status).toBe('fail');
    expect(byId(run, 'loose').status).toBe('pass');
  });

  it('fails login with the likely cause when the password is wrong', async () => {
    const run = await runLocal(rdsValidator, {
      target: target({ passwordEnv: 'RV_TEST_MARIA_WRONG' }),
      checks: [{ id: 'count', sql: 'select 1', rows: { min: 0 } }],
    });
    expect(byId(run, 'login').detail).toContain('login failed for user "validator"');
    expect(byId(run, 'count').status).toBe('skip');
    expect(run.verdict.verdict).toBe('FAILED');
  });

  it('reports a syntax error in the check as error, naming the fix, when the SQL is invalid', async () => {
    const run = await runLocal(rdsValidator, {
      target: target(),
      checks: [{ id: 'typo', sql: 'select count(* as n from orders', expect: { n: { min: 1 } } }],
    });
    expect(byId(run, 'typo').status).toBe('error');
    expect(byId(run, 'typo').detail).toContain(
      "the check's SQL is invalid (You have an error in your SQL syntax",
    );
  });

  it('fails a statement that runs past max_statement_time', async () => {
    const run = await runLocal(rdsValidator, {
      target: target(),
      connection: { statementTimeoutSeconds: 0.5 },
      checks: [
        {
          id: 'slow',
          sql: 'select count(*) as n from orders a, orders b, orders c where sleep(1) = 0',
          rows: { min: 0 },
        },
      ],
    });
    expect(byId(run, 'slow').status).toBe('fail');
    expect(byId(run, 'slow').detail).toContain('timed out');
  });

  it('refuses writes and DDL and changes nothing when run by a user who may write', async () => {
    const run = await runLocal(rdsValidator, {
      target: target({ user: 'root', passwordEnv: 'RV_TEST_MARIA_ROOT' }),
      checks: [
        { id: 'delete', sql: 'delete from orders', rows: { min: 0 } },
        { id: 'insert', sql: 'insert into orders (total, created_at) values (1, now())', rows: { min: 0 } },
        { id: 'drop', sql: 'drop table orders', rows: { min: 0 } },
        { id: 'two', sql: 'select 1; delete from orders', rows: { min: 0 } },
        // A function that writes passes the guard: the read-only transaction refuses it.
        { id: 'function', sql: 'select bump() as b', rows: { min: 1 } },
      ],
    });
    expect(byId(run, 'function')).toMatchObject({ status: 'error' });
    expect(byId(run, 'function').detail).toContain('write refused');
    for (const id of ['delete', 'insert', 'drop', 'two']) expect(byId(run, id).status, id).not.toBe('pass');
    for (const id of ['delete', 'insert', 'drop', 'two'])
      expect(byId(run, id).detail, id).toContain('refused before running');
    expect(db.sql('select count(*) from shop.orders').trim()).toBe('2');
  });

  it('keeps the next statement read-only when a check switches the session to read write', async () => {
    const run = await runLocal(rdsValidator, {
      target: target({ user: 'root', passwordEnv: 'RV_TEST_MARIA_ROOT' }),
      // One connection, so the second check reuses the session the first one changed.
      options: {},
      checks: [
        { id: 'switch', sql: 'set session transaction read write', rows: { min: 0 } },
        { id: 'drop', sql: 'drop table orders', rows: { min: 0 } },
      ],
      concurrency: 1,
    });
    expect(byId(run, 'drop').status).not.toBe('pass');
    expect(db.sql('select count(*) from shop.orders').trim()).toBe('2');
  });
});

/**
 * The default checks that need no SQL from the user (issue 17.6): user tables listed and counted,
 * compared with the source, and declared foreign keys checked for orphans, on both engines.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rdsValidator } from '../../functions/rds/validator';
import { type MariaDb, type Postgres, startMariaDb, startPostgres } from '../support/engines';
import { byId, runLocal } from './support';

let pg: Postgres;
let maria: MariaDb;

beforeAll(async () => {
  [pg, maria] = await Promise.all([startPostgres(), startMariaDb()]);
  pg.psql('CREATE DATABASE app; CREATE DATABASE app_src;');
  const pgSchema = `
    CREATE TABLE customers (id int PRIMARY KEY);
    CREATE TABLE orders (id int PRIMARY KEY, customer_id int);
    CREATE TABLE items (id int);
    CREATE SCHEMA billing;
    CREATE TABLE billing."Invoices" (id int);`;
  pg.psql(
    `${pgSchema}
     INSERT INTO customers VALUES (1), (2), (3);
     INSERT INTO orders VALUES (10, 1), (11, 2), (12, 9), (13, NULL);
     -- NOT VALID: the restore holds an orphan (order 12 of customer 9), as a damaged copy would.
     ALTER TABLE orders ADD CONSTRAINT orders_customer_fk FOREIGN KEY (customer_id) REFERENCES customers (id) NOT VALID;
     INSERT INTO billing."Invoices" VALUES (1);
     ANALYZE;`,
    'app',
  );
  pg.psql(
    `${pgSchema}
     INSERT INTO customers VALUES (1), (2), (3), (9);
     INSERT INTO orders VALUES (10, 1), (11, 2), (12, 9), (13, NULL);
     INSERT INTO items VALUES (1), (2);
     INSERT INTO billing."Invoices" VALUES (1);
     CREATE TABLE audit_log (id int); INSERT INTO audit_log VALUES (1);`,
    'app_src',
  );
  maria.sql(`
    CREATE DATABASE app; CREATE DATABASE app_src;
    CREATE TABLE app.customers (id int PRIMARY KEY) ENGINE=InnoDB;
    CREATE TABLE app.orders (id int PRIMARY KEY, customer_id int, CONSTRAINT orders_customer_fk FOREIGN KEY (customer_id) REFERENCES app.customers (id)) ENGINE=InnoDB;
    CREATE TABLE app.items (id int);
    INSERT INTO app.customers VALUES (1), (2), (3);
    SET FOREIGN_KEY_CHECKS = 0;
    INSERT INTO app.orders VALUES (10, 1), (11, 2), (12, 9), (13, NULL);
    SET FOREIGN_KEY_CHECKS = 1;
    CREATE TABLE app_src.customers LIKE app.customers;
    CREATE TABLE app_src.orders (id int PRIMARY KEY, customer_id int);
    CREATE TABLE app_src.items LIKE app.items;
    INSERT INTO app_src.customers VALUES (1), (2), (3), (9);
    INSERT INTO app_src.orders SELECT * FROM app.orders;
    INSERT INTO app_src.items VALUES (1), (2);
  `);
  process.env.RV_DEPTH_PG = pg.password;
  process.env.RV_DEPTH_MARIA = maria.password;
});

afterAll(async () => {
  await Promise.all([pg?.stop(), maria?.stop()]);
});

const pgTarget = (database = 'app') => ({
  engine: 'postgres',
  host: pg.host,
  port: String(pg.port),
  database,
  user: 'postgres',
  passwordEnv: 'RV_DEPTH_PG',
});
const mariaTarget = () => ({
  engine: 'mariadb',
  host: maria.host,
  port: String(maria.port),
  database: 'app',
  user: 'root',
  passwordEnv: 'RV_DEPTH_MARIA',
});

describe('default checks without user SQL', () => {
  it('counts every user table and finds FK orphans on PostgreSQL when the profile has no SQL checks', async () => {
    const run = await runLocal(rdsValidator, { target: pgTarget(), checks: [] });
    expect(run.results.map((r) => r.id)).toEqual(['login', 'user-tables', 'foreign-keys']);
    expect(byId(run, 'user-tables')).toMatchObject({
      status: 'pass',
      detail: '4 user tables; 4 counted exactly; empty: public.items (no source to compare with)',
    });
    expect(byId(run, 'user-tables').data).toMatchObject({
      tables: [
        { table: 'billing.Invoices', rows: '1', estimated: false },
        { table: 'public.customers', rows: '3', estimated: false },
        { table: 'public.items', rows: '0', estimated: false },
        { table: 'public.orders', rows: '4', estimated: false },
      ],
    });
    expect(byId(run, 'foreign-keys')).toMatchObject({
      status: 'fail',
      detail:
        'orders_customer_fk: 1 row(s) of public.orders (customer_id) have no parent in public.customers',
    });
    expect(run.verdict.verdict).toBe('FAILED');
  });

  it('fails tables empty or missing in the restore that hold rows in the source', async () => {
    const run = await runLocal(rdsValidator, {
      target: pgTarget(),
      connection: { source: { host: pg.host, port: pg.port, database: 'app_src' } },
      checks: [],
      options: { defaultChecks: { foreignKeys: false } },
    });
    expect(run.results.map((r) => r.id)).toEqual(['login', 'user-tables']);
    expect(byId(run, 'user-tables')).toMatchObject({
      status: 'fail',
      detail:
        'compared with the source: public.audit_log is missing (the source has rows); public.items is empty (the source has rows)',
    });
    // The source itself is complete: compared with itself, nothing is missing.
    const self = await runLocal(rdsValidator, {
      target: pgTarget('app_src'),
      connection: { source: { host: pg.host, port: pg.port, database: 'app_src' } },
      checks: [],
    });
    expect(byId(self, 'user-tables').status).toBe('pass');
    expect(byId(self, 'foreign-keys')).toMatchObject({
      status: 'skip',
      detail: 'no declared foreign keys to check',
    });
  });

  it('is bounded or turned off by the profile', async () => {
    const bounded = await runLocal(rdsValidator, {
      target: pgTarget(),
      checks: [],
      options: { defaultChecks: { maxTables: 2, foreignKeys: false } },
    });
    expect(byId(bounded, 'user-tables').detail).toContain(
      '2 (the first 2; more exist, raise options.defaultChecks.maxTables) user tables',
    );
    const off = await runLocal(rdsValidator, {
      target: pgTarget(),
      checks: [{ id: 'one', sql: 'select 1 as n', expect: { n: { equals: 1 } } }],
      options: { defaultChecks: false },
    });
    expect(off.results.map((r) => r.id)).toEqual(['login', 'one']);
    const typo = await runLocal(rdsValidator, {
      target: pgTarget(),
      checks: [],
      options: { defaultChecks: { maxTabels: 2 } },
    });
    expect(byId(typo, 'default-checks')).toMatchObject({
      status: 'error',
      detail: 'options.defaultChecks.maxTabels is not an option: use maxTables, budgetSeconds, foreignKeys',
    });
  });

  it('does the same on MariaDB', async () => {
    const run = await runLocal(rdsValidator, {
      target: mariaTarget(),
      connection: { source: { host: maria.host, port: maria.port, database: 'app_src' } },
      checks: [],
    });
    expect(byId(run, 'user-tables')).toMatchObject({
      status: 'fail',
      detail: 'compared with the source: app.items is empty (the source has rows)',
    });
    expect(byId(run, 'foreign-keys')).toMatchObject({
      status: 'fail',
      detail: 'orders_customer_fk: 1 row(s) of app.orders (customer_id) have no parent in app.customers',
    });
  });
});

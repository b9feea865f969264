/**
 * The custom `orphans` kind end to end against a real PostgreSQL: the config file is loaded with
 * loadConfigFile (so the kind's schema is what validates it) and the built-in RDS validator runs it in
 * local mode with the same target flags as `restore-validation check rds --engine postgres ...`.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type Config,
  ConfigError,
  createClients,
  loadConfigFile,
  localRestoreJob,
  matchProfile,
  runValidator,
} from 'restore-validation';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
// As `restore-validation check rds` does: the built-in RDS target (its validator and flags).
import { cliTarget as rdsTarget } from '../../functions/rds/cli';
import { logger } from '../../shared/logger';
import { type Postgres, startPostgres } from '../../test/support/engines';
import { orphansSql } from './orphans';

const CONFIG = join(import.meta.dirname, 'validation.config.yaml');

describe('orphans check kind', () => {
  let pg: Postgres;
  let config: Config;

  beforeAll(async () => {
    pg = await startPostgres();
    pg.psql('create database shop');
    vi.stubEnv('RV_EXAMPLE_PG_PASSWORD', pg.password);
    // Registers the kind and its implementation, as addCheck / --extension do.
    await import('./orphans');
    config = loadConfigFile(CONFIG);
  });
  afterAll(async () => {
    vi.unstubAllEnvs();
    await pg?.stop();
  });
  beforeEach(() => {
    pg.psql(
      `set client_min_messages = warning; drop table if exists order_lines; drop table if exists orders;
       create table orders (id int primary key);
       create table order_lines (id int primary key, order_id int);
       insert into orders values (1), (2);
       insert into order_lines values (10, 1), (11, 2), (12, null);`,
      'shop',
    );
  });

  async function check(cfg: Config = config) {
    const profile = matchProfile(cfg, {
      resourceType: 'RDS',
      sourceResourceArn: 'arn:aws:rds:us-east-1:123456789012:db:shop-prod',
    });
    return runValidator(rdsTarget.validator, {
      job: localRestoreJob({ resourceType: 'RDS' }),
      profile,
      config: cfg,
      logger,
      clients: createClients({ region: 'us-east-1' }),
      deadline: Date.now() + 60_000,
      mode: 'local',
      target: {
        engine: 'postgres',
        host: pg.host,
        port: String(pg.port),
        user: pg.user,
        passwordEnv: 'RV_EXAMPLE_PG_PASSWORD',
      },
      settings: {},
    });
  }

  it('passes when every order line references an order (nulls are not orphans)', async () => {
    const run = await check();
    expect(run.results.find((r) => r.id === 'order-lines-have-orders')).toMatchObject({
      status: 'pass',
      detail: '0 orphaned rows in order_lines.order_id → orders.id',
      data: { orphans: 0 },
    });
    expect(run.verdict.verdict).toBe('SUCCESSFUL');
  });

  it('fails the verdict and counts the orphans when order lines point at missing orders', async () => {
    pg.psql('insert into order_lines values (13, 7), (14, 8);', 'shop');
    const run = await check();
    expect(run.results.find((r) => r.id === 'order-lines-have-orders')).toMatchObject({
      status: 'fail',
      detail: '2 orphaned rows in order_lines.order_id → orders.id (at most 0 allowed)',
      data: { orphans: 2 },
    });
    expect(run.verdict.verdict).toBe('FAILED');
    expect(run.verdict.message).toContain('order-lines-have-orders');
  });

  it('passes when the orphans are within maxOrphans', async () => {
    pg.psql('insert into order_lines values (13, 7);', 'shop');
    const dir = mkdtempSync(join(tmpdir(), 'rv-orphans-'));
    const file = join(dir, 'config.yaml');
    writeFileSync(
      file,
      `version: 1
profiles:
  - name: shop
    match: { resourceType: RDS }
    connection: { database: shop }
    checks:
      - { id: lines, orphans: { child: order_lines, column: order_id, parent: orders, maxOrphans: 1 } }
`,
    );
    const run = await check(loadConfigFile(file));
    expect(run.results.find((r) => r.id === 'lines')).toMatchObject({ status: 'pass', data: { orphans: 1 } });
  });

  it('fails the check (not a crash) when the child table does not exist in the restored database', async () => {
    pg.psql('drop table order_lines;', 'shop');
    const run = await check();
    const result = run.results.find((r) => r.id === 'order-lines-have-orders');
    expect(result?.status).toBe('fail');
    expect(result?.detail).toMatch(/order_lines/);
    expect(run.verdict.verdict).toBe('FAILED');
  });

  it('rejects a config with a mistyped orphans option, naming the path', () => {
    const dir = mkdtempSync(join(tmpdir(), 'rv-orphans-'));
    const file = join(dir, 'bad.yaml');
    writeFileSync(
      file,
      'version: 1\nprofiles:\n  - name: shop\n    checks:\n      - { id: x, orphans: { child: a, colum: b, parent: c } }\n',
    );
    expect(() => loadConfigFile(file)).toThrow(ConfigError);
    expect(() => loadConfigFile(file)).toThrow(/profiles\[0\]\.checks\[0\].*colum/);
  });

  it('rejects the kind in a profile of a resource type it does not serve', () => {
    const dir = mkdtempSync(join(tmpdir(), 'rv-orphans-'));
    const file = join(dir, 'bad.yaml');
    writeFileSync(
      file,
      'version: 1\nprofiles:\n  - name: s3\n    match: { resourceType: S3 }\n    checks:\n      - { id: x, orphans: { child: a, column: b, parent: c } }\n',
    );
    expect(() => loadConfigFile(file)).toThrow(/check kind "orphans" is not available for resource type S3/);
  });

  it('quotes schema-qualified names in the statement', () => {
    expect(
      orphansSql('postgres', {
        child: 'sales.Lines',
        column: 'order_id',
        parent: 'sales.orders',
        parentColumn: 'id',
        maxOrphans: 0,
      }),
    ).toBe(
      'select count(*) as orphans from "sales"."lines" c where c."order_id" is not null and not exists (select 1 from "sales"."orders" p where p."id" = c."order_id")',
    );
  });
});

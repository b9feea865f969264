import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli';
import { freePort, type MariaDb, type Postgres, startMariaDb, startPostgres } from '../support/engines';

let pg: Postgres;
let maria: MariaDb;
let dir: string;

beforeAll(async () => {
  [pg, maria] = await Promise.all([startPostgres(), startMariaDb()]);
  pg.psql(
    "CREATE TABLE orders (id int, created_at timestamptz); INSERT INTO orders VALUES (1, '2026-11-24 21:30:00+00'), (2, '2026-11-24 21:45:00+00');",
  );
  maria.sql(
    "CREATE DATABASE orders; CREATE TABLE orders.orders (id int, created_at datetime); INSERT INTO orders.orders VALUES (1, '2026-11-24 21:30:00'), (2, '2026-11-24 21:45:00');",
  );
  dir = mkdtempSync(join(tmpdir(), 'rv-rds-cli-'));
  writeFileSync(
    join(dir, 'config.yaml'),
    `version: 1
profiles:
  - name: orders-db
    match: { resourceType: RDS }
    checks:
      - id: orders-present
        sql: select count(*) as n from orders
        expect: { n: { min: 2 } }
      - id: orders-fresh
        freshness: { sql: select max(created_at) from orders, maxAgeMinutes: 20 }
`,
  );
  // Shaped like the README's example: the ARN glob cannot match a local server.
  writeFileSync(
    join(dir, 'readme.yaml'),
    `version: 1
profiles:
  - name: orders-db
    match: { resourceType: RDS, sourceResourceArn: "arn:aws:rds:*:*:db:orders-*" }
    checks:
      - id: orders-present
        sql: select count(*) as n from orders
        expect: { n: { min: 1000 } }
  - name: files
    match: { resourceType: EBS }
    checks:
      - { id: app, paths: [/etc] }
`,
  );
  writeFileSync(
    join(dir, 'two.yaml'),
    `version: 1
profiles:
  - name: orders-db
    match: { resourceType: RDS, sourceResourceArn: "arn:aws:rds:*:*:db:orders-*" }
    checks: [{ id: a, sql: select 1 as n, expect: { n: { equals: 1 } } }]
  - name: billing-db
    match: { resourceType: [RDS, Aurora] }
    checks: [{ id: b, sql: select 1 as n, expect: { n: { equals: 1 } } }]
`,
  );
  process.env.RV_CLI_PG_PW = pg.password;
  process.env.RV_CLI_MARIA_PW = maria.password;
});

afterAll(async () => {
  await Promise.all([pg?.stop(), maria?.stop()]);
  rmSync(dir, { recursive: true, force: true });
});

/** `restore-validation check <type> --config <file of the test folder> <flags>`, in-process. */
const check = (type: string, config: string, ...flags: string[]) =>
  runCli(['check', type, '--config', join(dir, config), ...flags]);

describe('check rds', () => {
  /** The flags that point `check` at the PostgreSQL server of this file. */
  const pgFlags = () => [
    '--engine',
    'postgres',
    '--host',
    pg.host,
    '--port',
    String(pg.port),
    '--database',
    'postgres',
    '--user',
    'postgres',
    '--password-env',
    'RV_CLI_PG_PW',
    '--json',
  ];

  it('prints one JSON verdict and exits 0 when the PostgreSQL checks pass', async () => {
    const r = await check(
      'rds',
      'config.yaml',
      ...pgFlags(),
      '--recovery-point-time',
      '2026-11-24T22:00:00Z',
    );
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const json = JSON.parse(r.out) as { verdict: string; checks: Array<{ id: string; status: string }> };
    expect(json.verdict).toBe('SUCCESSFUL');
    expect(json.checks.map((c) => [c.id, c.status])).toEqual([
      ['login', 'pass'],
      ['orders-present', 'pass'],
      ['orders-fresh', 'pass'],
      // The default checks: every user table counted; no foreign keys declared.
      ['user-tables', 'pass'],
      ['foreign-keys', 'skip'],
    ]);
  });

  it('exits 1 with the stale check named when the recovery point is later (aurora, MariaDB)', async () => {
    const r = await check(
      'aurora',
      'config.yaml',
      '--config-profile',
      'orders-db',
      '--engine',
      'mariadb',
      '--host',
      maria.host,
      '--port',
      String(maria.port),
      '--database',
      'orders',
      '--user',
      'root',
      '--password-env',
      'RV_CLI_MARIA_PW',
      '--recovery-point-time',
      '2026-11-24T23:00:00Z',
      '--json',
    );
    expect(r.code).toBe(1);
    const json = JSON.parse(r.out) as { verdict: string; message: string };
    expect(json.verdict).toBe('FAILED');
    expect(json.message).toContain('orders-fresh failed: data is 75 minutes older than the recovery point');
  });

  it('runs the only profile for the type when its ARN glob cannot match locally, and says so', async () => {
    const r = await check('rds', 'readme.yaml', ...pgFlags());
    expect(r.err).toContain(
      'profile orders-db picked as the only one for resource type RDS; its match keys sourceResourceArn apply to restore jobs only',
    );
    const json = JSON.parse(r.out) as { verdict: string; checks: Array<{ id: string; status: string }> };
    // The profile's check ran (and failed: 2 rows, not 1000): never SUCCESSFUL on login alone.
    expect(json.checks.map((c) => [c.id, c.status])).toEqual([
      ['login', 'pass'],
      ['orders-present', 'fail'],
      ['user-tables', 'pass'],
      ['foreign-keys', 'skip'],
    ]);
    expect(r.code).toBe(1);
  });

  it('exits 2 naming the profiles and --config-profile when several are for the type', async () => {
    const r = await check('rds', 'two.yaml', ...pgFlags());
    expect(r.code).toBe(2);
    expect(r.out).toBe('');
    expect(r.err).toContain(
      '2 profiles in ' +
        join(dir, 'two.yaml') +
        ' are for resource type RDS (orders-db, billing-db): pick one with --config-profile NAME',
    );
    const picked = await check('aurora', 'two.yaml', '--config-profile', 'orders-db', ...pgFlags());
    expect(picked.code).toBe(0);
  });

  it('exits 2 when --recovery-point-time has no offset, instead of reading it in the local zone', async () => {
    const r = await check('rds', 'config.yaml', ...pgFlags(), '--recovery-point-time', '2026-11-24T22:00:00');
    expect(r.code).toBe(2);
    expect(r.err).toContain(
      '--recovery-point-time "2026-11-24T22:00:00" has no time zone offset: add Z for UTC',
    );
  });

  it('gives local advice, not restore-test overrides, when the local server cannot be reached', async () => {
    const closed = await freePort();
    const r = await check(
      'rds',
      'config.yaml',
      ...pgFlags().map((f) => (f === String(pg.port) ? String(closed) : f)),
    );
    expect(r.code).toBe(1);
    const json = JSON.parse(r.out) as { checks: Array<{ id: string; status: string; detail: string }> };
    const login = json.checks.find((c) => c.id === 'login');
    expect(login?.status).toBe('fail');
    expect(login?.detail).toContain(
      `could not reach ${pg.host}:${closed} (ECONNREFUSED): is the server running and listening there? Check --host and --port`,
    );
    expect(login?.detail).not.toContain('overrides');
  });

  it('runs when bin/cli.ts is started directly, as a user may try', async () => {
    const root = join(import.meta.dirname, '..', '..');
    const { stdout } = await promisify(execFile)(
      join(root, 'node_modules', '.bin', 'tsx'),
      [join(root, 'bin', 'cli.ts'), 'check', 'rds', '--help'],
      { encoding: 'utf8' },
    );
    expect(stdout).toContain('Usage: restore-validation check rds [options]');
    expect(stdout).toContain('--recovery-point-time <iso>');
  });

  it('exits 2 with a readable reason when the password variable is not set', async () => {
    const r = await check(
      'rds',
      'config.yaml',
      '--engine',
      'postgres',
      '--port',
      String(pg.port),
      '--password-env',
      'RV_CLI_UNSET',
      '--json',
    );
    expect(r.code).toBe(2);
    expect(r.err).toContain('--password-env RV_CLI_UNSET: that environment variable is not set');
  });
});

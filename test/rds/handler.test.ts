import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BackupClient, GetRestoreJobMetadataCommand } from '@aws-sdk/client-backup';
import { type DBInstance, DescribeDBInstancesCommand, RDSClient } from '@aws-sdk/client-rds';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { handler } from '../../functions/rds/handler';
import { type Postgres, startPostgres } from '../support/engines';
import { fixture } from '../support/fixtures';
import { finalVerdict, lambdaContext, mockCompletedJob, stubConfigFile } from '../support/lifecycle-harness';

const backup = mockClient(BackupClient);
const rds = mockClient(RDSClient);
const secrets = mockClient(SecretsManagerClient);

const event = fixture('completed-rds.json') as {
  detail: { restoreJobId: string };
};
const JOB_ID = event.detail.restoreJobId;
const RESTORED = 'awsbackup-restore-test-53a1c2f0';
const SECRET_ARN = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:orders-validator-AbCdEf';

let pg: Postgres;
let dir: string;

const context = lambdaContext('rds-validator');

beforeAll(async () => {
  pg = await startPostgres();
  pg.psql('CREATE DATABASE orders;');
  pg.psql(
    `CREATE TABLE orders (id serial, created_at timestamptz NOT NULL);
     INSERT INTO orders (created_at) SELECT timestamptz '2026-11-24 21:50:00+00' FROM generate_series(1, 50);
     CREATE ROLE validator LOGIN PASSWORD 'v-secret'; GRANT SELECT ON orders TO validator;`,
    'orders',
  );
  dir = stubConfigFile('rv-rds-handler-', {
    version: 1,
    profiles: [
      {
        name: 'orders-db',
        match: { resourceType: 'RDS', sourceResourceArn: 'arn:aws:rds:*:*:db:orders-*' },
        connection: { database: 'orders', secretArn: SECRET_ARN, tls: false },
        checks: [
          { id: 'orders-present', sql: 'select count(*) as n from orders', expect: { n: { min: 50 } } },
          { id: 'orders-fresh', freshness: { sql: 'select max(created_at) from orders', maxAgeMinutes: 90 } },
        ],
      },
    ],
  });
});

afterAll(async () => {
  vi.unstubAllEnvs();
  await pg?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const instance = (over: Partial<DBInstance> = {}): DBInstance => ({
  DBInstanceIdentifier: RESTORED,
  DBInstanceArn: `arn:aws:rds:us-east-1:123456789012:db:${RESTORED}`,
  DBInstanceStatus: 'available',
  Engine: 'postgres',
  EngineVersion: '15.8',
  StorageEncrypted: true,
  PubliclyAccessible: false,
  Endpoint: { Address: pg.host, Port: pg.port },
  TagList: [{ Key: 'awsbackup-restore-test', Value: 'true' }],
  ...over,
});

function arrange(restored: DBInstance | undefined, password = 'v-secret') {
  mockCompletedJob(backup, {
    restoreJobId: JOB_ID,
    resourceType: 'RDS',
    createdResourceArn: `arn:aws:rds:us-east-1:123456789012:db:${RESTORED}`,
    sourceResourceArn: 'arn:aws:rds:us-east-1:123456789012:db:orders-prod',
    metadata: { dbInstanceIdentifier: RESTORED },
  });
  if (restored)
    rds
      .on(DescribeDBInstancesCommand, { DBInstanceIdentifier: RESTORED })
      .resolves({ DBInstances: [restored] });
  else
    rds
      .on(DescribeDBInstancesCommand, { DBInstanceIdentifier: RESTORED })
      .rejects(Object.assign(new Error('DBInstance not found'), { name: 'DBInstanceNotFoundFault' }));
  rds.on(DescribeDBInstancesCommand, { DBInstanceIdentifier: 'orders-prod' }).resolves({
    DBInstances: [
      {
        DBInstanceIdentifier: 'orders-prod',
        Engine: 'postgres',
        EngineVersion: '15.4',
        StorageEncrypted: true,
      },
    ],
  });
  secrets
    .on(GetSecretValueCommand, { SecretId: SECRET_ARN })
    .resolves({ SecretString: JSON.stringify({ username: 'validator', password }) });
}

const final = () => finalVerdict(backup);

beforeEach(() => {
  backup.reset();
  rds.reset();
  secrets.reset();
});

describe('rds handler', () => {
  it('posts SUCCESSFUL when state and SQL checks pass', async () => {
    arrange(instance());
    const out = await handler(structuredClone(event), context as never);
    expect(out.verdict).toBe('SUCCESSFUL');
    expect(final()).toMatchObject({ RestoreJobId: JOB_ID, ValidationStatus: 'SUCCESSFUL' });
    expect(out.evidence?.checks.map((c) => [c.id, c.status])).toEqual([
      ['status', 'pass'],
      ['engine-version', 'pass'],
      ['storage-encrypted', 'pass'],
      ['not-public', 'pass'],
      ['restore-test-resource', 'pass'],
      ['login', 'pass'],
      ['orders-present', 'pass'],
      ['orders-fresh', 'pass'],
      ['user-tables', 'pass'],
      ['foreign-keys', 'skip'],
    ]);
    expect(out.evidence?.dataAgeMinutes).toBe(10);
    expect(secrets.commandCalls(GetSecretValueCommand)).toHaveLength(1);
  });

  it('posts FAILED naming each problem when the instance is public, unencrypted and on another major version', async () => {
    arrange(instance({ PubliclyAccessible: true, StorageEncrypted: false, EngineVersion: '16.2' }));
    const out = await handler(structuredClone(event), context as never);
    expect(out.verdict).toBe('FAILED');
    const message = final()?.ValidationStatusMessage ?? '';
    expect(message).toContain('not-public failed');
    expect(message).toContain('storage-encrypted failed: storage is not encrypted');
    expect(message).toContain("major version 16 (16.2) differs from the source's 15 (15.4)");
  });

  it('posts FAILED with the likely cause when the secret password no longer works', async () => {
    arrange(instance(), 'rotated-since-the-snapshot');
    const out = await handler(structuredClone(event), context as never);
    expect(out.verdict).toBe('FAILED');
    const message = final()?.ValidationStatusMessage ?? '';
    expect(message).toContain('login failed: login failed for user "validator"');
    expect(message).toContain('rotated after the snapshot');
    expect(message).not.toContain('rotated-since-the-snapshot');
  });

  it('posts FAILED when the restored instance does not exist', async () => {
    arrange(undefined);
    const out = await handler(structuredClone(event), context as never);
    expect(out.verdict).toBe('FAILED');
    expect(final()?.ValidationStatusMessage).toContain(`restored DB instance ${RESTORED} was not found`);
  });

  it('runs state checks only and reports SQL checks as not run when the engine is Oracle', async () => {
    arrange(instance({ Engine: 'oracle-ee', EngineVersion: '19.0.0.0.ru-2024-01.rur-2024-01.r1' }));
    rds.on(DescribeDBInstancesCommand, { DBInstanceIdentifier: 'orders-prod' }).resolves({
      DBInstances: [
        {
          DBInstanceIdentifier: 'orders-prod',
          Engine: 'oracle-ee',
          EngineVersion: '19.0.0.0.ru-2023-10.rur-2023-10.r1',
          StorageEncrypted: true,
        },
      ],
    });
    const out = await handler(structuredClone(event), context as never);
    const byId = Object.fromEntries((out.evidence?.checks ?? []).map((c) => [c.id, c]));
    expect(byId['engine-version']?.status).toBe('pass');
    expect(byId['orders-present']).toMatchObject({
      status: 'error',
      detail: 'sql check not run: engine oracle-ee gets state checks only (no SQL driver)',
    });
    expect(byId.login).toBeUndefined();
    expect(out.verdict).toBe('FAILED');
  });

  it('fails login with the reason when IAM authentication is asked for without TLS', async () => {
    const file = join(dir, 'iam.json');
    writeFileSync(
      file,
      JSON.stringify({
        version: 1,
        profiles: [
          {
            name: 'iam',
            match: { resourceType: 'RDS' },
            connection: { database: 'orders', iamAuth: true, user: 'validator', tls: false },
            checks: [{ id: 'q', sql: 'select 1', rows: { min: 0 } }],
          },
        ],
      }),
    );
    vi.stubEnv('RESTORE_VALIDATION_CONFIG', file);
    try {
      arrange(instance());
      const out = await handler(structuredClone(event), context as never);
      expect(out.verdict).toBe('FAILED');
      expect(final()?.ValidationStatusMessage).toContain(
        'login failed: IAM database authentication requires TLS',
      );
      expect(secrets.commandCalls(GetSecretValueCommand)).toHaveLength(0);
    } finally {
      vi.stubEnv('RESTORE_VALIDATION_CONFIG', join(dir, 'config.json'));
    }
  });

  it('falls back to the restore metadata for the source engine when the source cannot be described', async () => {
    arrange(instance());
    rds
      .on(DescribeDBInstancesCommand, { DBInstanceIdentifier: 'orders-prod' })
      .rejects(Object.assign(new Error('denied'), { name: 'AccessDenied' }));
    backup
      .on(GetRestoreJobMetadataCommand)
      .resolves({ RestoreJobId: JOB_ID, Metadata: { dbInstanceIdentifier: RESTORED, Engine: 'postgres' } });
    const out = await handler(structuredClone(event), context as never);
    const check = out.evidence?.checks.find((c) => c.id === 'engine-version');
    expect(check).toMatchObject({
      status: 'pass',
      detail: 'postgres as the source (version unknown; from metadata)',
    });
  });
});

import { BackupClient } from '@aws-sdk/client-backup';
import {
  CreateDBInstanceCommand,
  type DBCluster,
  type DBInstance,
  DeleteDBInstanceCommand,
  DescribeDBClustersCommand,
  DescribeDBInstancesCommand,
  DescribeOrderableDBInstanceOptionsCommand,
  RDSClient,
} from '@aws-sdk/client-rds';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { auroraValidator } from '../../functions/aurora/validator';
import { createClients } from '../../shared/clients';
import { parseConfig } from '../../shared/config/index';
import { CREATED_BY_TAG } from '../../shared/guard';
import { processRestoreEvent } from '../../shared/lifecycle';
import { type Postgres, startPostgres } from '../support/engines';
import { fixture } from '../support/fixtures';
import { mockCompletedJob } from '../support/lifecycle-harness';

const backup = mockClient(BackupClient);
const rds = mockClient(RDSClient);
const secrets = mockClient(SecretsManagerClient);

const event = fixture('completed-aurora.json') as {
  detail: { restoreJobId: string };
};
const JOB_ID = event.detail.restoreJobId;
const CLUSTER = 'awsbackup-restore-test-77f0a1b2';
const SECRET_ARN = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:billing-validator-AbCdEf';

let pg: Postgres;

beforeAll(async () => {
  pg = await startPostgres();
  pg.psql('CREATE DATABASE billing;');
  pg.psql(
    `CREATE TABLE invoices (id int); INSERT INTO invoices SELECT generate_series(1, 20); CREATE ROLE validator LOGIN PASSWORD 'v'; GRANT SELECT ON invoices TO validator;`,
    'billing',
  );
});
afterAll(async () => {
  await pg?.stop();
});

interface World {
  cluster: DBCluster;
  instances: Map<string, DBInstance>;
  /** Status a created instance reports when described. */
  createdStatus: string;
  deleteFails?: boolean;
}
let world: World;

function config(checks: unknown[], options: Record<string, unknown> = {}) {
  return parseConfig({
    version: 1,
    profiles: [
      {
        name: 'billing',
        match: { resourceType: 'Aurora' },
        connection: { database: 'billing', secretArn: SECRET_ARN, tls: false },
        options,
        checks,
      },
    ],
  });
}

function arrange(cluster: Partial<DBCluster> = {}) {
  world = {
    cluster: {
      DBClusterIdentifier: CLUSTER,
      Status: 'available',
      Engine: 'aurora-postgresql',
      EngineVersion: '15.4',
      StorageEncrypted: true,
      Endpoint: `${CLUSTER}.cluster-x.us-east-1.rds.amazonaws.com`,
      Port: 5432,
      DBClusterMembers: [],
      TagList: [{ Key: 'awsbackup-restore-test', Value: 'true' }],
      ...cluster,
    },
    instances: new Map(),
    createdStatus: 'available',
  };
  mockCompletedJob(backup, {
    restoreJobId: JOB_ID,
    resourceType: 'Aurora',
    createdResourceArn: `arn:aws:rds:us-east-1:123456789012:cluster:${world.cluster.DBClusterIdentifier}`,
    sourceResourceArn: 'arn:aws:rds:us-east-1:123456789012:cluster:billing-aurora',
    metadata: {},
  });
  secrets
    .on(GetSecretValueCommand)
    .resolves({ SecretString: JSON.stringify({ username: 'validator', password: 'v' }) });
  rds.on(DescribeDBClustersCommand).callsFake((input: { DBClusterIdentifier?: string }) => {
    if (input.DBClusterIdentifier === world.cluster.DBClusterIdentifier) {
      return {
        DBClusters: [
          {
            ...world.cluster,
            DBClusterMembers: [...world.instances.keys()].map((id) => ({ DBInstanceIdentifier: id })),
          },
        ],
      };
    }
    if (input.DBClusterIdentifier === 'billing-aurora')
      return {
        DBClusters: [
          {
            DBClusterIdentifier: 'billing-aurora',
            Engine: 'aurora-postgresql',
            EngineVersion: '15.2',
            StorageEncrypted: true,
          },
        ],
      };
    throw Object.assign(new Error('not found'), { name: 'DBClusterNotFoundFault' });
  });
  rds.on(DescribeDBInstancesCommand).callsFake((input: { DBInstanceIdentifier?: string }) => {
    const i = world.instances.get(input.DBInstanceIdentifier ?? '');
    if (!i) throw Object.assign(new Error('not found'), { name: 'DBInstanceNotFoundFault' });
    return { DBInstances: [i] };
  });
  rds.on(DescribeOrderableDBInstanceOptionsCommand).resolves({
    OrderableDBInstanceOptions: [
      { DBInstanceClass: 'db.r6g.large' },
      { DBInstanceClass: 'db.t4g.medium' },
      { DBInstanceClass: 'db.serverless' },
    ],
  });
  rds
    .on(CreateDBInstanceCommand)
    .callsFake(
      (input: {
        DBInstanceIdentifier: string;
        DBInstanceClass: string;
        Tags: { Key: string; Value: string }[];
      }) => {
        world.instances.set(input.DBInstanceIdentifier, {
          DBInstanceIdentifier: input.DBInstanceIdentifier,
          DBInstanceClass: input.DBInstanceClass,
          DBClusterIdentifier: world.cluster.DBClusterIdentifier,
          DBInstanceStatus: world.createdStatus,
          TagList: input.Tags,
          Endpoint: { Address: pg.host, Port: pg.port },
        });
        return { DBInstance: { DBInstanceIdentifier: input.DBInstanceIdentifier } };
      },
    );
  rds.on(DeleteDBInstanceCommand).callsFake((input: { DBInstanceIdentifier: string }) => {
    if (world.deleteFails)
      throw Object.assign(new Error('throttled for good'), { name: 'InvalidDBInstanceState' });
    const i = world.instances.get(input.DBInstanceIdentifier);
    if (i) i.DBInstanceStatus = 'deleting';
    return {};
  });
}

const run = (cfg: ReturnType<typeof config>) =>
  processRestoreEvent(
    structuredClone(event),
    { getRemainingTimeInMillis: () => 120_000 },
    {
      validator: auroraValidator,
      config: cfg,
      clients: createClients({ region: 'us-east-1' }),
      persistenceStore: false,
      sinks: [],
    },
  );

const creates = () => rds.commandCalls(CreateDBInstanceCommand).map((c) => c.args[0].input);
const deletes = () => rds.commandCalls(DeleteDBInstanceCommand).map((c) => c.args[0].input);
const checks = (out: Awaited<ReturnType<typeof run>>) =>
  Object.fromEntries((out.evidence?.checks ?? []).map((c) => [c.id, c]));

beforeEach(() => {
  backup.reset();
  rds.reset();
  secrets.reset();
});

describe('aurora validator', () => {
  it('creates the smallest instance, runs the checks on it and deletes it when the checks pass', async () => {
    arrange();
    const out = await run(
      config([{ id: 'invoices', sql: 'select count(*) as n from invoices', expect: { n: { equals: 20 } } }]),
    );
    expect(out.verdict).toBe('SUCCESSFUL');
    expect(creates()).toHaveLength(1);
    expect(creates()[0]).toMatchObject({
      DBClusterIdentifier: CLUSTER,
      Engine: 'aurora-postgresql',
      DBInstanceClass: 'db.t4g.medium',
      PubliclyAccessible: false,
    });
    expect(creates()[0]?.Tags).toContainEqual({ Key: CREATED_BY_TAG, Value: JOB_ID });
    expect(creates()[0]?.DBInstanceIdentifier).toMatch(new RegExp(`^${CLUSTER}-rv-[0-9a-f]{6}$`));
    // Automated backups belong to the cluster: DeleteAutomatedBackups does not apply to a member.
    expect(deletes()).toEqual([
      { DBInstanceIdentifier: creates()[0]?.DBInstanceIdentifier, SkipFinalSnapshot: true },
    ]);
    expect(out.evidence?.notes.temporaryInstanceDeleted).toBe('deleting');
    expect(checks(out).invoices?.status).toBe('pass');
  });

  it('still deletes the temporary instance when a check fails', async () => {
    arrange();
    const out = await run(
      config([{ id: 'invoices', sql: 'select count(*) as n from invoices', expect: { n: { min: 1000 } } }]),
    );
    expect(out.verdict).toBe('FAILED');
    expect(checks(out).invoices?.detail).toBe('column n is 20, below min 1000');
    expect(deletes()).toHaveLength(1);
  });

  it('fails and deletes the instance when it is not available within the budget', async () => {
    arrange();
    world.createdStatus = 'creating';
    const out = await run(
      config([{ id: 'invoices', sql: 'select 1', rows: { min: 0 } }], { checksReserveSeconds: 600 }),
    );
    expect(out.verdict).toBe('FAILED');
    expect(out.message).toMatch(/temporary instance .* was not available within \d+ s \(status creating\)/);
    expect(deletes()).toHaveLength(1);
  });

  it('reports a leftover instance as FAILED when the delete fails', async () => {
    arrange();
    world.deleteFails = true;
    const out = await run(
      config([{ id: 'invoices', sql: 'select count(*) as n from invoices', expect: { n: { equals: 20 } } }]),
    );
    expect(out.verdict).toBe('FAILED');
    expect(checks(out).cleanup?.detail).toContain('was left behind');
    expect(checks(out).invoices?.status).toBe('pass');
  });

  it('refuses to create an instance in a cluster that is not a restore-test cluster', async () => {
    arrange({ DBClusterIdentifier: 'billing-aurora-copy', TagList: [] });
    const out = await run(config([{ id: 'invoices', sql: 'select 1', rows: { min: 0 } }]));
    expect(out.verdict).toBe('FAILED');
    expect(out.message).toContain(
      'safety guard: refusing to create a temporary instance in billing-aurora-copy',
    );
    expect(creates()).toHaveLength(0);
    expect(deletes()).toHaveLength(0);
  });

  it('reuses its own instance instead of creating a second one when the Lambda is retried', async () => {
    arrange();
    world.instances.set(`${CLUSTER}-rv-abc123`, {
      DBInstanceIdentifier: `${CLUSTER}-rv-abc123`,
      DBInstanceClass: 'db.t4g.medium',
      DBClusterIdentifier: CLUSTER,
      DBInstanceStatus: 'available',
      TagList: [{ Key: CREATED_BY_TAG, Value: JOB_ID }],
      Endpoint: { Address: pg.host, Port: pg.port },
    });
    const out = await run(
      config([{ id: 'invoices', sql: 'select count(*) as n from invoices', expect: { n: { equals: 20 } } }]),
    );
    expect(out.verdict).toBe('SUCCESSFUL');
    expect(creates()).toHaveLength(0);
    expect(out.evidence?.notes.temporaryInstance).toMatchObject({
      identifier: `${CLUSTER}-rv-abc123`,
      reused: true,
    });
    expect(deletes()).toEqual([expect.objectContaining({ DBInstanceIdentifier: `${CLUSTER}-rv-abc123` })]);
  });

  it('uses db.serverless on a Serverless v2 cluster', async () => {
    arrange({ ServerlessV2ScalingConfiguration: { MinCapacity: 0.5, MaxCapacity: 1 } });
    const out = await run(
      config([{ id: 'invoices', sql: 'select 1 as one', expect: { one: { equals: 1 } } }]),
    );
    expect(out.verdict).toBe('SUCCESSFUL');
    expect(creates()[0]?.DBInstanceClass).toBe('db.serverless');
  });

  it('runs state checks only and creates nothing when the profile has no SQL checks', async () => {
    arrange();
    const out = await run(parseConfig({ version: 1 }));
    expect(out.verdict).toBe('SUCCESSFUL');
    expect(Object.keys(checks(out))).toEqual([
      'status',
      'engine-version',
      'storage-encrypted',
      'restore-test-resource',
    ]);
    expect(creates()).toHaveLength(0);
  });
});

/**
 * The sweep of leftover temporary DB instances against moto's RDS and Resource Groups Tagging API
 * (real tags, real deletes), with the restore jobs' validation status from a mocked Backup client.
 */
import { BackupClient, DescribeRestoreJobCommand } from '@aws-sdk/client-backup';
import { LambdaClient } from '@aws-sdk/client-lambda';
import {
  CreateDBClusterCommand,
  CreateDBInstanceCommand,
  DescribeDBInstancesCommand,
  RDSClient,
} from '@aws-sdk/client-rds';
import { ResourceGroupsTaggingAPIClient } from '@aws-sdk/client-resource-groups-tagging-api';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createReconcilerHandler } from '../../functions/reconciler/handler';
import { reconcilerSettings } from '../../functions/reconciler/settings';
import { sweepTemporaryInstances } from '../../functions/reconciler/sweep';
import { createClients } from '../../shared/clients';
import { runtimeSettings } from '../../shared/env';
import { CREATED_BY_TAG } from '../../shared/guard';
import { type Moto, startMoto } from '../support/engines';
import { FakeRestoreTestingApi } from './fake-restore-testing';

let moto: Moto;
let rds: RDSClient;
let tagging: ResourceGroupsTaggingAPIClient;
// Mocks every BackupClient while the unit tests run; the pass tests below use the HTTP fake instead.
let backup: ReturnType<typeof mockClient>;

beforeAll(async () => {
  moto = await startMoto();
  const config = { endpoint: moto.endpoint, region: 'us-east-1' };
  rds = new RDSClient(config);
  tagging = new ResourceGroupsTaggingAPIClient(config);
});
afterAll(async () => moto?.stop());
beforeEach(async () => moto.reset());

async function cluster(id: string, engine = 'aurora-postgresql') {
  await rds.send(
    new CreateDBClusterCommand({
      DBClusterIdentifier: id,
      Engine: engine,
      MasterUsername: 'admin',
      MasterUserPassword: 'not-a-real-secret-1',
    }),
  );
}
async function instance(id: string, clusterId: string, tags: { Key: string; Value: string }[]) {
  await rds.send(
    new CreateDBInstanceCommand({
      DBInstanceIdentifier: id,
      DBClusterIdentifier: clusterId,
      Engine: 'aurora-postgresql',
      DBInstanceClass: 'db.t4g.medium',
      Tags: tags,
    }),
  );
}
const exists = async (id: string) =>
  rds
    .send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: id }))
    .then((o) => (o.DBInstances?.length ?? 0) > 0)
    .catch(() => false);
const jobs = (status: Record<string, string | undefined>) =>
  backup.on(DescribeRestoreJobCommand).callsFake((input: { RestoreJobId: string }) => {
    if (!(input.RestoreJobId in status)) {
      const err = new Error(`restore job ${input.RestoreJobId} not found`);
      err.name = 'ResourceNotFoundException';
      throw err;
    }
    return { RestoreJobId: input.RestoreJobId, ValidationStatus: status[input.RestoreJobId] };
  });

describe('sweepTemporaryInstances', () => {
  beforeAll(() => {
    backup = mockClient(BackupClient);
  });
  afterAll(() => backup.restore());
  it('deletes our instance once its validation ended and keeps the one still in use', async () => {
    await cluster('awsbackup-restore-test-aaa');
    await instance('rv-tmp-done', 'awsbackup-restore-test-aaa', [{ Key: CREATED_BY_TAG, Value: 'job-done' }]);
    await instance('rv-tmp-busy', 'awsbackup-restore-test-aaa', [{ Key: CREATED_BY_TAG, Value: 'job-busy' }]);
    jobs({ 'job-done': 'FAILED', 'job-busy': 'VALIDATING' });

    const swept = await sweepTemporaryInstances({
      tagging,
      rds,
      backup: new BackupClient({}),
      now: new Date(),
    });

    expect(swept.find((s) => s.instance === 'rv-tmp-done')).toMatchObject({
      action: 'deleted',
      cluster: 'awsbackup-restore-test-aaa',
      reason: 'the validation of job-done ended FAILED',
    });
    expect(swept.find((s) => s.instance === 'rv-tmp-busy')).toMatchObject({ action: 'kept' });
    expect(await exists('rv-tmp-done')).toBe(false);
    expect(await exists('rv-tmp-busy')).toBe(true);
  });

  it('deletes an instance older than any validator can run even when its job says nothing', async () => {
    await cluster('awsbackup-restore-test-bbb');
    await instance('rv-tmp-old', 'awsbackup-restore-test-bbb', [{ Key: CREATED_BY_TAG, Value: 'job-gone' }]);
    jobs({});
    const later = new Date(Date.now() + 3 * 3_600_000);
    const swept = await sweepTemporaryInstances({ tagging, rds, backup: new BackupClient({}), now: later });
    expect(swept).toEqual([
      expect.objectContaining({
        instance: 'rv-tmp-old',
        action: 'deleted',
        reason: expect.stringMatching(/minutes old and no validator runs that long \(job not found\)/),
      }),
    ]);
    expect(await exists('rv-tmp-old')).toBe(false);
  });

  it('never touches an instance we did not create, and refuses ours outside a restore-test cluster', async () => {
    await cluster('production-orders');
    await cluster('awsbackup-restore-test-ccc');
    await instance('orders-1', 'production-orders', [{ Key: 'team', Value: 'orders' }]);
    await instance('restored-1', 'awsbackup-restore-test-ccc', []);
    await instance('rv-tmp-stray', 'production-orders', [{ Key: CREATED_BY_TAG, Value: 'job-x' }]);
    jobs({ 'job-x': 'SUCCESSFUL' });

    const swept = await sweepTemporaryInstances({
      tagging,
      rds,
      backup: new BackupClient({}),
      now: new Date(),
    });

    // only the tagged instance is considered at all, and it is refused by the cluster guard
    expect(swept).toEqual([
      expect.objectContaining({
        instance: 'rv-tmp-stray',
        action: 'refused',
        reason: expect.stringMatching(/refusing to delete an instance of cluster production-orders/),
      }),
    ]);
    for (const id of ['orders-1', 'restored-1', 'rv-tmp-stray']) expect(await exists(id), id).toBe(true);
  });

  it('reports an instance it could not judge as an error and goes on with the others', async () => {
    await cluster('awsbackup-restore-test-ddd');
    await instance('rv-tmp-a', 'awsbackup-restore-test-ddd', [{ Key: CREATED_BY_TAG, Value: 'job-a' }]);
    await instance('rv-tmp-b', 'awsbackup-restore-test-ddd', [{ Key: CREATED_BY_TAG, Value: 'job-b' }]);
    backup.on(DescribeRestoreJobCommand).callsFake((input: { RestoreJobId: string }) => {
      if (input.RestoreJobId === 'job-a') {
        const err = new Error('User is not authorized to perform: backup:DescribeRestoreJob');
        err.name = 'AccessDeniedException';
        throw err;
      }
      return { ValidationStatus: 'SUCCESSFUL' };
    });
    const swept = await sweepTemporaryInstances({
      tagging,
      rds,
      backup: new BackupClient({}),
      now: new Date(),
    });
    expect(swept.find((s) => s.instance === 'rv-tmp-a')).toMatchObject({
      action: 'error',
      reason: expect.stringContaining('not authorized'),
    });
    expect(swept.find((s) => s.instance === 'rv-tmp-b')).toMatchObject({ action: 'deleted' });
    expect(await exists('rv-tmp-a')).toBe(true);
  });
});

describe('reconciler pass with RECONCILER_SWEEP_INSTANCES', () => {
  async function pass(settings: Record<string, string>) {
    const api = new FakeRestoreTestingApi();
    await api.start();
    try {
      api.jobsApi.addJob({
        RestoreJobId: 'job-ended',
        ResourceType: 'Aurora',
        Status: 'COMPLETED',
        ValidationStatus: 'SUCCESSFUL',
        CreationDate: new Date(Date.now() - 3_600_000),
      });
      const clients = createClients(
        {},
        {
          backup: new BackupClient({ endpoint: api.endpoint, region: 'us-east-1', maxAttempts: 1 }),
          rds,
          lambda: new LambdaClient({ region: 'us-east-1' }), // no plan, so nothing is dispatched
        },
      );
      const handler = createReconcilerHandler({
        clients,
        settings: runtimeSettings(settings),
        reconciler: reconcilerSettings(settings),
        tagging,
      });
      return await handler({}, { getRemainingTimeInMillis: () => 300_000 });
    } finally {
      await api.stop();
    }
  }

  it('deletes the instance of a finished validation during the pass and reports it', async () => {
    await cluster('awsbackup-restore-test-eee');
    await instance('rv-tmp-e', 'awsbackup-restore-test-eee', [{ Key: CREATED_BY_TAG, Value: 'job-ended' }]);
    const off = await pass({});
    expect(off.sweptInstances).toEqual([]);
    expect(await exists('rv-tmp-e')).toBe(true);
    const on = await pass({ RECONCILER_SWEEP_INSTANCES: 'true' });
    expect(on.sweptInstances).toEqual([
      expect.objectContaining({ instance: 'rv-tmp-e', action: 'deleted', restoreJobId: 'job-ended' }),
    ]);
    expect(await exists('rv-tmp-e')).toBe(false);
  });

  it('ends the pass in an error naming the instance it refused, after the rest of the pass', async () => {
    await cluster('production-orders');
    await instance('rv-tmp-stray', 'production-orders', [{ Key: CREATED_BY_TAG, Value: 'job-ended' }]);
    await expect(pass({ RECONCILER_SWEEP_INSTANCES: 'true' })).rejects.toThrow(
      /1 temporary DB instance\(s\) left behind could not be swept: rv-tmp-stray/,
    );
    expect(await exists('rv-tmp-stray')).toBe(true);
  });
});

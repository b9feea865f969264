import * as docdb from '@aws-sdk/client-docdb';
import * as neptune from '@aws-sdk/client-neptune';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import {
  docdbControlPlane,
  LeftoverInstanceError,
  neptuneControlPlane,
  TemporaryInstance,
  type TemporaryInstanceOptions,
  temporaryInstanceName,
} from '../../shared/cluster/temporary-instance';
import { SafetyGuardError } from '../../shared/errors';
import { CREATED_BY_TAG } from '../../shared/guard';

const docdbMock = mockClient(docdb.DocDBClient);
const neptuneMock = mockClient(neptune.NeptuneClient);
const CLUSTER = 'awsbackup-restore-test-docdb-0a1b2c3d';

beforeEach(() => {
  docdbMock.reset();
  neptuneMock.reset();
});

/** The Neptune restore-test cluster, available and accepting CreateDBInstance. */
function neptuneRestoreCluster() {
  neptuneMock.on(neptune.DescribeDBClustersCommand).resolves({
    DBClusters: [
      { DBClusterIdentifier: CLUSTER, Engine: 'neptune', Status: 'available', DBClusterMembers: [] },
    ],
  });
  neptuneMock.on(neptune.CreateDBInstanceCommand).resolves({});
}

/** A temporary instance in the Neptune restore-test cluster. */
const neptuneInstance = (options: Omit<TemporaryInstanceOptions, 'controlPlane' | 'clusterIdentifier'>) =>
  new TemporaryInstance({
    controlPlane: neptuneControlPlane(new neptune.NeptuneClient({ region: 'us-east-1' })),
    clusterIdentifier: CLUSTER,
    ...options,
  });

describe('temporaryInstanceName', () => {
  it('keeps the restore-test prefix and AWS naming rules when the cluster name is long', () => {
    const name = temporaryInstanceName(`awsbackup-restore-test-${'x'.repeat(60)}`, 'abc123');
    expect(name.length).toBeLessThanOrEqual(63);
    expect(name).toMatch(/^awsbackup-restore-test-x+-rv-abc123$/);
    expect(name).not.toContain('--');
  });
});

describe('TemporaryInstance with DocumentDB', () => {
  it('creates a tagged docdb instance of the smallest orderable class and deletes it when asked', async () => {
    const instances = new Map<string, docdb.DBInstance>();
    docdbMock.on(docdb.DescribeDBClustersCommand).resolves({
      DBClusters: [
        {
          DBClusterIdentifier: CLUSTER,
          Engine: 'docdb',
          EngineVersion: '5.0.0',
          Status: 'available',
          DBClusterMembers: [],
        },
      ],
    });
    docdbMock.on(docdb.DescribeOrderableDBInstanceOptionsCommand).resolves({
      OrderableDBInstanceOptions: [{ DBInstanceClass: 'db.r6g.large' }, { DBInstanceClass: 'db.t3.medium' }],
    });
    docdbMock.on(docdb.CreateDBInstanceCommand).callsFake((input: docdb.CreateDBInstanceMessage) => {
      instances.set(input.DBInstanceIdentifier ?? '', {
        DBInstanceArn: `arn:aws:rds:us-east-1:123456789012:db:${input.DBInstanceIdentifier}`,
        DBInstanceIdentifier: input.DBInstanceIdentifier,
        DBInstanceStatus: 'available',
        DBClusterIdentifier: CLUSTER,
        Endpoint: { Address: 'x.docdb.amazonaws.com', Port: 27017 },
      });
      return {};
    });
    docdbMock.on(docdb.DescribeDBInstancesCommand).callsFake((input: { DBInstanceIdentifier: string }) => {
      const i = instances.get(input.DBInstanceIdentifier);
      if (!i) throw Object.assign(new Error('nf'), { name: 'DBInstanceNotFoundFault' });
      return { DBInstances: [i] };
    });
    docdbMock
      .on(docdb.ListTagsForResourceCommand)
      .resolves({ TagList: [{ Key: CREATED_BY_TAG, Value: 'job-1' }] });
    docdbMock.on(docdb.DeleteDBInstanceCommand).callsFake((input: { DBInstanceIdentifier: string }) => {
      instances.delete(input.DBInstanceIdentifier);
      return {};
    });
    const temp = new TemporaryInstance({
      controlPlane: docdbControlPlane(new docdb.DocDBClient({ region: 'us-east-1' })),
      clusterIdentifier: CLUSTER,
      createdBy: 'job-1',
    });
    const created = await temp.create();
    const input = docdbMock.commandCalls(docdb.CreateDBInstanceCommand)[0]?.args[0].input;
    expect(input).toMatchObject({
      DBClusterIdentifier: CLUSTER,
      Engine: 'docdb',
      DBInstanceClass: 'db.t3.medium',
      Tags: [{ Key: CREATED_BY_TAG, Value: 'job-1' }],
    });
    expect(input).not.toHaveProperty('PubliclyAccessible');
    const ready = await temp.waitUntilAvailable(Date.now() + 1000);
    expect(ready.endpoint).toEqual({ host: 'x.docdb.amazonaws.com', port: 27017 });
    // DocumentDB's DescribeDBInstances carries no tags: the guard read them with ListTagsForResource.
    expect(await temp.delete()).toBe('gone');
    expect(docdbMock.commandCalls(docdb.ListTagsForResourceCommand)[0]?.args[0].input).toEqual({
      ResourceName: `arn:aws:rds:us-east-1:123456789012:db:${created.identifier}`,
    });
    expect(docdbMock.commandCalls(docdb.DeleteDBInstanceCommand)).toHaveLength(1);
  });

  it('refuses to create anything in a cluster that is not a restore-test cluster', async () => {
    docdbMock
      .on(docdb.DescribeDBClustersCommand)
      .resolves({ DBClusters: [{ DBClusterIdentifier: 'prod-docs', Engine: 'docdb', Status: 'available' }] });
    const temp = new TemporaryInstance({
      controlPlane: docdbControlPlane(new docdb.DocDBClient({ region: 'us-east-1' })),
      clusterIdentifier: 'prod-docs',
      createdBy: 'job-1',
    });
    await expect(temp.create()).rejects.toBeInstanceOf(SafetyGuardError);
    expect(docdbMock.commandCalls(docdb.CreateDBInstanceCommand)).toHaveLength(0);
    expect(await temp.delete()).toBe('not-created');
  });
});

describe('TemporaryInstance.waitUntilAvailable', () => {
  it('polls until the instance turns available when it starts as creating', async () => {
    const statuses = ['creating', 'creating', 'backing-up', 'available'];
    neptuneRestoreCluster();
    neptuneMock.on(neptune.DescribeDBInstancesCommand).callsFake(() => ({
      DBInstances: [
        {
          DBInstanceIdentifier: 'x',
          DBInstanceStatus: statuses.shift() ?? 'available',
          TagList: [],
        } as neptune.DBInstance,
      ],
    }));
    const slept: number[] = [];
    const temp = neptuneInstance({
      createdBy: 'job-4',
      instanceClass: 'db.t4g.medium',
      pollMs: 15_000,
      sleep: async (ms) => {
        slept.push(ms);
      },
    });
    await temp.create();
    const ready = await temp.waitUntilAvailable(Date.now() + 3_600_000);
    expect(ready.status).toBe('available');
    expect(slept).toEqual([15_000, 15_000, 15_000]);
  });

  it('stops at once when the instance fails', async () => {
    neptuneRestoreCluster();
    neptuneMock.on(neptune.DescribeDBInstancesCommand).resolves({
      DBInstances: [
        {
          DBInstanceIdentifier: 'x',
          DBInstanceStatus: 'incompatible-network',
          TagList: [],
        } as neptune.DBInstance,
      ],
    });
    const temp = neptuneInstance({
      createdBy: 'job-5',
      instanceClass: 'db.t4g.medium',
    });
    await temp.create();
    await expect(temp.waitUntilAvailable(Date.now() + 3_600_000)).rejects.toThrow(
      /is incompatible-network: it cannot serve queries/,
    );
  });
});

describe('TemporaryInstance with Neptune', () => {
  it('refuses to delete an instance without the created-by tag', async () => {
    neptuneRestoreCluster();
    neptuneMock
      .on(neptune.DescribeOrderableDBInstanceOptionsCommand)
      .rejects(Object.assign(new Error('denied'), { name: 'AccessDenied' }));
    neptuneMock.on(neptune.DescribeDBInstancesCommand).resolves({
      DBInstances: [
        {
          DBInstanceIdentifier: 'someone-elses',
          DBInstanceStatus: 'available',
          DBClusterIdentifier: CLUSTER,
        },
      ],
    });
    const temp = neptuneInstance({
      createdBy: 'job-2',
    });
    await temp.create();
    expect(neptuneMock.commandCalls(neptune.CreateDBInstanceCommand)[0]?.args[0].input.DBInstanceClass).toBe(
      'db.t4g.medium',
    );
    await expect(temp.delete()).rejects.toBeInstanceOf(SafetyGuardError);
    expect(neptuneMock.commandCalls(neptune.DeleteDBInstanceCommand)).toHaveLength(0);
  });

  it('reports a leftover instance when DeleteDBInstance fails', async () => {
    neptuneRestoreCluster();
    neptuneMock.on(neptune.DescribeDBInstancesCommand).resolves({
      DBInstances: [
        {
          DBInstanceIdentifier: 'x',
          DBInstanceStatus: 'available',
          DBClusterIdentifier: CLUSTER,
          TagList: [{ Key: CREATED_BY_TAG, Value: 'job-3' }],
        } as neptune.DBInstance,
      ],
    });
    neptuneMock
      .on(neptune.DeleteDBInstanceCommand)
      .rejects(Object.assign(new Error('state'), { name: 'InvalidDBInstanceStateFault' }));
    const temp = neptuneInstance({
      createdBy: 'job-3',
      instanceClass: 'db.r6g.large',
    });
    await temp.create();
    await expect(temp.delete()).rejects.toBeInstanceOf(LeftoverInstanceError);
  });
});

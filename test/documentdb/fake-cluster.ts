/**
 * aws-sdk-client-mock set-up of a restored cluster with no instance, for the DocumentDB and Neptune
 * tests: the temporary instance goes creating → available → deleting as the real APIs do.
 */
import * as docdb from '@aws-sdk/client-docdb';
import * as neptune from '@aws-sdk/client-neptune';
import { mockClient } from 'aws-sdk-client-mock';
import { CREATED_BY_TAG } from '../../shared/guard';

export interface FakeClusterOptions {
  readonly service: 'docdb' | 'neptune';
  readonly identifier: string;
  readonly source?: string;
  readonly engine?: string;
  readonly engineVersion?: string;
  readonly sourceEngineVersion?: string;
  readonly encrypted?: boolean;
  readonly iamAuth?: boolean;
  readonly deleteFails?: boolean;
  readonly endpointHost?: string;
  readonly port?: number;
}

export interface FakeCluster {
  // biome-ignore lint/suspicious/noExplicitAny: the mock is shared between two SDKs
  readonly mock: any;
  readonly client: docdb.DocDBClient | neptune.NeptuneClient;
  readonly created: () =>
    | { identifier?: string; instanceClass?: string; tags?: { Key?: string; Value?: string }[] }
    | undefined;
  readonly deleted: () => string[];
  readonly restore: () => void;
}

export function fakeCluster(o: FakeClusterOptions): FakeCluster {
  const sdk = (o.service === 'docdb' ? docdb : neptune) as unknown as typeof docdb;
  const client =
    o.service === 'docdb'
      ? new docdb.DocDBClient({ region: 'us-east-1' })
      : new neptune.NeptuneClient({ region: 'us-east-1' });
  const mock = mockClient(client as docdb.DocDBClient);
  const engine = o.engine ?? o.service;
  let instance:
    | {
        identifier: string;
        instanceClass: string;
        tags: { Key?: string; Value?: string }[];
        polls: number;
        status: string;
      }
    | undefined;
  const deletedIds: string[] = [];
  const cluster = (id: string, version: string | undefined) => ({
    DBClusterIdentifier: id,
    DBClusterArn: `arn:aws:rds:us-east-1:123456789012:cluster:${id}`,
    Status: 'available',
    Engine: engine,
    EngineVersion: version ?? '5.0.0',
    StorageEncrypted: o.encrypted ?? true,
    IAMDatabaseAuthenticationEnabled: o.iamAuth ?? false,
    Port: o.port ?? 27017,
    DBClusterMembers:
      instance && instance.status !== 'deleted' ? [{ DBInstanceIdentifier: instance.identifier }] : [],
  });
  mock.on(sdk.DescribeDBClustersCommand).callsFake((input: { DBClusterIdentifier?: string }) => {
    if (input.DBClusterIdentifier === o.identifier)
      return { DBClusters: [cluster(o.identifier, o.engineVersion)] };
    if (o.source && input.DBClusterIdentifier === o.source)
      return { DBClusters: [cluster(o.source, o.sourceEngineVersion ?? o.engineVersion)] };
    throw Object.assign(new Error('not found'), { name: 'DBClusterNotFoundFault' });
  });
  mock.on(sdk.ListTagsForResourceCommand).resolves({ TagList: [] });
  mock.on(sdk.DescribeOrderableDBInstanceOptionsCommand).resolves({
    OrderableDBInstanceOptions: [{ DBInstanceClass: 'db.r6g.large' }, { DBInstanceClass: 'db.t4g.medium' }],
  });
  mock
    .on(sdk.CreateDBInstanceCommand)
    .callsFake(
      (input: {
        DBInstanceIdentifier: string;
        DBInstanceClass: string;
        Tags?: { Key?: string; Value?: string }[];
      }) => {
        instance = {
          identifier: input.DBInstanceIdentifier,
          instanceClass: input.DBInstanceClass,
          tags: input.Tags ?? [],
          polls: 0,
          status: 'creating',
        };
        return { DBInstance: { DBInstanceIdentifier: input.DBInstanceIdentifier } };
      },
    );
  mock.on(sdk.DescribeDBInstancesCommand).callsFake((input: { DBInstanceIdentifier?: string }) => {
    if (!instance || input.DBInstanceIdentifier !== instance.identifier || instance.status === 'deleted') {
      throw Object.assign(new Error('not found'), { name: 'DBInstanceNotFoundFault' });
    }
    if (instance.status === 'creating' && ++instance.polls >= 2) instance.status = 'available';
    return {
      DBInstances: [
        {
          DBInstanceIdentifier: instance.identifier,
          DBInstanceStatus: instance.status,
          DBClusterIdentifier: o.identifier,
          DBInstanceClass: instance.instanceClass,
          TagList: instance.tags,
          Endpoint:
            instance.status === 'available'
              ? { Address: o.endpointHost ?? `${instance.identifier}.cluster.local`, Port: o.port ?? 27017 }
              : undefined,
        },
      ],
    };
  });
  mock.on(sdk.DeleteDBInstanceCommand).callsFake((input: { DBInstanceIdentifier: string }) => {
    if (o.deleteFails) throw Object.assign(new Error('denied'), { name: 'AccessDeniedException' });
    deletedIds.push(input.DBInstanceIdentifier);
    if (instance) instance.status = 'deleting';
    return {};
  });
  return {
    mock,
    client,
    created: () =>
      instance
        ? { identifier: instance.identifier, instanceClass: instance.instanceClass, tags: instance.tags }
        : undefined,
    deleted: () => deletedIds,
    restore: () => mock.restore(),
  };
}

export const createdByTag = CREATED_BY_TAG;

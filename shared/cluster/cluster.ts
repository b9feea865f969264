/**
 * Restored DocumentDB and Neptune clusters: state facts from DescribeDBClusters, the state checks both
 * engines share (available, encrypted, engine as the source), and the temporary instance their data
 * checks need — restored clusters have no instance (shared/cluster/temporary-instance.ts does the create, wait
 * and guarded delete; this module decides when and records what happened).
 * @see https://docs.aws.amazon.com/aws-backup/latest/devguide/restore-testing.html
 */
import * as docdb from '@aws-sdk/client-docdb';
import { DocDBClient } from '@aws-sdk/client-docdb';
import * as neptune from '@aws-sdk/client-neptune';
import { NeptuneClient } from '@aws-sdk/client-neptune';
import { type CheckDefinition, defineCheck, fail, pass, skip } from '../checks';
import { registerClients } from '../clients';
import { isNotFoundError, ResourceStateError, reasonOf } from '../errors';
import { assertRestoreTestResource } from '../guard';
import { type RetryOptions, withRetry } from '../retry';
import { describeSource } from '../source';
import type { ValidationContext } from '../validator';
import {
  docdbControlPlane,
  type InstanceControlPlane,
  type InstanceFacts,
  neptuneControlPlane,
  TemporaryInstance,
} from './temporary-instance';

registerClients({ docdb: DocDBClient, neptune: NeptuneClient });

export type ClusterService = 'docdb' | 'neptune';

export interface ClusterDetail {
  readonly identifier: string;
  readonly arn?: string;
  readonly status: string;
  readonly engine: string;
  readonly engineVersion?: string;
  readonly storageEncrypted: boolean;
  readonly kmsKeyId?: string;
  readonly iamAuth: boolean;
  readonly endpoint?: string;
  readonly port?: number;
  readonly members: number;
  readonly tags: readonly { Key?: string; Value?: string }[];
}

/** How the data checks reach the cluster: a temporary instance's endpoint, or why there is none. */
export interface DataAccess {
  readonly host?: string;
  readonly port?: number;
  readonly instanceIdentifier?: string;
  readonly instanceClass?: string;
  /** Why the data checks cannot run (temporary instance failed, …). */
  readonly problem?: string;
}

export interface ClusterFacts {
  readonly cluster: ClusterDetail;
  readonly source?: ClusterDetail;
  readonly sourceProblem?: string;
  /** Present when the profile has data checks. */
  readonly data?: DataAccess;
}

type Described = {
  DBClusterIdentifier?: string;
  DBClusterArn?: string;
  Status?: string;
  Engine?: string;
  EngineVersion?: string;
  StorageEncrypted?: boolean;
  KmsKeyId?: string;
  IAMDatabaseAuthenticationEnabled?: boolean;
  Endpoint?: string;
  Port?: number;
  DBClusterMembers?: unknown[];
};

const toDetail = (c: Described, tags: { Key?: string; Value?: string }[]): ClusterDetail => ({
  identifier: c.DBClusterIdentifier ?? '',
  arn: c.DBClusterArn,
  status: (c.Status ?? 'unknown').toLowerCase(),
  engine: c.Engine ?? '',
  engineVersion: c.EngineVersion,
  storageEncrypted: c.StorageEncrypted ?? false,
  kmsKeyId: c.KmsKeyId,
  iamAuth: c.IAMDatabaseAuthenticationEnabled ?? false,
  endpoint: c.Endpoint,
  port: c.Port,
  members: c.DBClusterMembers?.length ?? 0,
  tags,
});

/** DescribeDBClusters (+ tags) through the DocumentDB or Neptune API; undefined when not found. */
export async function describeCluster(
  ctx: ValidationContext,
  service: ClusterService,
  identifier: string,
  retry: RetryOptions,
): Promise<ClusterDetail | undefined> {
  // The two APIs take and return the same shapes; only the client and command classes differ.
  const api =
    service === 'docdb'
      ? {
          describe: () =>
            ctx.clients.docdb.send(new docdb.DescribeDBClustersCommand({ DBClusterIdentifier: identifier })),
          tags: (arn: string) =>
            ctx.clients.docdb.send(new docdb.ListTagsForResourceCommand({ ResourceName: arn })),
        }
      : {
          describe: () =>
            ctx.clients.neptune.send(
              new neptune.DescribeDBClustersCommand({ DBClusterIdentifier: identifier }),
            ),
          tags: (arn: string) =>
            ctx.clients.neptune.send(new neptune.ListTagsForResourceCommand({ ResourceName: arn })),
        };
  try {
    const c: Described | undefined = (await withRetry(api.describe, retry)).DBClusters?.[0];
    if (!c) return undefined;
    const arn = c.DBClusterArn;
    const tags = arn
      ? ((await withRetry(() => api.tags(arn), retry).catch(() => undefined))?.TagList ?? [])
      : [];
    return toDetail(c, tags);
  } catch (err) {
    if (isNotFoundError(err)) return undefined;
    throw err;
  }
}

/** The restored cluster's identifier: `dbClusterIdentifier` metadata, else the created ARN (`cluster:<id>`). */
export function restoredClusterIdentifier(ctx: ValidationContext): string | undefined {
  return (
    ctx.job.metadata.get('dbClusterIdentifier') ??
    (ctx.job.created?.resourceType === 'cluster' ? ctx.job.created.resourceId : undefined)
  );
}

const temporaryInstances = new WeakMap<object, TemporaryInstance>();

export interface GatherClusterOptions {
  readonly service: ClusterService;
  /** `docdb` or `neptune`: the engine the restored cluster must run. */
  readonly engine: string;
  /** The profile has checks that query the data: a temporary instance is needed. */
  readonly needsData: boolean;
  /** Test seam: the control plane for the temporary instance. */
  readonly controlPlane?: InstanceControlPlane;
}

/**
 * Gathers the state of the restored and source clusters and, when data checks are configured, brings
 * up a temporary instance. A temporary-instance failure does not stop the state checks: it is recorded
 * as `data.problem`, and every data check reports it. The instance is deleted in `cleanupCluster`.
 */
export async function gatherCluster(ctx: ValidationContext, o: GatherClusterOptions): Promise<ClusterFacts> {
  if (ctx.mode === 'local') {
    throw new ResourceStateError(
      `${o.service === 'docdb' ? 'DocumentDB' : 'Neptune'} has no local check target: use \`restore-validation replay --event FILE\``,
    );
  }
  const id = restoredClusterIdentifier(ctx);
  if (!id)
    throw new ResourceStateError(
      'the restore job names no cluster (no dbClusterIdentifier metadata, no cluster ARN)',
    );
  const retry: RetryOptions = { deadline: ctx.deadline, signal: ctx.signal };
  const cluster = await describeCluster(ctx, o.service, id, retry);
  if (!cluster) throw new ResourceStateError(`restored cluster ${id} does not exist`);
  // Read-only so far, but the temporary instance will modify the cluster: refuse anything else up front.
  assertRestoreTestResource(cluster.identifier, cluster.tags, 'validate');
  const { source, sourceProblem } = await describeSource(
    ctx.job.source?.resourceType === 'cluster' ? ctx.job.source.resourceId : undefined,
    (sourceId) => `cluster ${sourceId}`,
    (sourceId) => describeCluster(ctx, o.service, sourceId, retry),
    'no source cluster in the restore job',
  );
  ctx.note('engine', `${cluster.engine} ${cluster.engineVersion ?? ''}`.trim());
  if (!o.needsData) return { cluster, source, sourceProblem };
  const data = await bringUpInstance(ctx, o, cluster);
  return { cluster, source, sourceProblem, data };
}

/** Time kept back from the deadline (at most; a third of what is left on short budgets) for the queries and the delete after the instance is up. */
const QUERY_RESERVE_MS = 90_000;

async function bringUpInstance(
  ctx: ValidationContext,
  o: GatherClusterOptions,
  cluster: ClusterDetail,
): Promise<DataAccess> {
  if (cluster.status !== 'available')
    return { problem: `cluster is ${cluster.status}: no temporary instance created` };
  const controlPlane =
    o.controlPlane ??
    (o.service === 'docdb' ? docdbControlPlane(ctx.clients.docdb) : neptuneControlPlane(ctx.clients.neptune));
  const instanceClass =
    typeof ctx.profile?.options?.temporaryInstanceClass === 'string'
      ? ctx.profile.options.temporaryInstanceClass
      : undefined;
  const pollSeconds = Number(ctx.profile?.options?.temporaryInstancePollSeconds);
  const tmp = new TemporaryInstance({
    controlPlane,
    clusterIdentifier: cluster.identifier,
    instanceClass,
    createdBy: ctx.job.restoreJobId,
    signal: ctx.signal,
    ...(Number.isFinite(pollSeconds) && pollSeconds > 0 ? { pollMs: pollSeconds * 1000 } : {}),
    onEvent: (message, attributes) => ctx.logger.info(message, attributes),
  });
  temporaryInstances.set(ctx, tmp);
  try {
    const created = await tmp.create();
    ctx.note('temporaryInstance', {
      identifier: created.identifier,
      instanceClass: created.instanceClass,
      reused: created.reused,
    });
    const started = Date.now();
    const instance: InstanceFacts = await tmp.waitUntilAvailable(
      ctx.deadline - Math.min(QUERY_RESERVE_MS, ctx.remainingMs() / 3),
    );
    ctx.note('temporaryInstanceWaitSeconds', Math.round((Date.now() - started) / 1000));
    if (!instance.endpoint)
      return {
        problem: `temporary instance ${created.identifier} is available but reports no endpoint`,
        instanceIdentifier: created.identifier,
      };
    return {
      host: instance.endpoint.host,
      port: instance.endpoint.port || cluster.port,
      instanceIdentifier: created.identifier,
      instanceClass: created.instanceClass,
    };
  } catch (err) {
    return { problem: `temporary instance: ${reasonOf(err)}`, instanceIdentifier: tmp.identifier };
  }
}

/**
 * Deletes the temporary instance, if one was requested — always, whatever happened before. Throws
 * (→ a `cleanup` error result, so a FAILED verdict) when it cannot, because a leftover instance keeps
 * AWS Backup from deleting the restored cluster.
 */
export async function cleanupCluster(ctx: ValidationContext): Promise<void> {
  const tmp = temporaryInstances.get(ctx);
  if (!tmp) return;
  temporaryInstances.delete(ctx);
  const outcome = await tmp.delete();
  if (outcome !== 'not-created')
    ctx.note('temporaryInstanceDeleted', { identifier: tmp.identifier, outcome });
}

/** The state checks both engines get. */
export function clusterStateChecks<F extends ClusterFacts>(engine: string): CheckDefinition<F>[] {
  return [
    defineCheck<F>({
      id: 'cluster-status',
      description: 'the restored cluster is available',
      run: (f) =>
        f.cluster.status === 'available'
          ? pass(`cluster ${f.cluster.identifier} is available`, { members: f.cluster.members })
          : fail(`cluster ${f.cluster.identifier} is ${f.cluster.status}, not available`),
    }),
    defineCheck<F>({
      id: 'encryption',
      description: 'storage encrypted, at least as the source',
      run: (f) => {
        if (f.cluster.storageEncrypted)
          return pass(
            `storage encrypted${f.cluster.kmsKeyId ? ` (KMS key ${f.cluster.kmsKeyId.split('/').pop()})` : ''}`,
          );
        if (!f.source) return fail(`storage not encrypted (source not known: ${f.sourceProblem})`);
        return f.source.storageEncrypted
          ? fail(`storage not encrypted, but the source ${f.source.identifier} is`)
          : skip(`storage not encrypted, as the source ${f.source.identifier}`);
      },
    }),
    defineCheck<F>({
      id: 'engine',
      description: `engine ${engine}, same version as the source`,
      run: (f) => {
        const got = `${f.cluster.engine} ${f.cluster.engineVersion ?? '?'}`;
        if (f.cluster.engine !== engine) return fail(`engine is ${got}, expected ${engine}`);
        if (!f.source) return pass(`engine ${got} (source not compared: ${f.sourceProblem})`);
        const want = `${f.source.engine} ${f.source.engineVersion ?? '?'}`;
        if (got === want) return pass(`engine ${got}, as the source`);
        // A restore runs the snapshot's version; the source may have been upgraded since the backup.
        return pass(
          `engine ${got}; the source now runs ${want} (upgraded since the backup, or restored with another version)`,
          {
            versionDiffers: true,
          },
        );
      },
    }),
  ];
}

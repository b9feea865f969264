/**
 * Temporary DB instances on restored clusters. Aurora, DocumentDB and Neptune restore a cluster with
 * no instance, so nothing can be queried until one exists; this module creates the smallest instance
 * the engine allows, waits until it is available within a budget, and deletes it again — and refuses
 * to do any of that on a cluster that is not a restore-test cluster, or to delete an instance it did
 * not create. A leftover instance keeps AWS Backup from deleting the restored cluster, so a failed
 * delete is an error the caller must turn into a FAILED verdict.
 *
 * Engine-agnostic: the RDS, DocumentDB and Neptune APIs share the operations used here
 * (DescribeDBClusters, CreateDBInstance, DescribeDBInstances, DeleteDBInstance,
 * DescribeOrderableDBInstanceOptions); `rdsControlPlane`, `docdbControlPlane` and
 * `neptuneControlPlane` adapt each client to one InstanceControlPlane, and tests can pass their own.
 * @see https://docs.aws.amazon.com/aws-backup/latest/devguide/restore-testing.html
 * @see https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/Concepts.DBInstanceClass.SupportAurora.html
 */
import { randomBytes } from 'node:crypto';
import * as docdb from '@aws-sdk/client-docdb';
import * as neptune from '@aws-sdk/client-neptune';
import * as rds from '@aws-sdk/client-rds';
import {
  isNotFoundError,
  ResourceStateError,
  RestoreValidationError,
  reasonOf,
  SafetyGuardError,
} from '../errors';
import { assertCreatedByUs, assertRestoreTestResource, CREATED_BY_TAG } from '../guard';
import { withRetry } from '../retry';

export type Tag = { Key?: string; Value?: string };

export interface ClusterFacts {
  readonly identifier: string;
  readonly engine: string;
  readonly engineVersion?: string;
  readonly status: string;
  readonly tags: readonly Tag[];
  /** Identifiers of the cluster's instances. */
  readonly members: readonly string[];
  /** Serverless v2 capacity range, when the cluster has one (then `db.serverless` is the cheapest class). */
  readonly serverlessV2?: { readonly minCapacity?: number; readonly maxCapacity?: number };
  readonly port?: number;
}

export interface InstanceFacts {
  readonly identifier: string;
  readonly status: string;
  readonly tags: readonly Tag[];
  readonly clusterIdentifier?: string;
  readonly instanceClass?: string;
  readonly endpoint?: { readonly host: string; readonly port: number };
}

export interface CreateInstanceInput {
  readonly identifier: string;
  readonly clusterIdentifier: string;
  readonly engine: string;
  readonly instanceClass: string;
  readonly tags: readonly Tag[];
}

/** The control-plane operations a temporary instance needs; one adapter per service. */
export interface InstanceControlPlane {
  readonly service: 'rds' | 'docdb' | 'neptune';
  describeCluster(id: string, signal?: AbortSignal): Promise<ClusterFacts | undefined>;
  describeInstance(id: string, signal?: AbortSignal): Promise<InstanceFacts | undefined>;
  createInstance(input: CreateInstanceInput, signal?: AbortSignal): Promise<void>;
  deleteInstance(id: string, signal?: AbortSignal): Promise<void>;
  /** Instance classes orderable for the engine/version (to pick the smallest); optional. */
  orderableClasses?(
    engine: string,
    engineVersion: string | undefined,
    signal?: AbortSignal,
  ): Promise<string[]>;
}

/** Smallest first. `db.t3.small` only serves old Aurora MySQL versions, hence the orderable look-up. */
export const SMALLEST_INSTANCE_CLASSES: Readonly<Record<string, readonly string[]>> = {
  'aurora-postgresql': ['db.t4g.medium', 'db.t3.medium', 'db.r6g.large', 'db.r5.large'],
  'aurora-mysql': ['db.t3.small', 'db.t4g.medium', 'db.t3.medium', 'db.r6g.large', 'db.r5.large'],
  docdb: ['db.t4g.medium', 'db.t3.medium', 'db.r6g.large', 'db.r5.large'],
  neptune: ['db.t4g.medium', 'db.t3.medium', 'db.r6g.large', 'db.r5.large'],
};

const FAILED_STATES = new Set([
  'failed',
  'incompatible-parameters',
  'incompatible-network',
  'incompatible-restore',
  'incompatible-option-group',
  'inaccessible-encryption-credentials',
  'storage-full',
  'deleting',
  'deleted',
]);

type AnyTag = { Key?: string; Value?: string };
type DescribedCluster = {
  DBClusterIdentifier?: string;
  Engine?: string;
  EngineVersion?: string;
  Status?: string;
  TagList?: AnyTag[];
  DBClusterMembers?: { DBInstanceIdentifier?: string }[];
  ServerlessV2ScalingConfiguration?: { MinCapacity?: number; MaxCapacity?: number };
  Port?: number;
};
type DescribedInstance = {
  DBInstanceArn?: string;
  DBInstanceIdentifier?: string;
  DBInstanceStatus?: string;
  TagList?: AnyTag[];
  DBClusterIdentifier?: string;
  DBInstanceClass?: string;
  Endpoint?: { Address?: string; Port?: number };
};

const toCluster = (c: DescribedCluster): ClusterFacts => ({
  identifier: c.DBClusterIdentifier ?? '',
  engine: c.Engine ?? '',
  engineVersion: c.EngineVersion,
  status: (c.Status ?? 'unknown').toLowerCase(),
  tags: c.TagList ?? [],
  members: (c.DBClusterMembers ?? []).map((m) => m.DBInstanceIdentifier ?? '').filter(Boolean),
  serverlessV2: c.ServerlessV2ScalingConfiguration
    ? {
        minCapacity: c.ServerlessV2ScalingConfiguration.MinCapacity,
        maxCapacity: c.ServerlessV2ScalingConfiguration.MaxCapacity,
      }
    : undefined,
  port: c.Port,
});

const toInstance = (i: DescribedInstance): InstanceFacts => ({
  identifier: i.DBInstanceIdentifier ?? '',
  status: (i.DBInstanceStatus ?? 'unknown').toLowerCase(),
  tags: i.TagList ?? [],
  clusterIdentifier: i.DBClusterIdentifier,
  instanceClass: i.DBInstanceClass,
  endpoint: i.Endpoint?.Address ? { host: i.Endpoint.Address, port: i.Endpoint.Port ?? 0 } : undefined,
});

// The three SDKs have structurally identical commands for what is used here; one generic adapter
// over their command constructors keeps the behaviour identical for every engine.
interface Commands {
  DescribeDBClustersCommand: new (i: { DBClusterIdentifier: string }) => unknown;
  DescribeDBInstancesCommand: new (i: { DBInstanceIdentifier: string }) => unknown;
  CreateDBInstanceCommand: new (i: never) => unknown;
  DeleteDBInstanceCommand: new (i: never) => unknown;
  DescribeOrderableDBInstanceOptionsCommand: new (i: {
    Engine: string;
    EngineVersion?: string;
    MaxRecords?: number;
    Marker?: string;
  }) => unknown;
  ListTagsForResourceCommand: new (i: { ResourceName: string }) => unknown;
}
interface Sender {
  send(command: never, options?: { abortSignal?: AbortSignal }): Promise<unknown>;
}

function adapter(
  service: InstanceControlPlane['service'],
  client: Sender,
  c: Commands,
  extraCreate: Record<string, unknown>,
  extraDelete: Record<string, unknown>,
): InstanceControlPlane {
  const send = <T>(cmd: unknown, signal?: AbortSignal) =>
    withRetry(() => client.send(cmd as never, { abortSignal: signal }) as Promise<T>, { signal });
  return {
    service,
    async describeCluster(id, signal) {
      try {
        const out = await send<{ DBClusters?: DescribedCluster[] }>(
          new c.DescribeDBClustersCommand({ DBClusterIdentifier: id }),
          signal,
        );
        const first = out.DBClusters?.[0];
        return first ? toCluster(first) : undefined;
      } catch (err) {
        if (isNotFoundError(err)) return undefined;
        throw err;
      }
    },
    async describeInstance(id, signal) {
      try {
        const out = await send<{ DBInstances?: DescribedInstance[] }>(
          new c.DescribeDBInstancesCommand({ DBInstanceIdentifier: id }),
          signal,
        );
        const first = out.DBInstances?.[0];
        if (!first) return undefined;
        // DocumentDB and Neptune describe instances without tags: the guard needs them, so ask.
        if (!first.TagList && first.DBInstanceArn) {
          // Unreadable tags count as none: the delete guard then refuses rather than guesses.
          const tags = await send<{ TagList?: AnyTag[] } | undefined>(
            new c.ListTagsForResourceCommand({ ResourceName: first.DBInstanceArn }),
            signal,
          ).catch(() => undefined);
          return toInstance({ ...first, TagList: tags?.TagList ?? [] });
        }
        return toInstance(first);
      } catch (err) {
        if (isNotFoundError(err)) return undefined;
        throw err;
      }
    },
    async createInstance(input, signal) {
      await send(
        new c.CreateDBInstanceCommand({
          DBInstanceIdentifier: input.identifier,
          DBClusterIdentifier: input.clusterIdentifier,
          Engine: input.engine,
          DBInstanceClass: input.instanceClass,
          Tags: input.tags.map((t) => ({ Key: t.Key, Value: t.Value })),
          ...extraCreate,
        } as never),
        signal,
      );
    },
    async deleteInstance(id, signal) {
      await send(
        new c.DeleteDBInstanceCommand({ DBInstanceIdentifier: id, ...extraDelete } as never),
        signal,
      );
    },
    async orderableClasses(engine, engineVersion, signal) {
      const classes = new Set<string>();
      let marker: string | undefined;
      // Hand-rolled: one Sender serves three clients here; an SDK paginator takes one client class.
      for (let page = 0; page < 20; page++) {
        const out = await send<{
          OrderableDBInstanceOptions?: { DBInstanceClass?: string }[];
          Marker?: string;
        }>(
          new c.DescribeOrderableDBInstanceOptionsCommand({
            Engine: engine,
            EngineVersion: engineVersion,
            MaxRecords: 100,
            Marker: marker,
          }),
          signal,
        );
        for (const o of out.OrderableDBInstanceOptions ?? [])
          if (o.DBInstanceClass) classes.add(o.DBInstanceClass);
        marker = out.Marker;
        if (!marker) break;
      }
      return [...classes];
    },
  };
}

/*
 * The six commands the adapter sends, each read from its client module by name, one object per
 * client so a bundle keeps only the clients it uses. Handing the adapter a whole module namespace
 * instead (or passing the namespace to a function) keeps every command, paginator and waiter of the
 * client in each bundle that uses it: client-rds weighed 217 kB in the Aurora bundle against 96 kB in
 * RDS's.
 */
const rdsCommands = {
  DescribeDBClustersCommand: rds.DescribeDBClustersCommand,
  DescribeDBInstancesCommand: rds.DescribeDBInstancesCommand,
  CreateDBInstanceCommand: rds.CreateDBInstanceCommand,
  DeleteDBInstanceCommand: rds.DeleteDBInstanceCommand,
  DescribeOrderableDBInstanceOptionsCommand: rds.DescribeOrderableDBInstanceOptionsCommand,
  ListTagsForResourceCommand: rds.ListTagsForResourceCommand,
} as unknown as Commands;

const docdbCommands = {
  DescribeDBClustersCommand: docdb.DescribeDBClustersCommand,
  DescribeDBInstancesCommand: docdb.DescribeDBInstancesCommand,
  CreateDBInstanceCommand: docdb.CreateDBInstanceCommand,
  DeleteDBInstanceCommand: docdb.DeleteDBInstanceCommand,
  DescribeOrderableDBInstanceOptionsCommand: docdb.DescribeOrderableDBInstanceOptionsCommand,
  ListTagsForResourceCommand: docdb.ListTagsForResourceCommand,
} as unknown as Commands;

const neptuneCommands = {
  DescribeDBClustersCommand: neptune.DescribeDBClustersCommand,
  DescribeDBInstancesCommand: neptune.DescribeDBInstancesCommand,
  CreateDBInstanceCommand: neptune.CreateDBInstanceCommand,
  DeleteDBInstanceCommand: neptune.DeleteDBInstanceCommand,
  DescribeOrderableDBInstanceOptionsCommand: neptune.DescribeOrderableDBInstanceOptionsCommand,
  ListTagsForResourceCommand: neptune.ListTagsForResourceCommand,
} as unknown as Commands;

/**
 * RDS (Aurora) control plane. The instance is private: PubliclyAccessible false. It is deleted with
 * SkipFinalSnapshot only: automated backups belong to the cluster, and DeleteAutomatedBackups does
 * not apply to a cluster member (the reconciler's sweep deletes members the same way).
 * @see https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_DeleteDBInstance.html
 */
export function rdsControlPlane(client: rds.RDSClient): InstanceControlPlane {
  return adapter(
    'rds',
    client as unknown as Sender,
    rdsCommands,
    { PubliclyAccessible: false },
    { SkipFinalSnapshot: true },
  );
}

/** DocumentDB control plane (its instances have no public-access flag; they live in the cluster's VPC). */
export function docdbControlPlane(client: docdb.DocDBClient): InstanceControlPlane {
  return adapter('docdb', client as unknown as Sender, docdbCommands, {}, {});
}

/** Neptune control plane. */
export function neptuneControlPlane(client: neptune.NeptuneClient): InstanceControlPlane {
  return adapter('neptune', client as unknown as Sender, neptuneCommands, {}, { SkipFinalSnapshot: true });
}

/** The temporary instance could not be deleted: it would keep AWS Backup from deleting the cluster. */
export class LeftoverInstanceError extends RestoreValidationError {
  readonly identifier: string;
  constructor(identifier: string, why: string, options?: ErrorOptions) {
    super(
      `temporary instance ${identifier} was left behind (${why}): delete it, or AWS Backup cannot delete the restored cluster`,
      options,
    );
    this.name = 'LeftoverInstanceError';
    this.identifier = identifier;
  }
}

/** Picks the cheapest class: `db.serverless` on a Serverless v2 cluster, else the first orderable of the engine's list. */
export async function smallestInstanceClass(
  cp: InstanceControlPlane,
  cluster: ClusterFacts,
  signal?: AbortSignal,
): Promise<string> {
  if (cluster.serverlessV2) return 'db.serverless';
  const preferred =
    SMALLEST_INSTANCE_CLASSES[cluster.engine.toLowerCase()] ??
    SMALLEST_INSTANCE_CLASSES['aurora-postgresql'] ??
    [];
  const fallback =
    cluster.engine.toLowerCase() === 'aurora-mysql' ? 'db.t4g.medium' : (preferred[0] ?? 'db.t4g.medium');
  if (!cp.orderableClasses) return fallback;
  try {
    const orderable = new Set(await cp.orderableClasses(cluster.engine, cluster.engineVersion, signal));
    return preferred.find((c) => orderable.has(c)) ?? fallback;
  } catch {
    // Not allowed to list options (IAM) or throttled: the default is orderable for current versions.
    return fallback;
  }
}

/** A name AWS accepts (≤ 63, letters/digits/hyphens, no double hyphen) that keeps the restore-test prefix of the cluster. */
export function temporaryInstanceName(
  clusterIdentifier: string,
  suffix = randomBytes(3).toString('hex'),
): string {
  const base = clusterIdentifier
    .replace(/[^A-Za-z0-9-]/g, '-')
    .replace(/-+/g, '-')
    .slice(0, 63 - 11)
    .replace(/-$/, '');
  return `${base}-rv-${suffix}`;
}

export interface TemporaryInstanceOptions {
  readonly controlPlane: InstanceControlPlane;
  readonly clusterIdentifier: string;
  /** Overrides the class (e.g. a profile's `options.temporaryInstanceClass`). */
  readonly instanceClass?: string;
  /** Tag value recorded under CREATED_BY_TAG (e.g. the restore job id). */
  readonly createdBy: string;
  readonly signal?: AbortSignal;
  /** Poll interval while waiting. Default 15 s (an instance takes minutes). */
  readonly pollMs?: number;
  readonly sleep?: (ms: number) => Promise<void>;
  readonly onEvent?: (message: string, attributes: Record<string, unknown>) => void;
}

const sleepFor = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    const t = setTimeout(resolve, ms);
    signal?.addEventListener(
      'abort',
      () => {
        clearTimeout(t);
        resolve();
      },
      { once: true },
    );
  });

/**
 * One temporary instance's life: `create()` → `waitUntilAvailable()` → `delete()`. Keep the object
 * from before `create()` is called, so that `delete()` can run in clean-up even when creation or
 * waiting failed half-way (`delete()` does nothing when nothing was requested).
 */
export class TemporaryInstance {
  readonly #o: TemporaryInstanceOptions;
  #identifier: string | undefined;
  #requested = false;
  #reused = false;
  #instanceClass: string | undefined;

  constructor(options: TemporaryInstanceOptions) {
    this.#o = options;
  }

  get identifier(): string | undefined {
    return this.#identifier;
  }
  get instanceClass(): string | undefined {
    return this.#instanceClass;
  }
  /** True when an instance we created earlier (a retried invocation) was picked up instead of a new one. */
  get reused(): boolean {
    return this.#reused;
  }
  /** Whether a CreateDBInstance was sent (or an earlier instance of ours adopted): delete() must run. */
  get requested(): boolean {
    return this.#requested;
  }

  /**
   * Creates the instance after checking the cluster is a restore-test cluster. An instance of ours
   * already in the cluster (the Lambda was retried) is reused, not duplicated.
   */
  async create(): Promise<{ identifier: string; instanceClass: string; reused: boolean }> {
    const { controlPlane: cp, signal } = this.#o;
    const cluster = await cp.describeCluster(this.#o.clusterIdentifier, signal);
    if (!cluster) throw new ResourceStateError(`cluster ${this.#o.clusterIdentifier} was not found`);
    assertRestoreTestResource(cluster.identifier, cluster.tags, 'create a temporary instance in');
    for (const member of cluster.members) {
      const existing = await cp.describeInstance(member, signal);
      if (existing?.tags.some((t) => t.Key === CREATED_BY_TAG) && !FAILED_STATES.has(existing.status)) {
        this.#identifier = existing.identifier;
        this.#instanceClass = existing.instanceClass;
        this.#requested = true;
        this.#reused = true;
        this.#o.onEvent?.('temporary instance reused', {
          instance: existing.identifier,
          status: existing.status,
        });
        return { identifier: existing.identifier, instanceClass: existing.instanceClass ?? '', reused: true };
      }
    }
    const instanceClass = this.#o.instanceClass ?? (await smallestInstanceClass(cp, cluster, signal));
    const identifier = temporaryInstanceName(cluster.identifier);
    this.#identifier = identifier;
    this.#instanceClass = instanceClass;
    // Marked before the call: a create that succeeded but whose answer was lost must still be deleted.
    this.#requested = true;
    this.#o.onEvent?.('creating temporary instance', {
      instance: identifier,
      instanceClass,
      cluster: cluster.identifier,
    });
    await cp.createInstance(
      {
        identifier,
        clusterIdentifier: cluster.identifier,
        engine: cluster.engine,
        instanceClass,
        tags: [{ Key: CREATED_BY_TAG, Value: this.#o.createdBy }],
      },
      signal,
    );
    return { identifier, instanceClass, reused: false };
  }

  /** Polls until the instance is available; throws ResourceStateError on a failed state or when `deadline` (epoch ms) passes. */
  async waitUntilAvailable(deadline: number): Promise<InstanceFacts> {
    const id = this.#identifier;
    if (!id) throw new Error('waitUntilAvailable() before create()');
    const { controlPlane: cp, signal } = this.#o;
    const poll = this.#o.pollMs ?? 15_000;
    const started = Date.now();
    let last = 'unknown';
    // Hand-rolled: DBInstanceAvailable waiters know fewer failed states, retry errors (aws-sdk-js-v3#2091).
    for (;;) {
      const i = await cp.describeInstance(id, signal);
      last = i?.status ?? 'not found';
      if (i?.status === 'available') {
        this.#o.onEvent?.('temporary instance available', { instance: id, waitedMs: Date.now() - started });
        return i;
      }
      if (i && FAILED_STATES.has(i.status))
        throw new ResourceStateError(`temporary instance ${id} is ${i.status}: it cannot serve queries`);
      const left = deadline - Date.now();
      if (left <= 0 || signal?.aborted) {
        throw new ResourceStateError(
          `temporary instance ${id} was not available within ${Math.round((Date.now() - started) / 1000)} s (status ${last}); give the validator more time or use a Serverless v2 cluster`,
        );
      }
      await (this.#o.sleep ?? ((ms: number) => sleepFor(ms, signal)))(Math.min(poll, left));
    }
  }

  /**
   * Deletes the instance if one was requested. Refuses (SafetyGuardError) to delete an instance that
   * lacks our tag or sits in a non-restore-test cluster. Throws LeftoverInstanceError when the
   * instance still exists and is not being deleted afterwards.
   */
  async delete(): Promise<'not-created' | 'gone' | 'deleting'> {
    const id = this.#identifier;
    if (!this.#requested || !id) return 'not-created';
    // Clean-up runs after the deadline too: no abort signal here, only the SDK's own retries.
    const cp = this.#o.controlPlane;
    let current: InstanceFacts | undefined;
    try {
      current = await cp.describeInstance(id);
    } catch (err) {
      throw new LeftoverInstanceError(id, `could not describe it: ${reasonOf(err)}`, { cause: err });
    }
    if (!current) return 'gone';
    assertCreatedByUs(id, current.tags, 'delete');
    const clusterId = current.clusterIdentifier ?? this.#o.clusterIdentifier;
    const cluster = await cp.describeCluster(clusterId).catch(() => undefined);
    assertRestoreTestResource(clusterId, cluster?.tags, 'delete an instance of');
    if (current.status !== 'deleting') {
      try {
        await cp.deleteInstance(id);
      } catch (err) {
        if (isNotFoundError(err)) return 'gone';
        if (err instanceof SafetyGuardError) throw err;
        throw new LeftoverInstanceError(id, `DeleteDBInstance failed: ${reasonOf(err)}`, { cause: err });
      }
    }
    const after = await cp.describeInstance(id).catch(() => undefined);
    if (after && after.status !== 'deleting' && after.status !== 'deleted') {
      throw new LeftoverInstanceError(id, `it is ${after.status} after DeleteDBInstance`);
    }
    this.#o.onEvent?.('temporary instance deleted', { instance: id });
    return after ? 'deleting' : 'gone';
  }
}

/**
 * Facts and state checks shared by the RDS and Aurora validators: what `DescribeDBInstances` /
 * `DescribeDBClusters` say about the restored database compared with its source.
 * @see https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_DescribeDBInstances.html
 * @see https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_DescribeDBClusters.html
 */
import {
  type DBCluster,
  type DBInstance,
  DescribeDBClustersCommand,
  DescribeDBInstancesCommand,
  type RDSClient,
} from '@aws-sdk/client-rds';
import { type CheckDefinition, defineCheck, fail, pass, skip } from '../checks';
import { ResourceStateError } from '../errors';
import { isRestoreTestResource } from '../guard';
import type { RestoreJob } from '../job';
import { withRetry } from '../retry';
import type { SqlEngine } from '../sql/index';
import type { ValidationContext } from '../validator';

/** What the state checks look at, for an instance (RDS) or a cluster (Aurora). */
export interface DatabaseState {
  readonly kind: 'instance' | 'cluster';
  readonly identifier: string;
  readonly arn?: string;
  readonly status: string;
  readonly engine: string;
  readonly engineVersion: string;
  readonly storageEncrypted?: boolean;
  /** Instances only; clusters have no such flag (their instances do). */
  readonly publiclyAccessible?: boolean;
  readonly tags: ReadonlyArray<{ Key?: string; Value?: string }>;
  readonly endpoint?: { readonly host: string; readonly port: number };
  readonly iamDatabaseAuthenticationEnabled?: boolean;
}

/** The source database as far as it could be learned, and from where. */
export interface SourceState {
  readonly engine?: string;
  readonly engineVersion?: string;
  readonly storageEncrypted?: boolean;
  readonly from: 'api' | 'metadata' | 'unknown';
  /** Why the source could not be described (permissions, deleted, other account). */
  readonly note?: string;
}

/** Statuses in which a restored database answers queries. */
const USABLE = new Set([
  'available',
  'backing-up',
  'storage-optimization',
  'configuring-enhanced-monitoring',
  'configuring-log-exports',
]);

export function instanceState(i: DBInstance): DatabaseState {
  return {
    kind: 'instance',
    identifier: i.DBInstanceIdentifier ?? '',
    arn: i.DBInstanceArn,
    status: (i.DBInstanceStatus ?? 'unknown').toLowerCase(),
    engine: i.Engine ?? '',
    engineVersion: i.EngineVersion ?? '',
    storageEncrypted: i.StorageEncrypted,
    publiclyAccessible: i.PubliclyAccessible,
    tags: i.TagList ?? [],
    endpoint: i.Endpoint?.Address ? { host: i.Endpoint.Address, port: i.Endpoint.Port ?? 0 } : undefined,
    iamDatabaseAuthenticationEnabled: i.IAMDatabaseAuthenticationEnabled,
  };
}

export function clusterState(c: DBCluster): DatabaseState {
  return {
    kind: 'cluster',
    identifier: c.DBClusterIdentifier ?? '',
    arn: c.DBClusterArn,
    status: (c.Status ?? 'unknown').toLowerCase(),
    engine: c.Engine ?? '',
    engineVersion: c.EngineVersion ?? '',
    storageEncrypted: c.StorageEncrypted,
    tags: c.TagList ?? [],
    endpoint: c.Endpoint ? { host: c.Endpoint, port: c.Port ?? 0 } : undefined,
    iamDatabaseAuthenticationEnabled: c.IAMDatabaseAuthenticationEnabled,
  };
}

/** The SQL driver for an RDS engine name, or undefined for engines checked by state only (Oracle, SQL Server, Db2). */
export function sqlEngineOf(rdsEngine: string): SqlEngine | undefined {
  const e = rdsEngine.toLowerCase();
  if (e === 'postgres' || e === 'aurora-postgresql') return 'postgres';
  if (e === 'mysql' || e === 'aurora-mysql' || e === 'aurora') return 'mysql';
  if (e === 'mariadb') return 'mariadb';
  return undefined;
}

/**
 * The major version as RDS upgrades it: PostgreSQL ≥ 10 by its first number (`15.4` → `15`), older
 * PostgreSQL and MySQL/MariaDB by two (`9.6.22` → `9.6`, `8.0.35` → `8.0`, `8.0.mysql_aurora.3.05.2` → `8.0`).
 * @see https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_UpgradeDBInstance.Upgrading.html
 */
export function majorVersion(engine: string, version: string): string {
  const parts = version.split('.');
  const first = parts[0] ?? '';
  if (/postgres/i.test(engine) && Number(first) >= 10) return first;
  return parts.slice(0, 2).join('.');
}

/** Engine family for comparison: `aurora-postgresql` and `postgres` are different products, so compare as given. */
const sameEngine = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();

export async function describeInstance(
  rds: RDSClient,
  id: string,
  signal?: AbortSignal,
): Promise<DBInstance | undefined> {
  try {
    const out = await withRetry(
      () => rds.send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: id }), { abortSignal: signal }),
      { signal },
    );
    return out.DBInstances?.[0];
  } catch (err) {
    if ((err as { name?: string }).name === 'DBInstanceNotFoundFault') return undefined;
    throw err;
  }
}

export async function describeCluster(
  rds: RDSClient,
  id: string,
  signal?: AbortSignal,
): Promise<DBCluster | undefined> {
  try {
    const out = await withRetry(
      () => rds.send(new DescribeDBClustersCommand({ DBClusterIdentifier: id }), { abortSignal: signal }),
      { signal },
    );
    return out.DBClusters?.[0];
  } catch (err) {
    if ((err as { name?: string }).name === 'DBClusterNotFoundFault') return undefined;
    throw err;
  }
}

/**
 * What is known about the source: DescribeDB* when this account can read it, else the restore metadata
 * (`engine`/`engineVersion` keys AWS Backup records), else nothing (the version check then skips).
 */
export async function sourceState(
  job: RestoreJob,
  describe: (
    id: string,
  ) => Promise<{ engine?: string; engineVersion?: string; storageEncrypted?: boolean } | undefined>,
): Promise<SourceState> {
  const fromMetadata = (note?: string): SourceState => {
    const engine = job.metadata.get('engine');
    const engineVersion = job.metadata.get('engineVersion');
    if (!engine && !engineVersion) return { from: 'unknown', note };
    return {
      engine,
      engineVersion,
      storageEncrypted: job.metadata.getBoolean('storageEncrypted'),
      from: 'metadata',
      note,
    };
  };
  const source = job.source;
  // Another account's (or region's) source cannot be described with our credentials.
  if (
    !source?.resourceId ||
    (job.created && (source.accountId !== job.created.accountId || source.region !== job.created.region))
  ) {
    return fromMetadata(source ? 'source is in another account or region' : 'no source ARN');
  }
  try {
    const s = await describe(source.resourceId);
    if (!s) return fromMetadata('source no longer exists');
    return {
      engine: s.engine,
      engineVersion: s.engineVersion,
      storageEncrypted: s.storageEncrypted,
      from: 'api',
    };
  } catch (err) {
    return fromMetadata(`source not readable: ${(err as { name?: string }).name ?? 'error'}`);
  }
}

/** Where each kind is named in a restore job, and how DescribeDB* says it is not there. */
const KINDS = {
  instance: {
    arnType: 'db',
    metadataKey: 'dbInstanceIdentifier',
    notFound: 'DescribeDBInstances: DBInstanceNotFound',
  },
  cluster: {
    arnType: 'cluster',
    metadataKey: 'dbClusterIdentifier',
    notFound: 'DescribeDBClusters: DBClusterNotFound',
  },
} as const;

/** The restored database's identifier: the created ARN (`db:<id>`, `cluster:<id>`), else the restore metadata. */
export function restoredId(ctx: ValidationContext, kind: DatabaseState['kind']): string {
  const { arnType, metadataKey } = KINDS[kind];
  const created = ctx.job.created;
  const id = created?.resourceType === arnType ? created.resourceId : ctx.job.metadata.get(metadataKey);
  if (!id)
    throw new ResourceStateError(
      `the restore job names no DB ${kind} (no CreatedResourceArn of type ${arnType} and no ${metadataKey} metadata)`,
    );
  return id;
}

/** The restored instance (RDS) or cluster (Aurora) and its source, described and logged. */
export function describeRestored(
  ctx: ValidationContext,
  kind: DatabaseState['kind'],
): Promise<{ db: DatabaseState; source: SourceState }> {
  return kind === 'instance'
    ? describedAs(ctx, kind, describeInstance, instanceState)
    : describedAs(ctx, kind, describeCluster, clusterState);
}

async function describedAs<T extends DBInstance | DBCluster>(
  ctx: ValidationContext,
  kind: DatabaseState['kind'],
  describe: (rds: RDSClient, id: string, signal?: AbortSignal) => Promise<T | undefined>,
  stateOf: (described: T) => DatabaseState,
): Promise<{ db: DatabaseState; source: SourceState }> {
  const id = restoredId(ctx, kind);
  const described = await describe(ctx.clients.rds, id, ctx.signal);
  if (!described)
    throw new ResourceStateError(`restored DB ${kind} ${id} was not found (${KINDS[kind].notFound})`);
  const db = stateOf(described);
  const source = await sourceState(ctx.job, async (sid) => {
    const s = await describe(ctx.clients.rds, sid, ctx.signal);
    return s && { engine: s.Engine, engineVersion: s.EngineVersion, storageEncrypted: s.StorageEncrypted };
  });
  ctx.logger.info(`restored ${kind} described`, {
    [kind]: db.identifier,
    status: db.status,
    engine: db.engine,
    engineVersion: db.engineVersion,
    sourceFrom: source.from,
  });
  return { db, source };
}

export interface StateCheckOptions {
  /** Fail when storage is not encrypted (default true). `options.requireEncryption: false` in a profile turns it off. */
  readonly requireEncryption: boolean;
  /** Whether the job is a restore test (the name/tag guard applies). */
  readonly restoreTest: boolean;
}

/** The built-in state checks over a DatabaseState. Each one is a pure function of the facts. */
export function stateChecks<F>(
  db: DatabaseState,
  source: SourceState,
  options: StateCheckOptions,
): CheckDefinition<F>[] {
  const checks: CheckDefinition<F>[] = [
    defineCheck<F>({
      id: 'status',
      description: 'The restored database is in a usable state.',
      run: () => {
        return USABLE.has(db.status)
          ? pass(`${db.kind} ${db.identifier} is ${db.status}`)
          : fail(`${db.kind} ${db.identifier} is ${db.status}, not available`);
      },
    }),
    defineCheck<F>({
      id: 'engine-version',
      description: 'Engine and major version match the source.',
      run: () => {
        if (!source.engine && !source.engineVersion) {
          return skip(
            `source engine unknown (${source.note ?? 'not described'}); restored is ${db.engine} ${db.engineVersion}`,
          );
        }
        if (source.engine && !sameEngine(source.engine, db.engine)) {
          return fail(`engine ${db.engine} differs from the source's ${source.engine}`);
        }
        if (source.engineVersion) {
          const want = majorVersion(db.engine, source.engineVersion);
          const got = majorVersion(db.engine, db.engineVersion);
          if (want !== got)
            return fail(
              `major version ${got} (${db.engineVersion}) differs from the source's ${want} (${source.engineVersion})`,
            );
          return pass(
            `${db.engine} ${db.engineVersion}, major version ${got} as the source (from ${source.from})`,
          );
        }
        return pass(`${db.engine} as the source (version unknown; from ${source.from})`);
      },
    }),
    defineCheck<F>({
      id: 'storage-encrypted',
      description: 'Storage of the restored database is encrypted.',
      run: () => {
        if (db.storageEncrypted === true) return pass('storage is encrypted');
        if (!options.requireEncryption) {
          return source.storageEncrypted === true
            ? fail('storage is not encrypted although the source is')
            : skip('storage is not encrypted (allowed by options.requireEncryption: false)');
        }
        return fail(
          source.storageEncrypted === false
            ? 'storage is not encrypted (neither is the source; set options.requireEncryption: false to accept)'
            : 'storage is not encrypted',
        );
      },
    }),
    defineCheck<F>({
      id: 'restore-test-resource',
      description:
        'The resource validated is a restore-test resource (named or tagged awsbackup-restore-test).',
      run: () => {
        if (isRestoreTestResource(db.identifier, db.tags))
          return pass(`${db.identifier} is a restore-test resource`);
        return options.restoreTest
          ? fail(
              `${db.identifier} is neither named awsbackup-restore-test-… nor tagged awsbackup-restore-test`,
            )
          : skip(`${db.identifier} is a manual restore, not a restore-test resource`);
      },
    }),
  ];
  // Clusters carry no public-access flag: their instances do (the temporary one is created private).
  if (db.publiclyAccessible !== undefined) {
    checks.splice(
      3,
      0,
      defineCheck<F>({
        id: 'not-public',
        description: 'The restored database is not publicly accessible.',
        run: () =>
          db.publiclyAccessible
            ? fail(`${db.identifier} is publicly accessible`)
            : pass('not publicly accessible'),
      }),
    );
  }
  return checks;
}

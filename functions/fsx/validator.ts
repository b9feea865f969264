/**
 * The FSx validator (Lustre, ONTAP, OpenZFS, Windows File Server). A restored file system must be
 * AVAILABLE with the source's type, deployment type, storage capacity/type and throughput. FSx for ONTAP
 * backups are per volume: the restore creates a volume, compared with the source volume.
 * @see https://docs.aws.amazon.com/fsx/latest/APIReference/API_DescribeFileSystems.html
 * @see https://docs.aws.amazon.com/aws-backup/latest/devguide/restoring-fsx.html
 */
import {
  DescribeFileSystemsCommand,
  DescribeVolumesCommand,
  type FileSystem,
  FSxClient,
  type Volume,
} from '@aws-sdk/client-fsx';
import { type CheckDefinition, defineCheck, fail, pass, skip } from '../../shared/checks';
import { registerClients } from '../../shared/clients';
import { ResourceStateError } from '../../shared/errors';
import {
  type ContentOptions,
  type ContentPlan,
  type ContentTarget,
  contentChecks,
  type FileSystemContext,
  prepareContent,
} from '../../shared/files/content';
import { type FileSystemSettings, fileSystemSettings } from '../../shared/files/settings';
import { type RetryOptions, withRetry } from '../../shared/retry';
import { describeSource } from '../../shared/source';
import { defineValidator, type ValidatorDefinition } from '../../shared/validator';

registerClients({ fsx: FSxClient });

export interface FsxShape {
  readonly id: string;
  /** `file-system` or `volume` (ONTAP / OpenZFS volume restores). */
  readonly resource: 'file-system' | 'volume';
  readonly lifecycle: string;
  readonly type?: string;
  readonly deploymentType?: string;
  readonly storageCapacityGiB?: number;
  readonly storageType?: string;
  /** Lustre: MB/s per TiB; the others: MB/s. */
  readonly throughput?: number;
  readonly throughputUnit?: string;
  readonly kmsKeyId?: string;
  readonly dnsName?: string;
  readonly mountName?: string;
  /** Volume size in MiB (volumes only). */
  readonly volumeSizeMiB?: number;
  /** Volumes: the file system the volume belongs to (it has the DNS name a volume lacks). */
  readonly parentFileSystemId?: string;
}

export interface FsxFacts {
  readonly restored: FsxShape;
  readonly source?: FsxShape;
  readonly sourceProblem?: string;
  readonly content: ContentPlan;
}

/** The parts of an FSx file system a restore must keep. */
export function fsxFileSystemShape(f: FileSystem): FsxShape {
  const type = f.FileSystemType;
  let deploymentType: string | undefined;
  let throughput: number | undefined;
  let throughputUnit = 'MB/s';
  let mountName: string | undefined;
  if (f.LustreConfiguration) {
    deploymentType = f.LustreConfiguration.DeploymentType;
    throughput = f.LustreConfiguration.PerUnitStorageThroughput;
    throughputUnit = 'MB/s/TiB';
    mountName = f.LustreConfiguration.MountName;
  } else if (f.WindowsConfiguration) {
    deploymentType = f.WindowsConfiguration.DeploymentType;
    throughput = f.WindowsConfiguration.ThroughputCapacity;
  } else if (f.OntapConfiguration) {
    deploymentType = f.OntapConfiguration.DeploymentType;
    throughput = f.OntapConfiguration.ThroughputCapacity;
  } else if (f.OpenZFSConfiguration) {
    deploymentType = f.OpenZFSConfiguration.DeploymentType;
    throughput = f.OpenZFSConfiguration.ThroughputCapacity;
    // The root volume of an OpenZFS file system is exported as /fsx.
    mountName = '/fsx';
  }
  return {
    id: f.FileSystemId ?? '',
    resource: 'file-system',
    lifecycle: f.Lifecycle ?? 'UNKNOWN',
    type,
    deploymentType,
    storageCapacityGiB: f.StorageCapacity,
    storageType: f.StorageType,
    throughput,
    throughputUnit,
    kmsKeyId: f.KmsKeyId,
    dnsName: f.DNSName,
    mountName,
  };
}

/** The parts of an FSx volume (ONTAP / OpenZFS) a restore must keep. */
export function fsxVolumeShape(v: Volume): FsxShape {
  return {
    id: v.VolumeId ?? '',
    resource: 'volume',
    lifecycle: v.Lifecycle ?? 'UNKNOWN',
    type: v.VolumeType,
    volumeSizeMiB:
      v.OntapConfiguration?.SizeInMegabytes ?? (v.OpenZFSConfiguration?.StorageCapacityQuotaGiB ?? 0) * 1024,
    mountName: v.OpenZFSConfiguration?.VolumePath ?? v.OntapConfiguration?.JunctionPath,
    parentFileSystemId: v.FileSystemId,
  };
}

/**
 * An FSx volume has no DNS name of its own: it is exported by its file system, so an OpenZFS volume
 * is mounted as `<file system DNS name>:<VolumePath>`. Returns the shape with the parent's DNS name,
 * or a reason when it cannot be found.
 * @see https://docs.aws.amazon.com/fsx/latest/OpenZFSGuide/attach-linux-client.html
 */
async function withParentDns(
  client: FSxClient,
  volume: FsxShape,
  retry: RetryOptions,
): Promise<{ shape: FsxShape; problem?: string }> {
  if (volume.resource !== 'volume' || volume.dnsName) return { shape: volume };
  if (!volume.parentFileSystemId)
    return {
      shape: volume,
      problem: `volume ${volume.id} names no file system, so it has no DNS name to mount`,
    };
  const parent = await describe(client, { resource: 'file-system', id: volume.parentFileSystemId }, retry);
  if (!parent?.dnsName)
    return {
      shape: volume,
      problem: `volume ${volume.id}: its file system ${volume.parentFileSystemId} ${parent ? 'reports no DNS name' : 'does not exist'}, so there is nothing to mount`,
    };
  return { shape: { ...volume, dnsName: parent.dnsName } };
}

/** `fs-…` or `fsvol-…` from an FSx ARN (`…:file-system/fs-…`, `…:volume/fs-…/fsvol-…`). */
export function fsxResourceId(
  arn: string | undefined,
): { resource: 'file-system' | 'volume'; id: string } | undefined {
  if (!arn) return undefined;
  const vol = /(fsvol-[0-9a-f]+)/.exec(arn);
  if (vol?.[1]) return { resource: 'volume', id: vol[1] };
  const fs = /(fs-[0-9a-f]+)/.exec(arn);
  return fs?.[1] ? { resource: 'file-system', id: fs[1] } : undefined;
}

async function describe(
  client: FSxClient,
  ref: { resource: 'file-system' | 'volume'; id: string },
  retry: RetryOptions,
): Promise<FsxShape | undefined> {
  try {
    if (ref.resource === 'volume') {
      const out = await withRetry(
        () => client.send(new DescribeVolumesCommand({ VolumeIds: [ref.id] })),
        retry,
      );
      return out.Volumes?.[0] ? fsxVolumeShape(out.Volumes[0]) : undefined;
    }
    const out = await withRetry(
      () => client.send(new DescribeFileSystemsCommand({ FileSystemIds: [ref.id] })),
      retry,
    );
    return out.FileSystems?.[0] ? fsxFileSystemShape(out.FileSystems[0]) : undefined;
  } catch (err) {
    const name = (err as { name?: string }).name;
    if (name === 'FileSystemNotFound' || name === 'VolumeNotFound') return undefined;
    throw err;
  }
}

function contentTarget(s: FsxShape): ContentTarget {
  const kind = s.type === 'LUSTRE' ? 'fsx-lustre' : s.type === 'OPENZFS' ? 'fsx-openzfs' : 'fsx-other';
  return { kind, fileSystemId: s.id, dnsName: s.dnsName, mountName: s.mountName };
}

/** Builds the validator; `fsxValidator` is the one the handler uses. */
export function createFsxValidator(
  options: ContentOptions = {},
): ValidatorDefinition<FsxFacts, FileSystemSettings> {
  return defineValidator<FsxFacts, FileSystemSettings>({
    name: 'fsx',
    settings: fileSystemSettings,
    resourceTypes: ['FSx'],

    async gather(ctx: FileSystemContext) {
      if (ctx.mode === 'local')
        throw new ResourceStateError(
          'FSx has no local check target: use `restore-validation replay --event FILE` for a real restore job',
        );
      const ref = fsxResourceId(ctx.job.createdResourceArn);
      if (!ref)
        throw new ResourceStateError(
          'the restore job names no FSx file system or volume (no fs-…/fsvol-… in the created resource ARN)',
        );
      const retry: RetryOptions = { deadline: ctx.deadline, signal: ctx.signal };
      const described = await describe(ctx.clients.fsx, ref, retry);
      if (!described) throw new ResourceStateError(`restored FSx ${ref.resource} ${ref.id} does not exist`);
      const { shape: restored, problem: dnsProblem } = await withParentDns(ctx.clients.fsx, described, retry);
      if (restored.parentFileSystemId) ctx.note('parentFileSystemId', restored.parentFileSystemId);
      const { source, sourceProblem } = await describeSource(
        fsxResourceId(ctx.job.sourceResourceArn),
        (sourceRef) => `${sourceRef.resource} ${sourceRef.id}`,
        (sourceRef) => describe(ctx.clients.fsx, sourceRef, retry),
        'no source file system in the restore job',
      );
      ctx.note('fsxType', restored.type);
      ctx.note('storageCapacityGiB', restored.storageCapacityGiB);
      return {
        restored,
        source,
        sourceProblem,
        content: dnsProblem
          ? { target: contentTarget(restored), checks: [], blocked: dnsProblem }
          : await prepareContent(ctx, contentTarget(restored), options),
      };
    },

    checks(ctx, facts) {
      return [...fsxStateChecks(facts), ...contentChecks<FsxFacts>(ctx, (f) => f.content)];
    },
  });
}

export const fsxValidator = createFsxValidator();

const same = (a: unknown, b: unknown) => a === b;

/** State checks: lifecycle, then type/storage/throughput as the source (a volume: type and size). */
export function fsxStateChecks(facts: FsxFacts): CheckDefinition<FsxFacts>[] {
  const checks: CheckDefinition<FsxFacts>[] = [
    defineCheck<FsxFacts>({
      id: 'file-system-state',
      description: 'the restored file system (or volume) is AVAILABLE',
      run: (f) => {
        const ok =
          f.restored.lifecycle === 'AVAILABLE' ||
          (f.restored.resource === 'volume' && f.restored.lifecycle === 'CREATED');
        const what = `${f.restored.resource} ${f.restored.id}${f.restored.type ? ` (${f.restored.type})` : ''}`;
        return ok
          ? pass(`${what} is ${f.restored.lifecycle}`)
          : fail(`${what} is ${f.restored.lifecycle}, not AVAILABLE`);
      },
    }),
    defineCheck<FsxFacts>({
      id: 'type',
      description: 'file system / volume type and deployment type as the source',
      run: (f) => {
        if (!f.source) return skip(`type ${f.restored.type} not compared: ${f.sourceProblem}`);
        const diffs: string[] = [];
        if (!same(f.restored.type, f.source.type))
          diffs.push(`type ${f.restored.type}, source ${f.source.type}`);
        if (!same(f.restored.deploymentType, f.source.deploymentType))
          diffs.push(`deployment type ${f.restored.deploymentType}, source ${f.source.deploymentType}`);
        return diffs.length
          ? fail(diffs.join('; '))
          : pass(
              `${f.restored.type}${f.restored.deploymentType ? ` ${f.restored.deploymentType}` : ''}, as the source`,
            );
      },
    }),
  ];
  if (facts.restored.resource === 'volume') {
    checks.push(
      defineCheck<FsxFacts>({
        id: 'volume-size',
        description: 'volume size as the source',
        run: (f) => {
          if (!f.source) return skip(`volume size not compared: ${f.sourceProblem}`);
          return f.restored.volumeSizeMiB === f.source.volumeSizeMiB
            ? pass(`volume size ${f.restored.volumeSizeMiB} MiB, as the source`)
            : fail(`volume size ${f.restored.volumeSizeMiB} MiB, source ${f.source.volumeSizeMiB} MiB`);
        },
      }),
    );
    return checks;
  }
  checks.push(
    defineCheck<FsxFacts>({
      id: 'storage',
      description: 'storage capacity and type as the source',
      run: (f) => {
        if (!f.source)
          return skip(`storage ${f.restored.storageCapacityGiB} GiB not compared: ${f.sourceProblem}`);
        const diffs: string[] = [];
        if ((f.restored.storageCapacityGiB ?? 0) < (f.source.storageCapacityGiB ?? 0)) {
          diffs.push(
            `storage capacity ${f.restored.storageCapacityGiB} GiB, smaller than the source's ${f.source.storageCapacityGiB} GiB`,
          );
        }
        if (!same(f.restored.storageType, f.source.storageType))
          diffs.push(`storage type ${f.restored.storageType}, source ${f.source.storageType}`);
        const data = { restoredGiB: f.restored.storageCapacityGiB, sourceGiB: f.source.storageCapacityGiB };
        return diffs.length
          ? fail(diffs.join('; '), data)
          : pass(
              `${f.restored.storageCapacityGiB} GiB ${f.restored.storageType ?? ''} storage (source ${f.source.storageCapacityGiB} GiB)`.replace(
                '  ',
                ' ',
              ),
              data,
            );
      },
    }),
    defineCheck<FsxFacts>({
      id: 'throughput',
      description: 'throughput capacity as the source',
      run: (f) => {
        if (!f.source) return skip(`throughput not compared: ${f.sourceProblem}`);
        if (f.source.throughput === undefined)
          return skip(`the source ${f.source.type} file system reports no throughput setting`);
        return same(f.restored.throughput, f.source.throughput)
          ? pass(`throughput ${f.restored.throughput} ${f.restored.throughputUnit}, as the source`)
          : fail(
              `throughput ${f.restored.throughput ?? 'not set'} ${f.restored.throughputUnit}, source ${f.source.throughput} ${f.source.throughputUnit}`,
            );
      },
    }),
  );
  return checks;
}

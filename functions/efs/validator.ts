/**
 * The EFS validator: the restored file system is `available`, encrypted (at least as the source), and
 * its metered size and mount targets are recorded. Content checks (`paths`, `files`, `directory`,
 * `freeSpace`) need the file system mounted over NFS on a helper: see ./content.ts.
 * @see https://docs.aws.amazon.com/efs/latest/ug/API_DescribeFileSystems.html
 */
import {
  DescribeFileSystemsCommand,
  DescribeMountTargetsCommand,
  EFSClient,
  type FileSystemDescription,
  FileSystemNotFound,
} from '@aws-sdk/client-efs';
import { type CheckDefinition, defineCheck, fail, pass, skip } from '../../shared/checks';
import { registerClients } from '../../shared/clients';
import { ResourceStateError } from '../../shared/errors';
import {
  type ContentOptions,
  type ContentPlan,
  cleanupContent,
  contentChecks,
  type FileSystemContext,
  prepareContent,
} from '../../shared/files/content';
import { type FileSystemSettings, fileSystemSettings } from '../../shared/files/settings';
import { type RetryOptions, withRetry } from '../../shared/retry';
import { describeSource } from '../../shared/source';
import { defineValidator, type ValidatorDefinition } from '../../shared/validator';

registerClients({ efs: EFSClient });

export interface EfsFileSystemFacts {
  readonly id: string;
  readonly arn?: string;
  readonly name?: string;
  readonly state: string;
  readonly encrypted: boolean;
  readonly kmsKeyId?: string;
  readonly sizeBytes?: number;
  readonly performanceMode?: string;
  readonly throughputMode?: string;
  readonly tags: readonly { Key?: string; Value?: string }[];
}

export interface EfsFacts {
  readonly fileSystem: EfsFileSystemFacts;
  readonly source?: EfsFileSystemFacts;
  readonly sourceProblem?: string;
  readonly mountTargets: readonly {
    id: string;
    subnetId?: string;
    availabilityZone?: string;
    state?: string;
  }[];
  readonly content: ContentPlan;
}

const efsFacts = (f: FileSystemDescription): EfsFileSystemFacts => ({
  id: f.FileSystemId ?? '',
  arn: f.FileSystemArn,
  name: f.Name,
  state: f.LifeCycleState ?? 'unknown',
  encrypted: f.Encrypted ?? false,
  kmsKeyId: f.KmsKeyId,
  sizeBytes: f.SizeInBytes?.Value,
  performanceMode: f.PerformanceMode,
  throughputMode: f.ThroughputMode,
  tags: f.Tags ?? [],
});

async function describe(
  client: EFSClient,
  id: string,
  retry: RetryOptions,
): Promise<EfsFileSystemFacts | undefined> {
  try {
    const out = await withRetry(
      () => client.send(new DescribeFileSystemsCommand({ FileSystemId: id })),
      retry,
    );
    const fs = out.FileSystems?.[0];
    return fs ? efsFacts(fs) : undefined;
  } catch (err) {
    if (err instanceof FileSystemNotFound || (err as { name?: string }).name === 'FileSystemNotFound')
      return undefined;
    throw err;
  }
}

/** `fs-…` from a file system ARN (`…:file-system/fs-…`) or id. */
export function fileSystemId(arnOrId: string | undefined): string | undefined {
  const m = /(fs-[0-9a-f]+)/.exec(arnOrId ?? '');
  return m?.[1];
}

/** Builds the validator; `efsValidator` is the one the handler uses. */
export function createEfsValidator(
  options: ContentOptions = {},
): ValidatorDefinition<EfsFacts, FileSystemSettings> {
  return defineValidator<EfsFacts, FileSystemSettings>({
    name: 'efs',
    settings: fileSystemSettings,
    resourceTypes: ['EFS'],

    async gather(ctx: FileSystemContext) {
      if (ctx.mode === 'local')
        throw new ResourceStateError(
          'EFS has no local check target: use `restore-validation replay --event FILE` for a real restore job',
        );
      const id =
        fileSystemId(ctx.job.createdResourceArn) ?? fileSystemId(ctx.job.metadata.get('fileSystemId'));
      if (!id)
        throw new ResourceStateError(
          'the restore job names no file system (no fs-… in the created resource ARN)',
        );
      const retry: RetryOptions = { deadline: ctx.deadline, signal: ctx.signal };
      const client = ctx.clients.efs;
      const fileSystem = await describe(client, id, retry);
      if (!fileSystem) throw new ResourceStateError(`restored file system ${id} does not exist`);
      const mt = await withRetry(
        () => client.send(new DescribeMountTargetsCommand({ FileSystemId: id })),
        retry,
      );
      const mountTargets = (mt.MountTargets ?? []).map((m) => ({
        id: m.MountTargetId ?? '',
        subnetId: m.SubnetId,
        availabilityZone: m.AvailabilityZoneName,
        state: m.LifeCycleState,
        ipAddress: m.IpAddress,
      }));
      const { source, sourceProblem } = await describeSource(
        fileSystemId(ctx.job.sourceResourceArn),
        (sourceId) => `file system ${sourceId}`,
        (sourceId) => describe(client, sourceId, retry),
        'no source file system in the restore job',
      );
      ctx.note('sizeBytes', fileSystem.sizeBytes);
      ctx.note('sourceSizeBytes', source?.sizeBytes);
      ctx.note('mountTargets', mountTargets.length);
      const content = await prepareContent(
        ctx,
        { kind: 'efs', fileSystemId: id, name: fileSystem.name, tags: fileSystem.tags, mountTargets },
        options,
      );
      return { fileSystem, source, sourceProblem, mountTargets, content };
    },

    checks(ctx) {
      return [...efsStateChecks(), ...contentChecks<EfsFacts>(ctx, (f) => f.content)];
    },

    async cleanup(ctx) {
      await cleanupContent(ctx);
    },
  });
}

export const efsValidator = createEfsValidator();

/** The state checks every EFS restore gets. */
export function efsStateChecks(): CheckDefinition<EfsFacts>[] {
  return [
    defineCheck<EfsFacts>({
      id: 'file-system-state',
      description: 'the restored file system is available',
      run: (f) => {
        const size =
          f.fileSystem.sizeBytes === undefined
            ? 'size not reported'
            : `metered size ${f.fileSystem.sizeBytes} bytes`;
        const targets = `${f.mountTargets.length} mount target(s)`;
        const data = {
          sizeBytes: f.fileSystem.sizeBytes,
          sourceSizeBytes: f.source?.sizeBytes,
          mountTargets: f.mountTargets.length,
        };
        return f.fileSystem.state === 'available'
          ? pass(`file system ${f.fileSystem.id} is available (${size}, ${targets})`, data)
          : fail(`file system ${f.fileSystem.id} is ${f.fileSystem.state}, not available`, data);
      },
    }),
    defineCheck<EfsFacts>({
      id: 'encryption',
      description: 'encrypted at rest, at least as the source',
      run: (f) => {
        if (f.fileSystem.encrypted)
          return pass(
            `encrypted at rest${f.fileSystem.kmsKeyId ? ` (KMS key ${f.fileSystem.kmsKeyId.split('/').pop()})` : ''}`,
          );
        if (!f.source) return fail(`not encrypted at rest (source not known: ${f.sourceProblem})`);
        return f.source.encrypted
          ? fail(`not encrypted at rest, but the source ${f.source.id} is`)
          : skip(`not encrypted at rest, as the source ${f.source.id}`);
      },
    }),
  ];
}

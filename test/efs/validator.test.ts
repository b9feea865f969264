import {
  DescribeFileSystemsCommand,
  DescribeMountTargetsCommand,
  EFSClient,
  FileSystemNotFound,
} from '@aws-sdk/client-efs';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { efsValidator, fileSystemId } from '../../functions/efs/validator';
import { runValidator } from '../../shared/validator';
import { testContext } from '../support/validator-context';

const RESTORED = 'fs-0fedcba9876543210';
const SOURCE = 'fs-0123456789abcdef0';
const ARN = (id: string) => `arn:aws:elasticfilesystem:us-east-1:123456789012:file-system/${id}`;

const efs = mockClient(EFSClient);

function fs(id: string, extra: Record<string, unknown> = {}) {
  return {
    FileSystemId: id,
    LifeCycleState: 'available',
    Encrypted: true,
    KmsKeyId: 'arn:aws:kms:us-east-1:123456789012:key/abcd',
    SizeInBytes: { Value: 123_456 },
    CreationToken: 't',
    CreationTime: new Date(),
    OwnerId: '123456789012',
    NumberOfMountTargets: 0,
    PerformanceMode: 'generalPurpose',
    Tags: [],
    ...extra,
  };
}

function ctx(checks?: unknown[]) {
  return testContext({
    resourceType: 'EFS',
    createdResourceArn: ARN(RESTORED),
    sourceResourceArn: ARN(SOURCE),
    checks,
    clients: { efs: new EFSClient({ region: 'us-east-1' }) },
  });
}

beforeEach(() => {
  efs.reset();
  efs.on(DescribeMountTargetsCommand).resolves({ MountTargets: [] });
});

describe('efsValidator', () => {
  it('passes when the restored file system is available and encrypted, and records size and mount targets', async () => {
    efs
      .on(DescribeFileSystemsCommand, { FileSystemId: RESTORED })
      .resolves({ FileSystems: [fs(RESTORED) as never] });
    efs
      .on(DescribeFileSystemsCommand, { FileSystemId: SOURCE })
      .resolves({ FileSystems: [fs(SOURCE, { SizeInBytes: { Value: 200_000 } }) as never] });
    const run = await runValidator(efsValidator, ctx());
    expect(run.results.map((r) => [r.id, r.status])).toEqual([
      ['file-system-state', 'pass'],
      ['encryption', 'pass'],
    ]);
    expect(run.results[0]?.detail).toBe(
      `file system ${RESTORED} is available (metered size 123456 bytes, 0 mount target(s))`,
    );
    expect(run.notes).toMatchObject({ sizeBytes: 123_456, sourceSizeBytes: 200_000, mountTargets: 0 });
    expect(run.verdict.verdict).toBe('SUCCESSFUL');
  });

  it('fails when the file system is not available', async () => {
    efs
      .on(DescribeFileSystemsCommand, { FileSystemId: RESTORED })
      .resolves({ FileSystems: [fs(RESTORED, { LifeCycleState: 'error' }) as never] });
    efs
      .on(DescribeFileSystemsCommand, { FileSystemId: SOURCE })
      .resolves({ FileSystems: [fs(SOURCE) as never] });
    const run = await runValidator(efsValidator, ctx());
    expect(run.results[0]).toMatchObject({
      status: 'fail',
      detail: `file system ${RESTORED} is error, not available`,
    });
    expect(run.verdict.verdict).toBe('FAILED');
  });

  it('fails when the restore is unencrypted but the source is encrypted', async () => {
    efs
      .on(DescribeFileSystemsCommand, { FileSystemId: RESTORED })
      .resolves({ FileSystems: [fs(RESTORED, { Encrypted: false }) as never] });
    efs
      .on(DescribeFileSystemsCommand, { FileSystemId: SOURCE })
      .resolves({ FileSystems: [fs(SOURCE) as never] });
    const run = await runValidator(efsValidator, ctx());
    expect(run.results.find((r) => r.id === 'encryption')).toMatchObject({
      status: 'fail',
      detail: `not encrypted at rest, but the source ${SOURCE} is`,
    });
  });

  it('fails the restored-resource check when the file system does not exist', async () => {
    efs
      .on(DescribeFileSystemsCommand)
      .rejects(new FileSystemNotFound({ message: 'nope', $metadata: {}, ErrorCode: 'FileSystemNotFound' }));
    const run = await runValidator(efsValidator, ctx());
    expect(run.results).toEqual([
      expect.objectContaining({
        id: 'restored-resource',
        status: 'fail',
        detail: `restored file system ${RESTORED} does not exist`,
      }),
    ]);
  });

  it('reports configured content checks as not run, never as passed, when no helper is configured', async () => {
    efs.on(DescribeFileSystemsCommand).resolves({ FileSystems: [fs(RESTORED) as never] });
    const run = await runValidator(efsValidator, ctx([{ id: 'app-files', paths: ['/app/config.yml'] }]));
    expect(run.results.find((r) => r.id === 'app-files')).toMatchObject({
      status: 'error',
      detail: expect.stringContaining('paths check not run'),
    });
    expect(run.verdict.verdict).toBe('FAILED');
  });
});

describe('fileSystemId', () => {
  it('extracts the id from an ARN and returns undefined for anything else', () => {
    expect(fileSystemId(ARN(RESTORED))).toBe(RESTORED);
    expect(fileSystemId('arn:aws:s3:::bucket')).toBeUndefined();
  });
});

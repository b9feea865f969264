import { DescribeFileSystemsCommand, DescribeVolumesCommand, FSxClient } from '@aws-sdk/client-fsx';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { fsxResourceId, fsxValidator } from '../../functions/fsx/validator';
import { runValidator } from '../../shared/validator';
import { testContext } from '../dynamodb/context';

const RESTORED = 'fs-0aaaaaaaaaaaaaaaa';
const SOURCE = 'fs-0bbbbbbbbbbbbbbbb';
const ARN = (id: string) => `arn:aws:fsx:us-east-1:123456789012:file-system/${id}`;

const fsx = mockClient(FSxClient);

function lustre(
  id: string,
  extra: { capacity?: number; throughput?: number; lifecycle?: string; deployment?: string } = {},
) {
  return {
    FileSystemId: id,
    FileSystemType: 'LUSTRE',
    Lifecycle: extra.lifecycle ?? 'AVAILABLE',
    StorageCapacity: extra.capacity ?? 1200,
    StorageType: 'SSD',
    DNSName: `${id}.fsx.us-east-1.amazonaws.com`,
    LustreConfiguration: {
      DeploymentType: extra.deployment ?? 'PERSISTENT_2',
      PerUnitStorageThroughput: extra.throughput ?? 250,
      MountName: 'abcdefgh',
    },
  } as never;
}

function ctx(created = ARN(RESTORED), source = ARN(SOURCE), checks?: unknown[]) {
  return testContext({
    resourceType: 'FSx',
    createdResourceArn: created,
    sourceResourceArn: source,
    checks,
    clients: { fsx: new FSxClient({ region: 'us-east-1' }) },
  });
}

beforeEach(() => fsx.reset());

describe('fsxValidator', () => {
  it('passes when the restored Lustre file system matches the source', async () => {
    fsx
      .on(DescribeFileSystemsCommand, { FileSystemIds: [RESTORED] })
      .resolves({ FileSystems: [lustre(RESTORED)] });
    fsx
      .on(DescribeFileSystemsCommand, { FileSystemIds: [SOURCE] })
      .resolves({ FileSystems: [lustre(SOURCE)] });
    const run = await runValidator(fsxValidator, ctx());
    expect(run.results.map((r) => [r.id, r.status])).toEqual([
      ['file-system-state', 'pass'],
      ['type', 'pass'],
      ['storage', 'pass'],
      ['throughput', 'pass'],
    ]);
    expect(run.results.find((r) => r.id === 'throughput')?.detail).toBe(
      'throughput 250 MB/s/TiB, as the source',
    );
    expect(run.verdict.verdict).toBe('SUCCESSFUL');
  });

  it('fails when storage is smaller, throughput differs or the deployment type differs', async () => {
    fsx.on(DescribeFileSystemsCommand, { FileSystemIds: [RESTORED] }).resolves({
      FileSystems: [lustre(RESTORED, { capacity: 1000, throughput: 125, deployment: 'SCRATCH_2' })],
    });
    fsx
      .on(DescribeFileSystemsCommand, { FileSystemIds: [SOURCE] })
      .resolves({ FileSystems: [lustre(SOURCE)] });
    const run = await runValidator(fsxValidator, ctx());
    const status = Object.fromEntries(run.results.map((r) => [r.id, r.status]));
    expect(status).toEqual({
      'file-system-state': 'pass',
      type: 'fail',
      storage: 'fail',
      throughput: 'fail',
    });
    expect(run.results.find((r) => r.id === 'storage')?.detail).toContain(
      "1000 GiB, smaller than the source's 1200 GiB",
    );
  });

  it('fails when the file system is not AVAILABLE', async () => {
    fsx
      .on(DescribeFileSystemsCommand, { FileSystemIds: [RESTORED] })
      .resolves({ FileSystems: [lustre(RESTORED, { lifecycle: 'MISCONFIGURED' })] });
    fsx
      .on(DescribeFileSystemsCommand, { FileSystemIds: [SOURCE] })
      .resolves({ FileSystems: [lustre(SOURCE)] });
    const run = await runValidator(fsxValidator, ctx());
    expect(run.results[0]).toMatchObject({
      status: 'fail',
      detail: `file-system ${RESTORED} (LUSTRE) is MISCONFIGURED, not AVAILABLE`,
    });
  });

  it('compares an ONTAP volume restore with the source volume', async () => {
    const vol = (id: string, size: number) =>
      ({
        VolumeId: id,
        Lifecycle: 'CREATED',
        VolumeType: 'ONTAP',
        OntapConfiguration: { SizeInMegabytes: size },
      }) as never;
    fsx
      .on(DescribeVolumesCommand, { VolumeIds: ['fsvol-0aaaaaaaaaaaaaaaa'] })
      .resolves({ Volumes: [vol('fsvol-0aaaaaaaaaaaaaaaa', 1024)] });
    fsx
      .on(DescribeVolumesCommand, { VolumeIds: ['fsvol-0bbbbbbbbbbbbbbbb'] })
      .resolves({ Volumes: [vol('fsvol-0bbbbbbbbbbbbbbbb', 2048)] });
    const run = await runValidator(
      fsxValidator,
      ctx(
        'arn:aws:fsx:us-east-1:123456789012:volume/fs-1/fsvol-0aaaaaaaaaaaaaaaa',
        'arn:aws:fsx:us-east-1:123456789012:volume/fs-2/fsvol-0bbbbbbbbbbbbbbbb',
      ),
    );
    expect(Object.fromEntries(run.results.map((r) => [r.id, r.status]))).toEqual({
      'file-system-state': 'pass',
      type: 'pass',
      'volume-size': 'fail',
    });
  });

  it('skips the comparisons with the reason when the source is gone, and still checks the state', async () => {
    fsx
      .on(DescribeFileSystemsCommand, { FileSystemIds: [RESTORED] })
      .resolves({ FileSystems: [lustre(RESTORED)] });
    fsx
      .on(DescribeFileSystemsCommand, { FileSystemIds: [SOURCE] })
      .rejects(Object.assign(new Error('gone'), { name: 'FileSystemNotFound' }));
    const run = await runValidator(fsxValidator, ctx());
    expect(run.results.find((r) => r.id === 'storage')).toMatchObject({
      status: 'skip',
      detail: expect.stringContaining(`source file-system ${SOURCE} does not exist`),
    });
    expect(run.verdict.verdict).toBe('SUCCESSFUL');
  });
});

describe('fsxResourceId', () => {
  it('recognises file system and volume ARNs', () => {
    expect(fsxResourceId(ARN(RESTORED))).toEqual({ resource: 'file-system', id: RESTORED });
    expect(fsxResourceId('arn:aws:fsx:us-east-1:1:volume/fs-1/fsvol-0abc')).toEqual({
      resource: 'volume',
      id: 'fsvol-0abc',
    });
    expect(fsxResourceId(undefined)).toBeUndefined();
  });
});

import { DescribeFileSystemsCommand, DescribeVolumesCommand, FSxClient } from '@aws-sdk/client-fsx';
import { GetCommandInvocationCommand, SendCommandCommand, SSMClient } from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { createFsxValidator, fsxResourceId, fsxValidator } from '../../functions/fsx/validator';
import { runValidator } from '../../shared/validator';
import { testContext } from '../support/validator-context';

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

/** DescribeFileSystems answers `restored` for the restored file system and a Lustre one for the source. */
function fileSystems(restored = lustre(RESTORED)) {
  fsx.on(DescribeFileSystemsCommand, { FileSystemIds: [RESTORED] }).resolves({ FileSystems: [restored] });
  fsx.on(DescribeFileSystemsCommand, { FileSystemIds: [SOURCE] }).resolves({ FileSystems: [lustre(SOURCE)] });
}

describe('fsxValidator', () => {
  it('passes when the restored Lustre file system matches the source', async () => {
    fileSystems();
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
    fileSystems(lustre(RESTORED, { capacity: 1000, throughput: 125, deployment: 'SCRATCH_2' }));
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
    fileSystems(lustre(RESTORED, { lifecycle: 'MISCONFIGURED' }));
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

describe('fsxValidator content checks', () => {
  const ssm = mockClient(SSMClient);
  beforeEach(() => ssm.reset());

  /** Runs the profile's one paths check `data` on the helper instance (SSM mocked), polling at once. */
  const runOnHelper = (createdResourceArn: string, sourceResourceArn: string) =>
    runValidator(
      createFsxValidator({ programSource: () => 'program', pollMs: 1 }),
      testContext({
        resourceType: 'FSx',
        createdResourceArn,
        sourceResourceArn,
        checks: [{ id: 'data', paths: ['/data/x'] }],
        options: { helperInstanceId: 'i-helper' },
        clients: { fsx: new FSxClient({ region: 'us-east-1' }), ssm: new SSMClient({ region: 'us-east-1' }) },
      }),
    );
  /** The shell script sent to the helper. */
  const script = () =>
    (ssm.commandCalls(SendCommandCommand)[0]?.args[0].input.Parameters?.commands ?? []).join('\n');

  it('mounts Lustre on the helper and maps the path-check items to the profile checks', async () => {
    fileSystems();
    ssm.on(SendCommandCommand).resolves({ Command: { CommandId: 'cmd-1' } });
    const answer = {
      version: 1,
      root: '/mnt/x',
      ok: false,
      checks: [{ id: 'data', status: 'fail', detail: '/data/x is missing', durationMs: 1 }],
      durationMs: 2,
    };
    ssm
      .on(GetCommandInvocationCommand)
      .resolvesOnce({ Status: 'InProgress' })
      .resolves({ Status: 'Success', ResponseCode: 0, StandardOutputContent: `${JSON.stringify(answer)}\n` });
    const run = await runOnHelper(ARN(RESTORED), ARN(SOURCE));
    expect(run.results.find((r) => r.id === 'data')).toMatchObject({
      status: 'fail',
      detail: '/data/x is missing',
    });
    expect(script()).toContain(
      `mount -t lustre -o ro,relatime,flock ${RESTORED}.fsx.us-east-1.amazonaws.com@tcp:/abcdefgh "$M"`,
    );
  });

  it("mounts an OpenZFS volume restore through its file system's DNS name (a volume has none)", async () => {
    const volume = (id: string) =>
      ({
        VolumeId: id,
        FileSystemId: 'fs-0ccccccccccccccccc',
        VolumeType: 'OPENZFS',
        Lifecycle: 'AVAILABLE',
        OpenZFSConfiguration: { VolumePath: '/fsx/awsbackup-restore-test-vol', StorageCapacityQuotaGiB: 10 },
      }) as never;
    fsx
      .on(DescribeVolumesCommand)
      .callsFake((i: { VolumeIds: string[] }) => ({ Volumes: [volume(i.VolumeIds[0] ?? '')] }));
    fsx.on(DescribeFileSystemsCommand, { FileSystemIds: ['fs-0ccccccccccccccccc'] }).resolves({
      FileSystems: [
        {
          FileSystemId: 'fs-0ccccccccccccccccc',
          FileSystemType: 'OPENZFS',
          DNSName: 'fs-0ccccccccccccccccc.fsx.us-east-1.amazonaws.com',
        } as never,
      ],
    });
    ssm.on(SendCommandCommand).resolves({ Command: { CommandId: 'cmd-1' } });
    const answer = {
      version: 1,
      root: '/mnt/x',
      ok: true,
      checks: [{ id: 'data', status: 'pass', detail: 'ok', durationMs: 1 }],
      durationMs: 2,
    };
    ssm
      .on(GetCommandInvocationCommand)
      .resolves({ Status: 'Success', ResponseCode: 0, StandardOutputContent: `${JSON.stringify(answer)}\n` });
    const run = await runOnHelper(
      'arn:aws:fsx:us-east-1:123456789012:volume/fs-0ccccccccccccccccc/fsvol-0aaaaaaaaaaaaaaaa',
      'arn:aws:fsx:us-east-1:123456789012:volume/fs-0ccccccccccccccccc/fsvol-0bbbbbbbbbbbbbbbb',
    );
    expect(run.results.find((r) => r.id === 'data')?.status).toBe('pass');
    expect(script()).toContain(
      'mount -t nfs -o ro,nfsvers=4.1 fs-0ccccccccccccccccc.fsx.us-east-1.amazonaws.com:/fsx/awsbackup-restore-test-vol "$M"',
    );
  });

  it('says why an OpenZFS volume cannot be mounted when its file system is gone', async () => {
    fsx.on(DescribeVolumesCommand).resolves({
      Volumes: [
        {
          VolumeId: 'fsvol-0aaaaaaaaaaaaaaaa',
          FileSystemId: 'fs-0ddddddddddddddddd',
          VolumeType: 'OPENZFS',
          Lifecycle: 'AVAILABLE',
        } as never,
      ],
    });
    fsx
      .on(DescribeFileSystemsCommand)
      .rejects(Object.assign(new Error('gone'), { name: 'FileSystemNotFound' }));
    const run = await runOnHelper(
      'arn:aws:fsx:us-east-1:123456789012:volume/fs-0ddddddddddddddddd/fsvol-0aaaaaaaaaaaaaaaa',
      'arn:aws:fsx:us-east-1:123456789012:volume/fs-0ddddddddddddddddd/fsvol-0aaaaaaaaaaaaaaaa',
    );
    expect(run.results.find((r) => r.id === 'data')).toMatchObject({
      status: 'error',
      detail:
        'paths check not run: volume fsvol-0aaaaaaaaaaaaaaaa: its file system fs-0ddddddddddddddddd does not exist, so there is nothing to mount',
    });
  });

  it('reports content checks on FSx for Windows as not run, with the reason', async () => {
    const windows = {
      FileSystemId: RESTORED,
      FileSystemType: 'WINDOWS',
      Lifecycle: 'AVAILABLE',
      StorageCapacity: 32,
      WindowsConfiguration: { ThroughputCapacity: 8 },
    } as never;
    fsx.on(DescribeFileSystemsCommand).resolves({ FileSystems: [windows] });
    const run = await runValidator(
      fsxValidator,
      ctx(ARN(RESTORED), ARN(SOURCE), [{ id: 'data', paths: ['/x'] }]),
    );
    expect(run.results.find((r) => r.id === 'data')).toMatchObject({
      status: 'error',
      detail: expect.stringContaining('FSx for Windows File Server and ONTAP are not mounted'),
    });
  });
});

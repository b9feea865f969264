import { CreateSubnetCommand, CreateVpcCommand, EC2Client } from '@aws-sdk/client-ec2';
import {
  CreateFileSystemCommand,
  CreateMountTargetCommand,
  DescribeMountTargetsCommand,
  EFSClient,
} from '@aws-sdk/client-efs';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { sweepMountTargets } from '../../shared/files/sweep';
import { type Moto, startMoto } from '../support/engines';

let moto: Moto;
let efs: EFSClient;
let ec2: EC2Client;
let subnet: string;

beforeAll(async () => {
  moto = await startMoto();
  const cfg = {
    region: 'us-east-1',
    endpoint: moto.endpoint,
    credentials: { accessKeyId: 'a', secretAccessKey: 'b' },
  };
  efs = new EFSClient(cfg);
  ec2 = new EC2Client(cfg);
});
afterAll(async () => {
  await moto?.stop();
});
beforeEach(async () => {
  await moto.reset();
  const vpc = await ec2.send(new CreateVpcCommand({ CidrBlock: '10.0.0.0/16' }));
  subnet =
    (
      await ec2.send(
        new CreateSubnetCommand({
          VpcId: vpc.Vpc?.VpcId,
          CidrBlock: '10.0.1.0/24',
          AvailabilityZone: 'us-east-1a',
        }),
      )
    ).Subnet?.SubnetId ?? '';
});

async function fileSystemWithMountTarget(
  tags: { Key: string; Value: string }[],
): Promise<{ fs: string; mt: string }> {
  const fs = await efs.send(new CreateFileSystemCommand({ CreationToken: `t-${Math.random()}`, Tags: tags }));
  const mt = await efs.send(
    new CreateMountTargetCommand({ FileSystemId: fs.FileSystemId, SubnetId: subnet }),
  );
  return { fs: fs.FileSystemId ?? '', mt: mt.MountTargetId ?? '' };
}
const mountTargets = async (fs: string) =>
  (await efs.send(new DescribeMountTargetsCommand({ FileSystemId: fs }))).MountTargets?.map(
    (m) => m.MountTargetId,
  ) ?? [];

describe('sweepMountTargets', () => {
  it('deletes a mount target left on an old restore-test file system, and nothing else', async () => {
    const left = await fileSystemWithMountTarget([{ Key: 'awsbackup-restore-test', Value: '' }]);
    const prod = await fileSystemWithMountTarget([{ Key: 'Name', Value: 'prod-share' }]);
    const swept = await sweepMountTargets({
      efs,
      now: new Date(Date.now() + 2 * 3_600_000),
      maxAgeMinutes: 60,
    });
    expect(swept).toEqual([
      expect.objectContaining({ fileSystemId: left.fs, mountTargetId: left.mt, action: 'deleted' }),
    ]);
    expect(await mountTargets(left.fs)).toEqual([]);
    expect(await mountTargets(prod.fs)).toEqual([prod.mt]);
  });

  it('keeps the mount target of a restore-test file system a validation may still be using', async () => {
    const fresh = await fileSystemWithMountTarget([{ Key: 'awsbackup-restore-test', Value: '' }]);
    const swept = await sweepMountTargets({ efs, now: new Date(), maxAgeMinutes: 60 });
    expect(swept).toEqual([expect.objectContaining({ fileSystemId: fresh.fs, action: 'kept' })]);
    expect(await mountTargets(fresh.fs)).toEqual([fresh.mt]);
  });
});

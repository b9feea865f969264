import { rmSync } from 'node:fs';
import { BackupClient } from '@aws-sdk/client-backup';
import { DescribeFileSystemsCommand, DescribeMountTargetsCommand, EFSClient } from '@aws-sdk/client-efs';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { fixture } from '../support/fixtures';
import { finalVerdict, lambdaContext, mockCompletedJob, stubConfigFile } from '../support/lifecycle-harness';

const backup = mockClient(BackupClient);
const efs = mockClient(EFSClient);
const event = fixture('completed-efs.json') as {
  detail: { restoreJobId: string; sourceResourceArn: string; createdResourceArn: string };
};
const JOB_ID = event.detail.restoreJobId;
const context = lambdaContext('efs-validator');

let dir: string;
// biome-ignore lint/suspicious/noExplicitAny: imported after the env is stubbed
let handler: (event: unknown, context: never) => Promise<any>;

beforeAll(async () => {
  dir = stubConfigFile('rv-efs-handler-', {
    version: 1,
    profiles: [
      {
        name: 'shared-files',
        match: { resourceType: 'EFS' },
        checks: [{ id: 'app-files', paths: ['/app/config.yml'] }],
      },
    ],
  });
  ({ handler } = await import('../../functions/efs/handler'));
});
afterAll(() => {
  vi.unstubAllEnvs();
  rmSync(dir, { recursive: true, force: true });
});

beforeEach(() => {
  backup.reset();
  efs.reset();
  mockCompletedJob(backup, {
    restoreJobId: JOB_ID,
    resourceType: 'EFS',
    createdResourceArn: event.detail.createdResourceArn,
    sourceResourceArn: event.detail.sourceResourceArn,
    metadata: { newFileSystem: 'true' },
  });
  efs.on(DescribeFileSystemsCommand).resolves({
    FileSystems: [
      {
        FileSystemId: 'fs-0fedcba9876543210',
        LifeCycleState: 'available',
        Encrypted: true,
        SizeInBytes: { Value: 6144 },
      } as never,
    ],
  });
  efs.on(DescribeMountTargetsCommand).resolves({ MountTargets: [] });
});

describe('efs handler', () => {
  it('posts FAILED naming the content check it could not run, with the reason', async () => {
    const out = await handler(structuredClone(event), context as never);
    expect(out.verdict).toBe('FAILED');
    const final = finalVerdict(backup);
    expect(final?.ValidationStatus).toBe('FAILED');
    expect(final?.ValidationStatusMessage).toContain('app-files');
    expect(final?.ValidationStatusMessage).toContain('no helper instance configured');
  });
});

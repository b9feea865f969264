import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  BackupClient,
  DescribeRestoreJobCommand,
  GetRestoreJobMetadataCommand,
  PutRestoreValidationResultCommand,
} from '@aws-sdk/client-backup';
import { DescribeFileSystemsCommand, DescribeMountTargetsCommand, EFSClient } from '@aws-sdk/client-efs';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { fixture } from '../support/fixtures';

const backup = mockClient(BackupClient);
const efs = mockClient(EFSClient);
const event = fixture('completed-efs.json') as {
  detail: { restoreJobId: string; sourceResourceArn: string; createdResourceArn: string };
};
const JOB_ID = event.detail.restoreJobId;
const context = {
  functionName: 'efs-validator',
  functionVersion: '1',
  invokedFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:efs-validator',
  memoryLimitInMB: '512',
  awsRequestId: 'req-1',
  logGroupName: 'g',
  logStreamName: 's',
  callbackWaitsForEmptyEventLoop: true,
  getRemainingTimeInMillis: () => 120_000,
  done: () => undefined,
  fail: () => undefined,
  succeed: () => undefined,
};

let dir: string;
// biome-ignore lint/suspicious/noExplicitAny: imported after the env is stubbed
let handler: (event: unknown, context: never) => Promise<any>;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'rv-efs-handler-'));
  writeFileSync(
    join(dir, 'config.json'),
    JSON.stringify({
      version: 1,
      profiles: [
        {
          name: 'shared-files',
          match: { resourceType: 'EFS' },
          checks: [{ id: 'app-files', paths: ['/app/config.yml'] }],
        },
      ],
    }),
  );
  vi.stubEnv('RESTORE_VALIDATION_CONFIG', join(dir, 'config.json'));
  ({ handler } = await import('../../functions/efs/handler'));
});
afterAll(() => {
  vi.unstubAllEnvs();
  rmSync(dir, { recursive: true, force: true });
});

beforeEach(() => {
  backup.reset();
  efs.reset();
  backup.on(DescribeRestoreJobCommand).resolves({
    RestoreJobId: JOB_ID,
    Status: 'COMPLETED',
    ResourceType: 'EFS',
    CreatedResourceArn: event.detail.createdResourceArn,
    SourceResourceArn: event.detail.sourceResourceArn,
    RecoveryPointCreationDate: new Date('2026-11-24T22:00:00Z'),
    CreatedBy: {
      RestoreTestingPlanArn:
        'arn:aws:backup:us-east-1:123456789012:restore-testing-plan:nightly_restore_tests-1a2b3c4d',
    },
  });
  backup
    .on(GetRestoreJobMetadataCommand)
    .resolves({ RestoreJobId: JOB_ID, Metadata: { newFileSystem: 'true' } });
  backup.on(PutRestoreValidationResultCommand).resolves({});
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
    const final = backup
      .commandCalls(PutRestoreValidationResultCommand)
      .map((c) => c.args[0].input)
      .find((p) => p.ValidationStatus !== 'VALIDATING');
    expect(final?.ValidationStatus).toBe('FAILED');
    expect(final?.ValidationStatusMessage).toContain('app-files');
    expect(final?.ValidationStatusMessage).toContain('no helper instance configured');
  });
});

/**
 * postVerdict decides "already final" by re-reading the job, never by the exception alone: the API
 * documents no error for a write to a final status, so an error's type or message proves nothing.
 * Against the HTTP Backup fake through the real SDK.
 */
import {
  BackupClient,
  ConflictException,
  DescribeRestoreJobCommand,
  PutRestoreValidationResultCommand,
} from '@aws-sdk/client-backup';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { postVerdict } from '../../shared/verdict/index';
import { FakeBackupApi } from '../support/fake-backup';

const JOB = 'job-post-1';
// The clients here make one attempt per call (maxAttempts: 1); postVerdict adds no retry of its own.
const noRetry = {};
let fake: FakeBackupApi;
let backup: BackupClient;

beforeEach(async () => {
  fake = new FakeBackupApi();
  await fake.start();
  backup = new BackupClient({
    endpoint: fake.endpoint,
    region: 'us-east-1',
    maxAttempts: 1,
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  });
  fake.addJob({ RestoreJobId: JOB, ResourceType: 'RDS' });
});
afterEach(async () => {
  await fake.stop();
});

describe('postVerdict', () => {
  it('is already-final when the job turned final after the read, whatever error the write got', async () => {
    // Another invocation posted FAILED after our read; our write is refused with an unrelated error type.
    const job = fake.jobs.get(JOB);
    if (job) job.ValidationStatus = 'FAILED';
    fake.fail('PutRestoreValidationResult', 400, 1, 'InvalidParameterValueException');
    const out = await postVerdict(backup, JOB, 'SUCCESSFUL', 'all checks passed', {
      ...noRetry,
      knownValidationStatus: 'VALIDATING',
    });
    expect(out).toBe('already-final');
    expect(fake.count('DescribeRestoreJob')).toBe(1);
    expect(fake.finalVerdicts(JOB)).toEqual([]);
  });

  it('throws when the write failed and the job is still not final, even if the error says "already"', async () => {
    // The old guess took a ConflictException mentioning "already" for a final job: a verdict never posted.
    const mocked = mockClient(BackupClient);
    try {
      mocked.on(DescribeRestoreJobCommand).resolves({ RestoreJobId: JOB, ValidationStatus: 'VALIDATING' });
      mocked
        .on(PutRestoreValidationResultCommand)
        .rejects(
          new ConflictException({ message: 'A validation result is already being written', $metadata: {} }),
        );
      const client = new BackupClient({ region: 'us-east-1' });
      const err = await postVerdict(client, JOB, 'FAILED', 'x', noRetry).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ConflictException);
      expect(mocked.commandCalls(DescribeRestoreJobCommand)).toHaveLength(2);
    } finally {
      mocked.restore();
    }
  });

  it('is already-final when a write failed with a server error and the re-read shows a final verdict', async () => {
    // Our own write may have landed with its answer lost, or another's did: the job has its one verdict.
    const job = fake.jobs.get(JOB);
    if (job) {
      job.ValidationStatus = 'FAILED';
      job.ValidationStatusMessage = 'orders-present failed';
    }
    fake.fail('PutRestoreValidationResult', 503, 1);
    const out = await postVerdict(backup, JOB, 'FAILED', 'orders-present failed', {
      ...noRetry,
      knownValidationStatus: '',
    });
    expect(out).toBe('already-final');
    expect(fake.finalVerdicts(JOB)).toEqual([]);
  });

  it('accepts a message of any length, as the API documents no limit (the 1,000 characters are our rule)', async () => {
    await backup.send(
      new PutRestoreValidationResultCommand({
        RestoreJobId: JOB,
        ValidationStatus: 'FAILED',
        ValidationStatusMessage: 'x'.repeat(1500),
      }),
    );
    expect(fake.finalVerdicts(JOB).map((v) => v.message?.length)).toEqual([1500]);
    // postVerdict itself keeps DESIGN.md's limit.
    fake.addJob({ RestoreJobId: 'job-post-2', ResourceType: 'RDS' });
    expect(await postVerdict(backup, 'job-post-2', 'FAILED', 'y'.repeat(5000), noRetry)).toBe('posted');
    expect(fake.finalVerdicts('job-post-2')[0]?.message?.length).toBeLessThanOrEqual(1000);
  });
});

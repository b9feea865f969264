/** The DLQ consumer against the Backup fake over HTTP: real SDK retries, no client mock. */
import { BackupClient } from '@aws-sdk/client-backup';
import type { SQSEvent, SQSRecord } from 'aws-lambda';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createDlqHandler } from '../../functions/dlq/handler';
import { DEFAULT_MAX_ATTEMPTS, sdkClientConfig } from '../../shared/clients';
import { FakeBackupApi } from '../support/fake-backup';
import { fixture } from '../support/fixtures';
import { jobFromEvent } from '../support/lifecycle-harness';

const rdsEvent = fixture('completed-rds.json') as {
  detail: Record<string, unknown> & { restoreJobId: string };
};
const JOB = rdsEvent.detail.restoreJobId;

const record = (body: string, id = 'm1'): SQSRecord =>
  ({
    messageId: id,
    receiptHandle: `rh-${id}`,
    body,
    attributes: {},
    messageAttributes: {},
    md5OfBody: '',
    eventSource: 'aws:sqs',
    eventSourceARN: 'arn:aws:sqs:us-east-1:123456789012:dlq',
    awsRegion: 'us-east-1',
  }) as unknown as SQSRecord;
const event = (...records: SQSRecord[]): SQSEvent => ({ Records: records });

describe('dlq handler against the Backup fake over HTTP', () => {
  let fake: FakeBackupApi;
  let handler: ReturnType<typeof createDlqHandler>;
  beforeEach(async () => {
    fake = new FakeBackupApi();
    await fake.start();
    jobFromEvent(fake, rdsEvent as unknown as { detail: Record<string, unknown> });
    handler = createDlqHandler({
      backup: new BackupClient(
        sdkClientConfig({ endpoint: fake.endpoint, region: 'us-east-1', retryDelayMs: 0 }),
      ),
    });
  });
  afterEach(async () => fake.stop());

  it('drops a record without a body instead of failing it back to SQS forever', async () => {
    const bodiless = { ...record(''), body: undefined } as unknown as SQSRecord;
    const result = await handler(event(bodiless, record('', 'empty')));
    expect(result).toEqual({ batchItemFailures: [], outcomes: ['dropped', 'dropped'] });
    expect(fake.calls).toHaveLength(0);
  });

  it('drops a record naming a job AWS Backup does not know, instead of looping', async () => {
    const unknown = structuredClone(rdsEvent);
    unknown.detail.restoreJobId = 'NO-SUCH-JOB';
    const result = await handler(event(record(JSON.stringify(unknown), 'ghost')));
    expect(result).toEqual({ batchItemFailures: [], outcomes: ['unknown-job'] });
    expect(fake.count('PutRestoreValidationResult')).toBe(0);
  });

  it('lets the client retry a throttled call (one layer) and then posts FAILED', async () => {
    fake.fail('DescribeRestoreJob', 429, 2);
    const result = await handler(event(record(JSON.stringify(rdsEvent))));
    expect(result).toEqual({ batchItemFailures: [], outcomes: ['posted'] });
    expect(fake.count('DescribeRestoreJob')).toBe(3);
    expect(fake.finalVerdicts(JOB)[0]?.status).toBe('FAILED');
  });

  it('gives a record back to SQS after at most maxAttempts attempts when throttling persists', async () => {
    fake.fail('DescribeRestoreJob', 429, Number.POSITIVE_INFINITY);
    const result = await handler(event(record(JSON.stringify(rdsEvent), 'storm')));
    expect(result).toEqual({ batchItemFailures: [{ itemIdentifier: 'storm' }], outcomes: ['retry'] });
    expect(fake.count('DescribeRestoreJob')).toBe(DEFAULT_MAX_ATTEMPTS);
  });
});

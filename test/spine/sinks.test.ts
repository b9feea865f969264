/** The lifecycle's default sink against moto: evidence stored and indexed, FAILED notified over SNS → SQS. */
import { DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { CreateTopicCommand, SNSClient, SubscribeCommand } from '@aws-sdk/client-sns';
import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defineCheck, fail, pass } from '../../shared/checks';
import { createClients } from '../../shared/clients';
import { parseConfigText } from '../../shared/config/index';
import { runtimeSettings } from '../../shared/env';
import type { EvidenceRecord } from '../../shared/evidence';
import { processRestoreEvent } from '../../shared/lifecycle';
import { defineValidator } from '../../shared/validator';
import { finishValidation } from '../../shared/verdict/index';
import { createEvidenceStore } from '../evidence/moto-tables';
import { type Moto, startMoto } from '../support/engines';
import { FakeBackupApi } from '../support/fake-backup';
import { fixture } from '../support/fixtures';
import { backupClient, jobFromEvent } from '../support/lifecycle-harness';

let moto: Moto;
let fake: FakeBackupApi;
let queueUrl: string;
let topicArn: string;
const aws = (endpoint: string) => ({ endpoint, region: 'us-east-1' });

beforeAll(async () => {
  moto = await startMoto();
  fake = new FakeBackupApi();
  await fake.start();
  await createEvidenceStore(
    new S3Client({ ...aws(moto.endpoint), forcePathStyle: true }),
    new DynamoDBClient(aws(moto.endpoint)),
    'evidence',
    'evidence-index',
  );
  const sqs = new SQSClient(aws(moto.endpoint));
  queueUrl = (await sqs.send(new CreateQueueCommand({ QueueName: 'alarms' }))).QueueUrl ?? '';
  const queueArn = (
    await sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['QueueArn'] }))
  ).Attributes?.QueueArn;
  const sns = new SNSClient(aws(moto.endpoint));
  topicArn = (await sns.send(new CreateTopicCommand({ Name: 'restore-validation-alarms' }))).TopicArn ?? '';
  await sns.send(new SubscribeCommand({ TopicArn: topicArn, Protocol: 'sqs', Endpoint: queueArn }));
});
afterAll(async () => {
  await fake?.stop();
  await moto?.stop();
});

function validatorWith(outcome: 'pass' | 'fail') {
  return defineValidator<unknown>({
    name: 'rds',
    resourceTypes: ['RDS'],
    gather: async () => ({}),
    checks: () => [
      defineCheck({
        id: 'rows',
        run: () => (outcome === 'pass' ? pass('1000 rows') : fail('expected n >= 1000, got 12')),
      }),
    ],
  });
}

async function validate(outcome: 'pass' | 'fail', jobId: string) {
  const event = fixture('completed-rds.json');
  event.detail.restoreJobId = jobId;
  jobFromEvent(fake, event);
  const clients = createClients(
    { ...aws(moto.endpoint), forcePathStyle: true },
    { backup: backupClient(fake.endpoint) },
  );
  return processRestoreEvent(
    event,
    { getRemainingTimeInMillis: () => 60_000 },
    {
      validator: validatorWith(outcome),
      config: parseConfigText('version: 1\n'),
      clients,
      settings: runtimeSettings({
        EVIDENCE_BUCKET: 'evidence',
        EVIDENCE_TABLE: 'evidence-index',
        ALARM_TOPIC_ARN: topicArn,
      }),
      persistenceStore: false,
    },
  );
}

describe('default evidence sink', () => {
  it('stores and indexes the evidence of a validation', async () => {
    const out = await validate('pass', 'job-ok');
    expect(out.outcome).toBe('reported');
    const s3 = new S3Client({ ...aws(moto.endpoint), forcePathStyle: true });
    const listed = await s3.send(new ListObjectsV2Command({ Bucket: 'evidence' }));
    const keys = (listed.Contents ?? []).map((o) => o.Key ?? '').filter((k) => k.includes('job-ok'));
    expect(keys).toHaveLength(1);
    const body = await (
      await s3.send(new GetObjectCommand({ Bucket: 'evidence', Key: keys[0] }))
    ).Body?.transformToString();
    expect(JSON.parse(body ?? '{}')).toMatchObject({
      restoreJobId: 'job-ok',
      verdict: 'SUCCESSFUL',
      reported: true,
    });
    const indexed = await new DynamoDBClient(aws(moto.endpoint)).send(
      new GetItemCommand({ TableName: 'evidence-index', Key: { restoreJobId: { S: 'job-ok' } } }),
    );
    expect(indexed.Item?.verdict?.S).toBe('SUCCESSFUL');
  });

  it('notifies FAILED verdicts with a readable summary, and not SUCCESSFUL ones', async () => {
    await validate('fail', 'job-bad');
    const sqs = new SQSClient(aws(moto.endpoint));
    const got = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 2 }),
    );
    const bodies = (got.Messages ?? []).map(
      (m) => JSON.parse(m.Body ?? '{}') as { Subject?: string; Message?: string },
    );
    expect(bodies).toHaveLength(1);
    expect(`${bodies[0]?.Subject} ${bodies[0]?.Message}`).toContain('FAILED');
    expect(bodies[0]?.Message).toContain('expected n >= 1000, got 12');
    expect(bodies[0]?.Message).toContain('s3://evidence/');
  });
});

describe('finishValidation after a hand-off', () => {
  it('judges the objectives handed over from the deferring validator into the final record', async () => {
    const event = fixture('completed-s3.json');
    jobFromEvent(fake, event);
    const records: EvidenceRecord[] = [];
    const { evidence: record } = await finishValidation(
      {
        restoreJobId: String(event.detail.restoreJobId),
        verdict: { verdict: 'SUCCESSFUL', message: '1 of 1 checks passed', checks: [] },
        dryRun: false,
        evidence: {
          kind: 'hand-off',
          validator: 's3',
          startedAt: new Date(),
          objectives: { rtoMinutes: 30, onMiss: 'report' },
        },
      },
      {
        clients: createClients({}, { backup: backupClient(fake.endpoint) }),
        settings: runtimeSettings({}),
        sinks: [async (r) => void records.push(r)],
      },
    );
    // the fixture's restore ran 22:00:05 → 22:41:53
    expect(record?.objectives).toEqual({
      onMiss: 'report',
      rto: { objectiveMinutes: 30, measuredMinutes: 41.8, met: false },
    });
    expect(records).toHaveLength(1);
  });
});

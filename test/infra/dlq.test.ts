import { join } from 'node:path';
import {
  BackupClient,
  DescribeRestoreJobCommand,
  InvalidRequestException,
  PutRestoreValidationResultCommand,
} from '@aws-sdk/client-backup';
import type { SQSEvent, SQSRecord } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { createDlqHandler, parseDlqRecord } from '../../functions/dlq/handler';
import { fixture } from '../support/fixtures';

const rdsEvent = fixture('completed-rds.json') as {
  detail: { restoreJobId: string };
};
const JOB = rdsEvent.detail.restoreJobId;
const PLAN = 'arn:aws:backup:us-east-1:123456789012:restore-testing-plan:nightly_restore_tests-1a2b3c4d';

function record(body: string, id = 'm1', attributes: Record<string, string> = {}): SQSRecord {
  return {
    messageId: id,
    receiptHandle: `rh-${id}`,
    body,
    attributes: {
      ApproximateReceiveCount: '1',
      SentTimestamp: '0',
      SenderId: 'x',
      ApproximateFirstReceiveTimestamp: '0',
    },
    messageAttributes: Object.fromEntries(
      Object.entries(attributes).map(([k, v]) => [
        k,
        { stringValue: v, dataType: 'String', stringListValues: [], binaryListValues: [] },
      ]),
    ),
    md5OfBody: '',
    eventSource: 'aws:sqs',
    eventSourceARN: 'arn:aws:sqs:us-east-1:123456789012:dlq',
    awsRegion: 'us-east-1',
  };
}
const event = (...records: SQSRecord[]): SQSEvent => ({ Records: records });

function lambdaFailureRecord(payload: unknown, condition = 'RetriesExhausted'): string {
  return JSON.stringify({
    version: '1.0',
    timestamp: '2026-11-24T22:45:00.000Z',
    requestContext: {
      requestId: 'r-1',
      functionArn: 'arn:aws:lambda:us-east-1:123456789012:function:rds:$LATEST',
      condition,
      approximateInvokeCount: 3,
    },
    requestPayload: payload,
    responseContext: { statusCode: 200, executedVersion: '$LATEST', functionError: 'Unhandled' },
    responsePayload: {
      errorType: 'Runtime.ImportModuleError',
      errorMessage: 'Dynamic require of "node:https" is not supported',
    },
  });
}

describe('parseDlqRecord', () => {
  it('reads the job and the EventBridge error when the body is the original event', () => {
    const parsed = parseDlqRecord(
      record(JSON.stringify(rdsEvent), 'm1', {
        ERROR_CODE: 'RESOURCE_NOT_FOUND',
        ERROR_MESSAGE: 'Function not found',
      }),
    );
    expect(parsed).toEqual({
      ok: true,
      restoreJobId: JOB,
      isRestoreTest: true,
      reason: expect.stringContaining(
        'EventBridge could not deliver the event to the validator (RESOURCE_NOT_FOUND: Function not found)',
      ),
    });
  });

  it('reads the job and the function error when the body is a Lambda failure record', () => {
    const parsed = parseDlqRecord(record(lambdaFailureRecord(rdsEvent)));
    expect(parsed.ok && parsed.restoreJobId).toBe(JOB);
    expect(parsed.ok && parsed.reason).toMatch(
      /the validator failed after 3 attempts \(RetriesExhausted\): Runtime\.ImportModuleError: Dynamic require/,
    );
  });

  it('says the event expired when the Lambda record condition is EventAgeExceeded', () => {
    const parsed = parseDlqRecord(record(lambdaFailureRecord(rdsEvent, 'EventAgeExceeded')));
    expect(parsed.ok && parsed.reason).toMatch(/expired before the validator could run it/);
  });

  it('reports a problem when the body is not JSON or names no job', () => {
    expect(parseDlqRecord(record('not json {'))).toEqual({ ok: false, problem: 'body is not JSON' });
    expect(parseDlqRecord(record('42'))).toEqual({ ok: false, problem: 'body is not a JSON object' });
    expect(parseDlqRecord(record(JSON.stringify({ detail: {} }))).ok).toBe(false);
    expect(parseDlqRecord(record(lambdaFailureRecord({ hello: 'world' }))).ok).toBe(false);
  });
});

describe('dlq handler', () => {
  const backup = mockClient(BackupClient);
  let handler: ReturnType<typeof createDlqHandler>;

  beforeEach(() => {
    backup.reset();
    handler = createDlqHandler({ backup: new BackupClient({ region: 'us-east-1' }) });
  });

  it('posts FAILED with the reason for the job an EventBridge DLQ message names', async () => {
    backup
      .on(DescribeRestoreJobCommand)
      .resolves({ RestoreJobId: JOB, CreatedBy: { RestoreTestingPlanArn: PLAN } });
    backup.on(PutRestoreValidationResultCommand).resolves({});
    const result = await handler(event(record(JSON.stringify(rdsEvent), 'm1', { ERROR_CODE: 'THROTTLING' })));
    expect(result).toEqual({ batchItemFailures: [], outcomes: ['posted'] });
    const puts = backup.commandCalls(PutRestoreValidationResultCommand);
    expect(puts).toHaveLength(1);
    expect(puts[0]?.args[0].input).toEqual({
      RestoreJobId: JOB,
      ValidationStatus: 'FAILED',
      ValidationStatusMessage: expect.stringContaining(
        'EventBridge could not deliver the event to the validator (THROTTLING)',
      ),
    });
  });

  it('posts FAILED for the job wrapped in a Lambda on-failure destination record', async () => {
    backup.on(DescribeRestoreJobCommand).resolves({
      RestoreJobId: JOB,
      ValidationStatus: 'VALIDATING',
      CreatedBy: { RestoreTestingPlanArn: PLAN },
    });
    backup.on(PutRestoreValidationResultCommand).resolves({});
    const result = await handler(event(record(lambdaFailureRecord(rdsEvent))));
    expect(result.outcomes).toEqual(['posted']);
    const input = backup.commandCalls(PutRestoreValidationResultCommand)[0]?.args[0].input;
    expect(input?.ValidationStatus).toBe('FAILED');
    expect(input?.ValidationStatusMessage).toMatch(/Runtime\.ImportModuleError/);
    expect(input?.ValidationStatusMessage?.length).toBeLessThanOrEqual(1000);
  });

  it('leaves a job alone when it already has a final verdict', async () => {
    backup.on(DescribeRestoreJobCommand).resolves({
      RestoreJobId: JOB,
      ValidationStatus: 'SUCCESSFUL',
      CreatedBy: { RestoreTestingPlanArn: PLAN },
    });
    const result = await handler(event(record(JSON.stringify(rdsEvent))));
    expect(result).toEqual({ batchItemFailures: [], outcomes: ['already-final'] });
    expect(backup.commandCalls(PutRestoreValidationResultCommand)).toHaveLength(0);
  });

  it('treats a lost race (job became final before the write) as already final, by re-reading the job', async () => {
    backup
      .on(DescribeRestoreJobCommand)
      .resolvesOnce({ RestoreJobId: JOB, CreatedBy: { RestoreTestingPlanArn: PLAN } })
      .resolves({
        RestoreJobId: JOB,
        ValidationStatus: 'FAILED',
        CreatedBy: { RestoreTestingPlanArn: PLAN },
      });
    backup.on(PutRestoreValidationResultCommand).rejects(
      new InvalidRequestException({
        message: 'Validation status is already FAILED and cannot be changed',
        $metadata: {},
      }),
    );
    const result = await handler(event(record(JSON.stringify(rdsEvent))));
    expect(result).toEqual({ batchItemFailures: [], outcomes: ['already-final'] });
  });

  it('retries a message whose write was refused while the job is still not final (the error alone proves nothing)', async () => {
    backup
      .on(DescribeRestoreJobCommand)
      .resolves({ RestoreJobId: JOB, CreatedBy: { RestoreTestingPlanArn: PLAN } });
    backup.on(PutRestoreValidationResultCommand).rejects(
      new InvalidRequestException({
        message: 'Validation status is already FAILED and cannot be changed',
        $metadata: {},
      }),
    );
    const result = await handler(event(record(JSON.stringify(rdsEvent))));
    expect(result.outcomes).toEqual(['retry']);
    expect(result.batchItemFailures).toHaveLength(1);
  });

  it('does not post for a job that is not a restore test', async () => {
    const manual = fixture('completed-manual-restore.json') as unknown;
    backup.on(DescribeRestoreJobCommand).resolves({ RestoreJobId: 'x' });
    const result = await handler(event(record(JSON.stringify(manual))));
    expect(result.outcomes).toEqual(['not-a-restore-test']);
    expect(backup.commandCalls(PutRestoreValidationResultCommand)).toHaveLength(0);
  });

  it('drops an unparseable message without calling AWS and without failing the batch', async () => {
    backup
      .on(DescribeRestoreJobCommand)
      .resolves({ RestoreJobId: JOB, CreatedBy: { RestoreTestingPlanArn: PLAN } });
    backup.on(PutRestoreValidationResultCommand).resolves({});
    const result = await handler(
      event(record('%%% not json', 'bad'), record(JSON.stringify(rdsEvent), 'good')),
    );
    expect(result).toEqual({ batchItemFailures: [], outcomes: ['dropped', 'posted'] });
    expect(backup.commandCalls(DescribeRestoreJobCommand)).toHaveLength(1);
  });

  it('returns only the failing record as a batch item failure when AWS keeps throttling', async () => {
    const throttled = Object.assign(new Error('Rate exceeded'), {
      name: 'ThrottlingException',
      $metadata: { httpStatusCode: 429 },
    });
    const other = structuredClone(rdsEvent);
    other.detail.restoreJobId = 'OTHER-JOB';
    backup.on(DescribeRestoreJobCommand, { RestoreJobId: JOB }).rejects(throttled);
    backup
      .on(DescribeRestoreJobCommand, { RestoreJobId: 'OTHER-JOB' })
      .resolves({ RestoreJobId: 'OTHER-JOB', CreatedBy: { RestoreTestingPlanArn: PLAN } });
    backup.on(PutRestoreValidationResultCommand).resolves({});
    const result = await handler(
      event(record(JSON.stringify(rdsEvent), 'throttled'), record(JSON.stringify(other), 'fine')),
    );
    expect(result).toEqual({
      batchItemFailures: [{ itemIdentifier: 'throttled' }],
      outcomes: ['retry', 'posted'],
    });
  });

  it('posts nothing in dry-run mode', async () => {
    backup
      .on(DescribeRestoreJobCommand)
      .resolves({ RestoreJobId: JOB, CreatedBy: { RestoreTestingPlanArn: PLAN } });
    const dry = createDlqHandler({
      backup: new BackupClient({ region: 'us-east-1' }),
      dryRun: true,
    });
    const result = await dry(event(record(JSON.stringify(rdsEvent))));
    expect(result.outcomes).toEqual(['dry-run']);
    expect(backup.commandCalls(PutRestoreValidationResultCommand)).toHaveLength(0);
  });
});

describe('dlq bundle', () => {
  it('posts FAILED from the real esbuild bundle in a fresh node against a local Backup API', async () => {
    const { createServer } = await import('node:http');
    const { spawn } = await import('node:child_process');
    const { bundleOne } = await import('../../scripts/bundle');
    const { PROJECT_ROOT } = await import('../../infra/bundling');
    const out = join(PROJECT_ROOT, '.tmp', 'infra-dlq-bundle', 'index.mjs');
    await bundleOne(join(PROJECT_ROOT, 'functions', 'dlq', 'handler.ts'), out);

    // A local fake of the two Backup REST paths the consumer calls.
    const puts: Array<{ url: string; body: Record<string, string> }> = [];
    const server = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => {
        body += c.toString();
      });
      req.on('end', () => {
        if (req.method === 'GET' && req.url?.startsWith(`/restore-jobs/${JOB}`)) {
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ RestoreJobId: JOB, CreatedBy: { RestoreTestingPlanArn: PLAN } }));
        } else if (req.method === 'PUT' && req.url?.startsWith(`/restore-jobs/${JOB}/validations`)) {
          puts.push({ url: req.url, body: JSON.parse(body) as Record<string, string> });
          res.writeHead(204);
          res.end();
        } else {
          res.writeHead(404, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ message: `unexpected ${req.method} ${req.url}` }));
        }
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    try {
      const records = [
        record('garbage', 'bad'),
        record(JSON.stringify(rdsEvent), 'good', { ERROR_CODE: 'THROTTLING' }),
      ];
      const script = `const m = await import(${JSON.stringify(`file://${out}`)}); process.stdout.write(JSON.stringify(await m.handler(${JSON.stringify({ Records: records })})));`;
      const child = spawn(process.execPath, ['--no-warnings', '--input-type=module', '-e', script], {
        env: {
          ...process.env,
          AWS_REGION: 'us-east-1',
          AWS_ACCESS_KEY_ID: 'test',
          AWS_SECRET_ACCESS_KEY: 'test',
          AWS_ENDPOINT_URL_BACKUP: `http://127.0.0.1:${port}`,
          POWERTOOLS_LOG_LEVEL: 'SILENT',
        },
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (c: Buffer) => {
        stdout += c.toString();
      });
      child.stderr.on('data', (c: Buffer) => {
        stderr += c.toString();
      });
      const code = await new Promise<number | null>((r) => child.on('close', r));
      expect(stderr).not.toMatch(/Dynamic require/);
      expect(code).toBe(0);
      expect(JSON.parse(stdout)).toEqual({ batchItemFailures: [] });
      expect(puts).toHaveLength(1);
      expect(puts[0]?.body.ValidationStatus).toBe('FAILED');
      expect(puts[0]?.body.ValidationStatusMessage).toMatch(
        /EventBridge could not deliver the event to the validator \(THROTTLING\)/,
      );
    } finally {
      await new Promise<void>((r) => server.close(() => r()));
    }
  });
});

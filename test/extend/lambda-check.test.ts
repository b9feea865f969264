import { InvokeCommand, LambdaClient, ResourceNotFoundException } from '@aws-sdk/client-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import {
  type Config,
  defineValidator,
  type LambdaCheckPayload,
  parseConfig,
  runValidator,
} from 'restore-validation';
import { beforeEach, describe, expect, it } from 'vitest';
import { interpretInvokeResponse } from '../../shared/lambda-check';
import { contextFor, localJob, restoreJob } from './helpers';

const FN = 'arn:aws:lambda:us-east-1:123456789012:function:orders-invariants';

/** A validator with no checks of its own: every result comes from the profile's `lambda` check. */
const bare = defineValidator({
  name: 'bare',
  resourceTypes: ['RDS'],
  gather: async () => ({}),
  checks: () => [],
});

function configWith(lambda: Record<string, unknown>, extra: Record<string, unknown> = {}): Config {
  return parseConfig({
    version: 1,
    profiles: [
      {
        name: 'orders-db',
        match: { resourceType: 'RDS', sourceResourceArn: 'arn:aws:rds:*:*:db:orders-*' },
        checks: [
          {
            id: 'invariants',
            description: 'no orphaned order lines',
            lambda: { functionArn: FN, ...lambda },
            ...extra,
          },
        ],
      },
    ],
  });
}

const answer = (body: unknown) => ({
  StatusCode: 200,
  Payload: Buffer.from(typeof body === 'string' ? body : JSON.stringify(body)) as never,
});

describe('lambda check kind', () => {
  const lambda = mockClient(LambdaClient);
  const client = new LambdaClient({ region: 'us-east-1' });
  beforeEach(() => lambda.reset());

  async function run(config: Config, job = restoreJob(), opts: { deadlineMs?: number } = {}) {
    const result = await runValidator(bare, contextFor(config, job, { lambda: client, ...opts }));
    const check = result.results.find((r) => r.id === 'invariants');
    return { result, check };
  }

  it('sends the documented version 1 payload synchronously when the check runs', async () => {
    lambda.on(InvokeCommand).resolves(answer({ status: 'pass', detail: '0 orphaned rows' }));
    await run(configWith({ options: { table: 'order_lines' } }));
    const calls = lambda.commandCalls(InvokeCommand);
    expect(calls).toHaveLength(1);
    const input = calls[0]?.args[0].input;
    expect(input?.FunctionName).toBe(FN);
    expect(input?.InvocationType).toBe('RequestResponse');
    const payload = JSON.parse(
      Buffer.from(input?.Payload as Uint8Array).toString('utf8'),
    ) as LambdaCheckPayload;
    expect(payload).toEqual({
      version: 1,
      mode: 'lambda',
      restoreJob: {
        id: 'AB12CD34-0001-4F00-9A00-000000000001',
        resourceType: 'RDS',
        accountId: '123456789012',
        region: 'us-east-1',
        createdResourceArn: 'arn:aws:rds:us-east-1:123456789012:db:awsbackup-restore-test-orders-1a2b',
        sourceResourceArn: 'arn:aws:rds:us-east-1:123456789012:db:orders-prod',
        recoveryPointArn: 'arn:aws:rds:us-east-1:123456789012:snapshot:awsbackup:job-1',
        recoveryPointCreationDate: '2026-11-24T21:00:00.000Z',
        restoreTestingPlanName: 'nightly_restore_tests',
        metadata: {
          dbInstanceIdentifier: 'awsbackup-restore-test-orders-1a2b',
          vpcSecurityGroupIds: '["sg-1"]',
        },
      },
      restoredResource: {
        arn: 'arn:aws:rds:us-east-1:123456789012:db:awsbackup-restore-test-orders-1a2b',
        partition: 'aws',
        service: 'rds',
        region: 'us-east-1',
        accountId: '123456789012',
        resource: 'db:awsbackup-restore-test-orders-1a2b',
        resourceType: 'db',
        resourceId: 'awsbackup-restore-test-orders-1a2b',
      },
      profile: { name: 'orders-db' },
      check: { id: 'invariants', description: 'no orphaned order lines', timeoutSeconds: 60 },
      options: { table: 'order_lines' },
    });
  });

  it('passes the verdict when the function answers pass', async () => {
    lambda
      .on(InvokeCommand)
      .resolves(answer({ status: 'pass', detail: '0 orphaned rows', data: { orphans: 0 } }));
    const { result, check } = await run(configWith({}));
    expect(check).toMatchObject({ status: 'pass', detail: '0 orphaned rows', data: { orphans: 0 } });
    expect(result.verdict.verdict).toBe('SUCCESSFUL');
  });

  it('fails the verdict with the function detail when the function answers fail', async () => {
    lambda.on(InvokeCommand).resolves(answer({ status: 'fail', detail: '12 order lines without an order' }));
    const { result, check } = await run(configWith({}));
    expect(check).toMatchObject({ status: 'fail', detail: '12 order lines without an order' });
    expect(result.verdict.verdict).toBe('FAILED');
    expect(result.verdict.message).toContain('12 order lines without an order');
  });

  it('reports error with the error message when the function throws (FunctionError)', async () => {
    lambda.on(InvokeCommand).resolves({
      StatusCode: 200,
      FunctionError: 'Unhandled',
      Payload: Buffer.from(
        JSON.stringify({ errorType: 'KeyError', errorMessage: "'restoreJob'", stackTrace: [] }),
      ) as never,
    });
    const { result, check } = await run(configWith({}));
    expect(check?.status).toBe('error');
    expect(check?.detail).toBe("the check function failed (Unhandled): KeyError: 'restoreJob'");
    expect(result.verdict.verdict).toBe('FAILED');
  });

  it('reports error naming the timeout when the function does not answer in lambda.timeoutSeconds', async () => {
    lambda.on(InvokeCommand).callsFake(() => new Promise(() => {}));
    const { check } = await run(configWith({ timeoutSeconds: 1 }));
    expect(check).toMatchObject({
      status: 'error',
      detail: 'the check function did not answer within 1 s (lambda.timeoutSeconds)',
    });
  });

  it('uses the shorter of lambda.timeoutSeconds and the check timeoutSeconds when both are given', async () => {
    lambda.on(InvokeCommand).callsFake(() => new Promise(() => {}));
    const { check } = await run(configWith({ timeoutSeconds: 120 }, { timeoutSeconds: 1 }));
    expect(check?.detail).toBe('the check function did not answer within 1 s (lambda.timeoutSeconds)');
  });

  it('stops the invocation when the validation deadline passes first', async () => {
    lambda.on(InvokeCommand).callsFake(() => new Promise(() => {}));
    const { check } = await run(configWith({ timeoutSeconds: 60 }), restoreJob(), { deadlineMs: 800 });
    expect(check?.status).toBe('error');
    expect(check?.detail).toMatch(/deadline/);
  });

  it('reports error with the AWS reason when Invoke is refused', async () => {
    lambda
      .on(InvokeCommand)
      .rejects(
        new ResourceNotFoundException({ message: 'Function not found: orders-invariants', $metadata: {} }),
      );
    const { check } = await run(configWith({}));
    expect(check?.status).toBe('error');
    expect(check?.detail).toBe(
      `could not invoke the check function ${FN}: ResourceNotFoundException: Function not found: orders-invariants`,
    );
  });

  it('sends mode local and a local job id when run by the CLI', async () => {
    lambda.on(InvokeCommand).resolves(answer({ status: 'skip', detail: 'nothing to compare locally' }));
    const config = configWith({});
    const result = await runValidator(
      bare,
      contextFor(config, localJob(), { lambda: client, mode: 'local' }),
    );
    const payload = JSON.parse(
      Buffer.from(lambda.commandCalls(InvokeCommand)[0]?.args[0].input.Payload as Uint8Array).toString(
        'utf8',
      ),
    ) as LambdaCheckPayload;
    expect(payload.mode).toBe('local');
    expect(payload.restoreJob.id).toMatch(/^local-/);
    expect(payload.restoreJob.recoveryPointCreationDate).toBeNull();
    expect(result.results[0]).toMatchObject({ id: 'invariants', status: 'skip' });
  });
});

describe('interpretInvokeResponse', () => {
  it.each([
    ['an empty payload', '', 'malformed answer: the check function returned nothing'],
    ['null', 'null', 'malformed answer: the check function returned nothing'],
    ['text that is not JSON', 'OK', 'malformed answer: not JSON (starts with "OK")'],
    [
      'an unknown status',
      { status: 'ok', detail: 'fine' },
      'malformed answer: status: Invalid option: expected one of "pass"|"fail"|"skip"|"error"',
    ],
    ['no detail', { status: 'pass' }, 'malformed answer: detail:'],
    [
      'an empty detail',
      { status: 'pass', detail: '' },
      'malformed answer: detail: detail must say what was found',
    ],
    ['a list', [{ status: 'pass', detail: 'x' }], 'malformed answer: (answer):'],
    ['data that is not an object', { status: 'pass', detail: 'x', data: [1, 2] }, 'malformed answer: data:'],
    [
      'an API Gateway style response',
      { statusCode: 200, body: '{"status":"pass"}' },
      'malformed answer: status:',
    ],
  ])('reports error when the answer is %s', (_name, body, expected) => {
    const outcome = interpretInvokeResponse(answer(body));
    expect(outcome.status).toBe('error');
    expect(outcome.detail.startsWith(expected)).toBe(true);
  });

  it('accepts an answer that was JSON-encoded twice', () => {
    const outcome = interpretInvokeResponse(
      answer(JSON.stringify(JSON.stringify({ status: 'fail', detail: '3 orphans' }))),
    );
    expect(outcome).toEqual({ status: 'fail', detail: '3 orphans' });
  });

  it('ignores unknown top-level fields of the answer', () => {
    expect(interpretInvokeResponse(answer({ status: 'pass', detail: 'ok', debug: 'x' }))).toEqual({
      status: 'pass',
      detail: 'ok',
    });
  });

  it('reports error when data is larger than 16 KiB', () => {
    const outcome = interpretInvokeResponse(
      answer({ status: 'pass', detail: 'ok', data: { rows: 'x'.repeat(20_000) } }),
    );
    expect(outcome.status).toBe('error');
    expect(outcome.detail).toMatch(/data is \d+ bytes as JSON, more than 16384/);
  });

  it('shortens a detail longer than 2,000 characters', () => {
    const outcome = interpretInvokeResponse(answer({ status: 'fail', detail: 'y'.repeat(5000) }));
    expect(outcome.detail).toHaveLength(2000);
    expect(outcome.detail.endsWith('…')).toBe(true);
  });

  it('reports error for a non-200 Invoke status', () => {
    expect(interpretInvokeResponse({ StatusCode: 202 }).detail).toBe(
      'the check function was not run synchronously (Invoke status 202)',
    );
  });

  it('keeps the raw text of a function error that is not JSON', () => {
    const outcome = interpretInvokeResponse({
      StatusCode: 200,
      FunctionError: 'Unhandled',
      Payload: Buffer.from('Runtime exited with error: signal: killed') as never,
    });
    expect(outcome.detail).toBe(
      'the check function failed (Unhandled): Runtime exited with error: signal: killed',
    );
  });
});

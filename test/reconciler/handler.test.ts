import { BackupClient } from '@aws-sdk/client-backup';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createReconcilerHandler, lambdaDispatcher } from '../../functions/reconciler/handler';
import { synthesizeEvent } from '../../functions/reconciler/reconcile';
import { reconcilerSettings } from '../../functions/reconciler/settings';
import { createClients } from '../../shared/clients';
import { runtimeSettings } from '../../shared/env';
import { FakeRestoreTestingApi } from './fake-restore-testing';

const PLAN_ARN = 'arn:aws:backup:us-east-1:123456789012:restore-testing-plan:weekly_tests-0a1b2c3d';

describe('lambdaDispatcher', () => {
  it('invokes the function asynchronously with the event as payload', async () => {
    const lambda = mockClient(LambdaClient);
    lambda.on(InvokeCommand).resolves({ StatusCode: 202 });
    const event = synthesizeEvent(
      { RestoreJobId: 'J1', ResourceType: 'S3', CreatedResourceArn: 'arn:aws:s3:::awsbackup-restore-test-1' },
      { arn: PLAN_ARN },
    );
    await lambdaDispatcher(new LambdaClient({}))('rv-s3', event);
    const input = lambda.commandCalls(InvokeCommand)[0]?.args[0].input;
    expect(input?.FunctionName).toBe('rv-s3');
    expect(input?.InvocationType).toBe('Event');
    expect(JSON.parse(Buffer.from(input?.Payload as Uint8Array).toString())).toMatchObject({
      detail: { restoreJobId: 'J1', status: 'COMPLETED' },
    });
    lambda.restore();
  });

  it('throws when Lambda does not accept the async invocation', async () => {
    const lambda = mockClient(LambdaClient);
    lambda.on(InvokeCommand).resolves({ StatusCode: 200 });
    await expect(
      lambdaDispatcher(new LambdaClient({}))(
        'rv-s3',
        synthesizeEvent({ RestoreJobId: 'J1' }, { arn: PLAN_ARN }),
      ),
    ).rejects.toThrow(/answered 200, expected 202/);
    lambda.restore();
  });
});

describe('reconcilerSettings', () => {
  it('parses plans, numbers and validator functions when all are given', () => {
    const s = reconcilerSettings({
      RECONCILER_PLAN_ARNS: ` ${PLAN_ARN} ,`,
      RECONCILER_LOOKBACK_HOURS: '48',
      VALIDATOR_FUNCTIONS: '{"rds":"rv-rds","s3":"rv-s3"}',
    });
    expect(s).toMatchObject({
      planArns: [PLAN_ARN],
      lookbackHours: 48,
      graceMinutes: 20,
      validatorFunctions: { rds: 'rv-rds', s3: 'rv-s3' },
    });
  });

  it('names the variable and the fix when a value is wrong', () => {
    expect(() => reconcilerSettings({ RECONCILER_GRACE_MINUTES: 'soon' })).toThrow(
      /RECONCILER_GRACE_MINUTES="soon" is not a positive number/,
    );
    expect(() => reconcilerSettings({ VALIDATOR_FUNCTIONS: '{"redshift":"x"}' })).toThrow(
      /unknown validator type "redshift"/,
    );
    expect(() => reconcilerSettings({ VALIDATOR_FUNCTIONS: 'rds=x' })).toThrow(/is not JSON/);
  });
});

describe('reconciler handler', () => {
  let api: FakeRestoreTestingApi;
  let lambda: ReturnType<typeof mockClient>;
  beforeEach(async () => {
    api = new FakeRestoreTestingApi();
    await api.start();
    lambda = mockClient(LambdaClient);
    lambda.on(InvokeCommand).resolves({ StatusCode: 202 });
  });
  afterEach(async () => {
    lambda.restore();
    await api.stop();
  });

  it('dispatches a missed job through Lambda when run without an evidence store', async () => {
    api.addPlan({ RestoreTestingPlanName: 'weekly_tests', RestoreTestingPlanArn: PLAN_ARN });
    api.addSelection({
      RestoreTestingPlanName: 'weekly_tests',
      RestoreTestingSelectionName: 's3',
      ProtectedResourceType: 'S3',
      ValidationWindowHours: 48,
      ProtectedResourceArns: ['arn:aws:s3:::data'],
    });
    api.jobsApi.addJob({
      RestoreJobId: 'H1',
      ResourceType: 'S3',
      SourceResourceArn: 'arn:aws:s3:::data',
      CreatedResourceArn: 'arn:aws:s3:::awsbackup-restore-test-h1',
      CreationDate: new Date(Date.now() - 3_600_000 * 3),
      CompletionDate: new Date(Date.now() - 3_600_000 * 2),
      RestoreTestingPlanArn: PLAN_ARN,
    });
    const clients = createClients(
      {},
      {
        backup: new BackupClient({ endpoint: api.endpoint, region: 'us-east-1', maxAttempts: 1 }),
        lambda: new LambdaClient({}),
      },
    );
    const env = { RECONCILER_PLAN_ARNS: PLAN_ARN, VALIDATOR_FUNCTIONS: '{"s3":"rv-s3"}' };
    const handler = createReconcilerHandler({
      clients,
      settings: runtimeSettings(env),
      reconciler: reconcilerSettings(env),
    });
    const result = await handler({}, { getRemainingTimeInMillis: () => 300_000 });
    expect(result.decisions.dispatched).toBe(1);
    expect(result.coverage.untested).toEqual([]);
    expect(lambda.commandCalls(InvokeCommand)).toHaveLength(1);
  });
});

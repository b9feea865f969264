/**
 * A validator written only against the package root, run by the real lifecycle (processRestoreEvent)
 * for a restore job in the local fake of the Backup restore API: the lifecycle, not the validator,
 * posts VALIDATING and exactly one verdict, and the evidence records the validator, its own checks and
 * the profile's `lambda` check (a Python-free stand-in function answering through a mocked Invoke).
 */
import { BackupClient } from '@aws-sdk/client-backup';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import {
  createClients,
  defineCheck,
  defineValidator,
  fail,
  parseConfig,
  pass,
  ResourceStateError,
} from 'restore-validation';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runtimeSettings } from '../../shared/env';
import { processRestoreEvent } from '../../shared/lifecycle';
import { FakeBackupApi } from '../support/fake-backup';
import { fixture } from '../support/fixtures';
import { jobFromEvent } from '../support/lifecycle-harness';

const JOB = 'AB12CD34-0001-4F00-9A00-000000000001';
const FN = 'arn:aws:lambda:us-east-1:123456789012:function:orders-invariants';

interface Facts {
  readonly instanceId: string;
}
let instanceUsable = true;

/** What a team would write: facts from the job context, one check of its own. */
const ordersValidator = defineValidator<Facts>({
  name: 'orders-db',
  resourceTypes: ['RDS'],
  async gather(ctx) {
    const instanceId = ctx.job.metadata.get('dbinstanceidentifier');
    if (!instanceId || !instanceUsable)
      throw new ResourceStateError(`restored instance ${instanceId ?? '(none)'} is not usable`);
    ctx.note('instanceId', instanceId);
    return { instanceId };
  },
  checks: () => [
    defineCheck<Facts>({
      id: 'restore-test-name',
      run: (f) =>
        f.instanceId.startsWith('awsbackup-restore-test')
          ? pass(`${f.instanceId} is a restore-test copy`)
          : fail(`${f.instanceId} is not a restore-test copy`),
    }),
  ],
});

const config = parseConfig({
  version: 1,
  profiles: [
    {
      name: 'orders',
      match: { resourceType: 'RDS' },
      checks: [{ id: 'invariants', lambda: { functionArn: FN } }],
    },
  ],
});

describe('custom validator in the lifecycle', () => {
  let fake: FakeBackupApi;
  const lambda = mockClient(LambdaClient);

  beforeEach(async () => {
    fake = new FakeBackupApi();
    await fake.start();
    jobFromEvent(fake, fixture('completed-rds.json'));
    lambda.reset();
    instanceUsable = true;
  });
  afterEach(async () => fake.stop());

  const run = () =>
    processRestoreEvent(
      fixture('completed-rds.json'),
      { getRemainingTimeInMillis: () => 60_000 },
      {
        validator: ordersValidator,
        config,
        clients: createClients(
          { region: 'us-east-1' },
          {
            backup: new BackupClient({ endpoint: fake.endpoint, region: 'us-east-1', maxAttempts: 1 }),
            lambda: new LambdaClient({ region: 'us-east-1' }),
          },
        ),
        settings: runtimeSettings({}),
        persistenceStore: false,
        sinks: [],
      },
    );

  it('posts VALIDATING then one SUCCESSFUL verdict with its own and the lambda check in the evidence', async () => {
    lambda
      .on(InvokeCommand)
      .resolves({ StatusCode: 200, Payload: Buffer.from('{"status":"pass","detail":"0 orphans"}') as never });
    const out = await run();
    expect(out.outcome).toBe('reported');
    expect(fake.accepted.map((v) => v.status)).toEqual(['VALIDATING', 'SUCCESSFUL']);
    expect(out.evidence).toMatchObject({
      validator: 'orders-db',
      profile: 'orders',
      verdict: 'SUCCESSFUL',
      notes: { instanceId: 'awsbackup-restore-test-53a1c2f0' },
    });
    expect(out.evidence?.checks.map((c) => [c.id, c.status])).toEqual([
      ['restore-test-name', 'pass'],
      ['invariants', 'pass'],
    ]);
  });

  it('posts FAILED with the function detail when the lambda check fails', async () => {
    lambda
      .on(InvokeCommand)
      .resolves({ StatusCode: 200, Payload: Buffer.from('{"status":"fail","detail":"3 orphans"}') as never });
    const out = await run();
    expect(fake.finalVerdicts(JOB).map((v) => v.status)).toEqual(['FAILED']);
    expect(fake.finalVerdicts(JOB)[0]?.message).toContain('3 orphans');
    expect(out.verdict).toBe('FAILED');
  });

  it('posts FAILED naming the reason when gather finds the resource unusable', async () => {
    instanceUsable = false;
    const out = await run();
    expect(out.verdict).toBe('FAILED');
    expect(fake.finalVerdicts(JOB)[0]?.message).toContain('is not usable');
    expect(lambda.commandCalls(InvokeCommand)).toHaveLength(0);
  });
});

import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type CheckDefinition, defineCheck, fail, pass } from '../../shared/checks';
import { createClients, DEFAULT_MAX_ATTEMPTS } from '../../shared/clients';
import { parseConfigText } from '../../shared/config/index';
import { runtimeSettings } from '../../shared/env';
import type { EvidenceRecord } from '../../shared/evidence';
import { type LifecycleOptions, processRestoreEvent } from '../../shared/lifecycle';
import { defineValidator } from '../../shared/validator';
import { FakeBackupApi } from '../support/fake-backup';
import { fixture, fixtureNames } from '../support/fixtures';
import { backupClient, heldCheck, idempotencyStorePerTest, jobFromEvent } from '../support/lifecycle-harness';

const JOB = 'AB12CD34-0001-4F00-9A00-000000000001';

let fake: FakeBackupApi;
let checks: CheckDefinition<unknown>[];
let gathered: number;

const validator = defineValidator<unknown>({
  name: 'rds',
  resourceTypes: ['RDS'],
  gather: async () => {
    gathered++;
    return {};
  },
  checks: () => checks,
});

function options(extra: Partial<LifecycleOptions> = {}): LifecycleOptions {
  return {
    validator,
    config: parseConfigText('version: 1\n'),
    clients: createClients({ region: 'us-east-1' }, { backup: backupClient(fake.endpoint) }),
    settings: runtimeSettings({}),
    persistenceStore: false,
    sinks: [],
    ...extra,
  };
}

const lambdaContext = (ms = 60_000) => ({ getRemainingTimeInMillis: () => ms });

beforeEach(async () => {
  fake = new FakeBackupApi();
  await fake.start();
  jobFromEvent(fake, fixture('completed-rds.json'));
  checks = [defineCheck({ id: 'ok', run: () => pass('fine') })];
  gathered = 0;
});
afterEach(async () => fake.stop());

describe('processRestoreEvent', () => {
  it('posts VALIDATING then exactly one SUCCESSFUL verdict when checks pass', async () => {
    const out = await processRestoreEvent(fixture('completed-rds.json'), lambdaContext(), options());
    expect(out.outcome).toBe('reported');
    expect(fake.accepted.map((v) => v.status)).toEqual(['VALIDATING', 'SUCCESSFUL']);
    expect(fake.finalVerdicts(JOB)[0]?.message).toContain('1 of 1 checks passed');
  });

  it('records job facts in the evidence: plan name, metadata-derived ids, restore duration', async () => {
    const out = await processRestoreEvent(fixture('completed-rds.json'), lambdaContext(), options());
    expect(out.evidence?.restoreTestingPlanName).toBe('nightly_restore_tests');
    expect(out.evidence?.restoreDurationSeconds).toBe(2509);
    expect(out.evidence?.recoveryPointCreationDate).toBe('2026-11-24T21:30:00.000Z');
  });

  it('gives sinks the evidence and survives a failing sink', async () => {
    const seen: EvidenceRecord[] = [];
    const out = await processRestoreEvent(
      fixture('completed-rds.json'),
      lambdaContext(),
      options({
        sinks: [
          async () => {
            throw new Error('bucket gone');
          },
          async (r) => void seen.push(r),
        ],
      }),
    );
    expect(out.outcome).toBe('reported');
    expect(seen).toHaveLength(1);
    expect(seen[0]?.verdict).toBe('SUCCESSFUL');
  });

  it('posts FAILED naming the failed check', async () => {
    checks = [
      defineCheck({ id: 'rows', run: () => fail('expected n >= 1000, got 12') }),
      defineCheck({ id: 'ok', run: () => pass('') }),
    ];
    await processRestoreEvent(fixture('completed-rds.json'), lambdaContext(), options());
    expect(fake.finalVerdicts(JOB)).toEqual([
      expect.objectContaining({
        status: 'FAILED',
        message: expect.stringMatching(/^1 of 2 checks failed\. rows failed: expected n >= 1000, got 12/),
      }),
    ]);
  });

  it('posts nothing but VALIDATING-free FAILED when nothing was checked', async () => {
    checks = [];
    await processRestoreEvent(fixture('completed-rds.json'), lambdaContext(), options());
    expect(fake.finalVerdicts(JOB)[0]?.status).toBe('FAILED');
    expect(fake.finalVerdicts(JOB)[0]?.message).toContain('nothing was verified');
  });

  it('reports a profile check the validator cannot run as an error, never a silent pass', async () => {
    const config = parseConfigText(
      'version: 1\nprofiles: [{name: p, checks: [{id: must-run, keys: [a]}]}]\n',
    );
    await processRestoreEvent(fixture('completed-rds.json'), lambdaContext(), options({ config }));
    expect(fake.finalVerdicts(JOB)[0]?.message).toContain(
      'must-run error: check kind "keys" is not supported by the rds validator',
    );
  });
});

describe('fault matrix: each case ends with exactly one verdict or a clear rejection', () => {
  for (const op of ['DescribeRestoreJob', 'GetRestoreJobMetadata', 'PutRestoreValidationResult'] as const) {
    for (const status of [429, 500, 503]) {
      it(`retries ${status} on ${op} and still posts one verdict`, async () => {
        fake.fail(op, status, 2);
        const out = await processRestoreEvent(fixture('completed-rds.json'), lambdaContext(), options());
        expect(out.outcome).toBe('reported');
        expect(fake.finalVerdicts(JOB)).toHaveLength(1);
        expect(fake.finalVerdicts(JOB)[0]?.status).toBe('SUCCESSFUL');
      });
    }
  }

  it('throws (for Lambda to retry) instead of a final FAILED when DescribeRestoreJob stays throttled', async () => {
    fake.fail('DescribeRestoreJob', 429, Number.POSITIVE_INFINITY);
    await expect(
      processRestoreEvent(fixture('completed-rds.json'), lambdaContext(), options()),
    ).rejects.toMatchObject({ name: 'ThrottlingException' });
    expect(fake.count('PutRestoreValidationResult')).toBe(0);
    expect(gathered).toBe(0);
    // The storm is over when Lambda retries the event: one verdict.
    fake.faults.length = 0;
    expect(
      (await processRestoreEvent(fixture('completed-rds.json'), lambdaContext(), options())).outcome,
    ).toBe('reported');
    expect(fake.finalVerdicts(JOB)).toHaveLength(1);
  });

  it('makes at most maxAttempts HTTP attempts for one logical call (one retry layer)', async () => {
    fake.fail('DescribeRestoreJob', 503, Number.POSITIVE_INFINITY);
    const clients = createClients({ endpoint: fake.endpoint, region: 'us-east-1', retryDelayMs: 0 });
    await expect(
      processRestoreEvent(fixture('completed-rds.json'), lambdaContext(), options({ clients })),
    ).rejects.toThrow(/injected ServiceUnavailableException/);
    // DescribeRestoreJob for the job; the SDK's retries are the only ones (not withRetry × SDK).
    expect(fake.count('DescribeRestoreJob')).toBe(DEFAULT_MAX_ATTEMPTS);
  });

  it('posts FAILED with the reason when AWS Backup answers that the job cannot be read', async () => {
    fake.fail('GetRestoreJobMetadata', 400, Number.POSITIVE_INFINITY, 'InvalidParameterValueException');
    const out = await processRestoreEvent(fixture('completed-rds.json'), lambdaContext(), options());
    expect(out.verdict).toBe('FAILED');
    expect(fake.finalVerdicts(JOB)).toEqual([
      expect.objectContaining({
        status: 'FAILED',
        message: expect.stringContaining('could not read the restore job'),
      }),
    ]);
    expect(gathered).toBe(0);
  });

  it('aborts a hung AWS Backup call before the Lambda would end, so the event is retried', async () => {
    // The verdict call never answers: without a deadline it would outlive the Lambda.
    fake.fail('PutRestoreValidationResult', 500, 1, undefined, 10 * 60_000);
    const config = parseConfigText('version: 1\ndefaults: {reportValidating: false, reserveSeconds: 1}\n');
    await expect(
      processRestoreEvent(fixture('completed-rds.json'), lambdaContext(2_000), options({ config })),
    ).rejects.toMatchObject({ name: 'AbortError' });
    expect(fake.count('PutRestoreValidationResult')).toBe(1);
    expect(fake.finalVerdicts(JOB)).toHaveLength(0);
  });

  it('throws (for Lambda to retry) when AWS Backup refuses every verdict, then a retry posts exactly one', async () => {
    fake.fail('PutRestoreValidationResult', 500, 10);
    await expect(
      processRestoreEvent(
        fixture('completed-rds.json'),
        lambdaContext(),
        options({ config: parseConfigText('version: 1\ndefaults: {reportValidating: false}\n') }),
      ),
    ).rejects.toThrow();
    expect(fake.finalVerdicts(JOB)).toHaveLength(0);
    fake.faults.length = 0;
    await processRestoreEvent(fixture('completed-rds.json'), lambdaContext(), options());
    expect(fake.finalVerdicts(JOB)).toHaveLength(1);
  });

  it('turns a check that throws into FAILED with its reason', async () => {
    checks = [
      defineCheck({
        id: 'explodes',
        run: () => {
          throw new TypeError('cannot read properties of undefined');
        },
      }),
    ];
    await processRestoreEvent(fixture('completed-rds.json'), lambdaContext(), options());
    expect(fake.finalVerdicts(JOB)[0]?.message).toContain(
      'explodes error: TypeError: cannot read properties of undefined',
    );
  });

  it('ends a check that hangs past the deadline as timed out and still posts the verdict', async () => {
    checks = [
      defineCheck({ id: 'hangs', run: () => new Promise(() => {}) }),
      defineCheck({ id: 'ok', run: () => pass('') }),
    ];
    const config = parseConfigText('version: 1\ndefaults: {reserveSeconds: 1}\n');
    await processRestoreEvent(fixture('completed-rds.json'), lambdaContext(2_500), options({ config }));
    const [verdict] = fake.finalVerdicts(JOB);
    expect(verdict?.status).toBe('FAILED');
    expect(verdict?.message).toMatch(/hangs error: timed out/);
  });

  it('ends a gather that hangs past the deadline as FAILED', async () => {
    const hanging = defineValidator({
      name: 'rds',
      resourceTypes: ['RDS'],
      gather: () => new Promise<never>(() => {}),
      checks: () => [],
    });
    const config = parseConfigText('version: 1\ndefaults: {reserveSeconds: 1}\n');
    await processRestoreEvent(
      fixture('completed-rds.json'),
      lambdaContext(2_500),
      options({ validator: hanging, config }),
    );
    expect(fake.finalVerdicts(JOB)[0]?.message).toMatch(/restored-resource error: .*deadline/);
  });

  it('never posts a second verdict for a duplicate event', async () => {
    await processRestoreEvent(fixture('completed-rds.json'), lambdaContext(), options());
    const second = await processRestoreEvent(fixture('completed-rds.json'), lambdaContext(), options());
    expect(second.outcome).toBe('already-final');
    expect(fake.count('PutRestoreValidationResult')).toBe(2); // VALIDATING + one verdict
    expect(gathered).toBe(1);
  });

  it('absorbs a second delivery that arrives while the first is validating: one verdict', async () => {
    const { check, entered, release } = heldCheck();
    checks = [check];
    const first = processRestoreEvent(fixture('completed-rds.json'), lambdaContext(), options());
    await entered.promise; // the first delivery is inside its checks
    const second = await processRestoreEvent(fixture('completed-rds.json'), lambdaContext(), options());
    release.resolve();
    const outs = [(await first).outcome, second.outcome];
    expect(fake.finalVerdicts(JOB)).toHaveLength(1);
    // with no idempotency store both validate; the one that posts second finds the verdict final
    expect(outs).toEqual(['already-final', 'reported']);
  });

  it.each(fixtureNames().filter((n) => n.startsWith('malformed-')))(
    'rejects %s without calling AWS Backup',
    async (name) => {
      const out = await processRestoreEvent(fixture(name), lambdaContext(), options());
      expect(out.outcome).toBe('rejected');
      expect(out.message).toMatch(/invalid Restore Job State Change event: detail/);
      expect(fake.calls).toHaveLength(0);
    },
  );

  it('posts FAILED naming the field when a completed restore test event has a wrong-typed field', async () => {
    const raw = fixture('completed-rds.json');
    raw.detail.resourceType = 42;
    const out = await processRestoreEvent(raw, lambdaContext(), options());
    expect(out.outcome).toBe('reported');
    expect(fake.finalVerdicts(JOB)).toEqual([
      expect.objectContaining({
        status: 'FAILED',
        message: expect.stringContaining(
          'invalid Restore Job State Change event: detail.resourceType: expected string, got number',
        ),
      }),
    ]);
    expect(gathered).toBe(0);
  });

  it('posts nothing for a malformed event whose job is not a completed restore test, or unknown', async () => {
    const raw = fixture('completed-rds.json');
    raw.detail.resourceType = ['RDS'];
    const job = fake.jobs.get(JOB);
    if (!job) throw new Error('fixture job missing');
    job.Status = 'RUNNING';
    expect((await processRestoreEvent(raw, lambdaContext(), options())).outcome).toBe('rejected');
    raw.detail.restoreJobId = 'NO-SUCH-JOB';
    expect((await processRestoreEvent(raw, lambdaContext(), options())).outcome).toBe('rejected');
    expect(fake.count('PutRestoreValidationResult')).toBe(0);
  });

  it('validates an event whose optional fields arrive as null, "" or strings', async () => {
    const raw = fixture('completed-rds.json');
    Object.assign(raw.detail, {
      backupSizeInBytes: null,
      percentDone: '',
      isParent: 'false',
      statusMessage: null,
    });
    expect((await processRestoreEvent(raw, lambdaContext(), options())).outcome).toBe('reported');
    expect(fake.finalVerdicts(JOB)[0]?.status).toBe('SUCCESSFUL');
  });

  it('refuses a restored resource of another account: FAILED by the safety guard, nothing gathered', async () => {
    const job = fake.jobs.get(JOB);
    if (!job) throw new Error('fixture job missing');
    job.CreatedResourceArn = 'arn:aws:rds:us-east-1:999999999999:db:awsbackup-restore-test-53a1c2f0';
    job.AccountId = '123456789012';
    const out = await processRestoreEvent(fixture('completed-rds.json'), lambdaContext(), options());
    expect(out.verdict).toBe('FAILED');
    expect(fake.finalVerdicts(JOB)[0]?.message).toContain(
      'safety guard: refusing to validate arn:aws:rds:us-east-1:999999999999:db:awsbackup-restore-test-53a1c2f0: it belongs to account 999999999999, not 123456789012',
    );
    expect(gathered).toBe(0);
  });

  it('bounds a clean-up that hangs and still posts the verdict; clean-up gets a live signal', async () => {
    let cleanupSignalAborted: boolean | undefined;
    const stuck = defineValidator<unknown>({
      name: 'rds',
      resourceTypes: ['RDS'],
      gather: () => new Promise<never>(() => {}),
      checks: () => [],
      cleanup: (ctx) => {
        cleanupSignalAborted = ctx.signal.aborted;
        return new Promise<void>(() => {});
      },
    });
    const config = parseConfigText('version: 1\ndefaults: {reserveSeconds: 2}\n');
    const out = await processRestoreEvent(
      fixture('completed-rds.json'),
      lambdaContext(3_000),
      options({ validator: stuck, config }),
    );
    expect(out.outcome).toBe('reported');
    expect(cleanupSignalAborted).toBe(false);
    expect(fake.finalVerdicts(JOB)[0]?.message).toContain(
      'cleanup error: clean-up failed: clean-up timed out after 1000 ms',
    );
  });

  it.each([null, 'text', 42, {}, { detail: null }])('rejects %j without crashing', async (raw) => {
    expect((await processRestoreEvent(raw, lambdaContext(), options())).outcome).toBe('rejected');
  });

  it('posts FAILED naming the config problem when the bundled config is broken', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rv-'));
    writeFileSync(
      join(dir, 'c.json'),
      JSON.stringify({ version: 1, profiles: [{ name: 'p', checks: [{ id: 'x', sqll: 'select 1' }] }] }),
    );
    const out = await processRestoreEvent(
      fixture('completed-rds.json'),
      lambdaContext(),
      options({
        config: undefined,
        settings: runtimeSettings({ RESTORE_VALIDATION_CONFIG: join(dir, 'c.json') }),
      }),
    );
    expect(out.verdict).toBe('FAILED');
    expect(fake.finalVerdicts(JOB)[0]?.message).toMatch(
      /configuration error: .*c.json at profiles\[0\]\.checks\[0\].*did you mean "sql"/,
    );
  });

  it('posts FAILED when the bundled config file is missing', async () => {
    const out = await processRestoreEvent(
      fixture('completed-rds.json'),
      lambdaContext(),
      options({
        config: undefined,
        settings: runtimeSettings({ RESTORE_VALIDATION_CONFIG: '/var/task/nope.json' }),
      }),
    );
    expect(out.verdict).toBe('FAILED');
    expect(fake.finalVerdicts(JOB)[0]?.message).toContain(
      '/var/task/nope.json: cannot read the config file (ENOENT)',
    );
  });

  it('posts FAILED for a resource type no validator serves', async () => {
    const raw = fixture('completed-rds.json');
    raw.detail.resourceType = 'Timestream';
    const out = await processRestoreEvent(raw, lambdaContext(), options());
    expect(out.verdict).toBe('FAILED');
    expect(fake.finalVerdicts(JOB)[0]?.message).toContain('unknown resource type "Timestream"');
  });

  it('ignores manual restores unless the config opts in', async () => {
    const raw = fixture('completed-manual-restore.json');
    jobFromEvent(fake, raw);
    expect((await processRestoreEvent(raw, lambdaContext(), options())).outcome).toBe('ignored');
    expect(fake.calls).toHaveLength(0);
    const config = parseConfigText('version: 1\ndefaults: {validateManualRestores: true}\n');
    expect((await processRestoreEvent(raw, lambdaContext(), options({ config }))).outcome).toBe('reported');
  });

  it('ignores events of jobs that did not complete', async () => {
    expect((await processRestoreEvent(fixture('failed-rds.json'), lambdaContext(), options())).outcome).toBe(
      'ignored',
    );
    expect(
      (await processRestoreEvent(fixture('created-uses-state-key.json'), lambdaContext(), options())).outcome,
    ).toBe('ignored');
    expect(fake.calls).toHaveLength(0);
  });

  it('posts nothing for a job that already has a final verdict', async () => {
    const job = fake.jobs.get(JOB);
    if (!job) throw new Error('fixture job missing');
    job.ValidationStatus = 'TIMED_OUT';
    expect(
      (await processRestoreEvent(fixture('completed-rds.json'), lambdaContext(), options())).outcome,
    ).toBe('already-final');
    expect(fake.count('PutRestoreValidationResult')).toBe(0);
  });

  it('tells the validator it is a dry run, so hand-offs post nothing either', async () => {
    let seen: boolean | undefined;
    const probe = defineValidator({
      name: 'rds',
      resourceTypes: ['RDS'],
      gather: async (ctx) => {
        seen = ctx.dryRun;
        return {};
      },
      checks: () => [defineCheck({ id: 'ok', run: () => pass('') })],
    });
    await processRestoreEvent(
      fixture('completed-rds.json'),
      lambdaContext(),
      options({ validator: probe, dryRun: true }),
    );
    expect(seen).toBe(true);
  });

  it('leaves a job claimed by a custom validator to that validator: the built-in one posts nothing', async () => {
    const claims = JSON.stringify([
      { validator: 'orders-invariants', match: { sourceResourceArn: 'arn:aws:rds:*:*:db:orders-*' } },
    ]);
    const out = await processRestoreEvent(
      fixture('completed-rds.json'),
      lambdaContext(),
      options({ settings: runtimeSettings({ RESTORE_VALIDATION_VALIDATORS: claims }) }),
    );
    expect(out.outcome).toBe('ignored');
    expect(out.message).toContain('claimed by the orders-invariants validator');
    expect(fake.calls).toHaveLength(0);
    const other = JSON.stringify([
      { validator: 'orders-invariants', match: { sourceResourceArn: 'arn:aws:rds:*:*:db:billing-*' } },
    ]);
    const unclaimed = await processRestoreEvent(
      fixture('completed-rds.json'),
      lambdaContext(),
      options({ settings: runtimeSettings({ RESTORE_VALIDATION_VALIDATORS: other }) }),
    );
    expect(unclaimed.outcome).toBe('reported');
  });

  it('decides but posts nothing in dry-run', async () => {
    const out = await processRestoreEvent(
      fixture('completed-rds.json'),
      lambdaContext(),
      options({ dryRun: true }),
    );
    expect(out.outcome).toBe('dry-run');
    expect(out.verdict).toBe('SUCCESSFUL');
    expect(fake.count('PutRestoreValidationResult')).toBe(0);
  });
});

describe('idempotency (Powertools on DynamoDB, moto)', () => {
  const persistence = idempotencyStorePerTest('idem-');

  const deliver = () =>
    processRestoreEvent(
      fixture('completed-rds.json'),
      lambdaContext(),
      options({ persistenceStore: persistence() }),
    );

  it('answers a delivery during the validation as a duplicate and replays the result after it', async () => {
    const { check, entered, release } = heldCheck();
    checks = [check];
    const first = deliver();
    await entered.promise; // the first delivery is inside its checks
    const during = await deliver();
    release.resolve();
    const done = await first;
    const after = await deliver();
    expect([done.outcome, during.outcome, after.outcome]).toEqual(['reported', 'duplicate', 'reported']);
    expect(gathered).toBe(1);
    expect(fake.finalVerdicts(JOB)).toHaveLength(1);
  });

  it('validates once and posts one verdict however many deliveries arrive at once', async () => {
    const outs = await Promise.all(Array.from({ length: 6 }, () => deliver()));
    // which of the equally correct answers each loser saw depends on scheduling; the property does not
    expect(gathered).toBe(1);
    expect(fake.finalVerdicts(JOB)).toHaveLength(1);
    expect(outs.filter((o) => o.outcome === 'reported').length).toBeGreaterThanOrEqual(1);
    // a loser sees the run in progress (duplicate), its replayed result (reported), or, when it read the
    // job after the verdict, a final status (already-final): all three leave one validation, one verdict
    for (const o of outs) expect(['reported', 'duplicate', 'already-final']).toContain(o.outcome);
  });
});

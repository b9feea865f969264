import {
  BackupClient,
  DescribeRestoreJobCommand,
  GetRestoreJobMetadataCommand,
  PutRestoreValidationResultCommand,
} from '@aws-sdk/client-backup';
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { CreateStateMachineCommand, DescribeExecutionCommand, SFNClient } from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createS3Client } from '../../functions/s3/client';
import { runComparison } from '../../functions/s3/comparison';
import { type ExecutionInput, estimateSeconds, fitRanges } from '../../functions/s3/distributed';
import { compareKeys, inRange } from '../../functions/s3/keys';
import { decide, mergeAndReport, readMapResults } from '../../functions/s3/merge';
import { initialRanges, planRanges, splitRange } from '../../functions/s3/plan';
import { s3Settings } from '../../functions/s3/settings';
import { s3Validator } from '../../functions/s3/validator';
import { compareRange, type WorkerOutput } from '../../functions/s3/worker';
import { runValidator } from '../../shared/validator';
import { type Moto, startMoto } from '../support/engines';
import { motoEvidence, validatingJob } from '../support/evidence-sink';
import { fixtureClient, makeBucket, testContext } from './context';

const SOURCE = 'customer-documents';
const RESTORED = 'awsbackup-restore-test-9c8b7a65';
const ARN = (b: string) => `arn:aws:s3:::${b}`;

let moto: Moto;
let s3: S3Client;
let fast: S3Client;

beforeAll(async () => {
  moto = await startMoto();
  s3 = fixtureClient(moto.endpoint);
  fast = createS3Client({ endpoint: moto.endpoint, region: 'us-east-1' });
});
afterAll(async () => moto?.stop());
beforeEach(async () => moto.reset());

/** The execution input of a full comparison of the restored bucket with its source, no range planned. */
const fullComparison = (restoreJobId: string): ExecutionInput => ({
  restoreJobId,
  checkId: 'same-as-source',
  options: {},
  reference: `s3://${SOURCE}`,
  params: {
    restoredBucket: RESTORED,
    reference: { with: 'source', bucket: SOURCE, versioned: false },
    mode: 'full',
    filter: {},
  },
  ranges: [],
  priorResults: [],
  failWhenNothingChecked: true,
  objectives: null,
  dryRun: false,
});

/** 330 keys, 300 of them under one letter so planning (with 100-key probes) has to split that range further. */
async function bigBuckets(change?: (key: string) => string | undefined) {
  await makeBucket(s3, SOURCE);
  await makeBucket(s3, RESTORED);
  const keys = [
    ...Array.from({ length: 300 }, (_, i) => `logs/${String(i).padStart(5, '0')}.json`),
    ...Array.from({ length: 30 }, (_, i) => `${'abcdefghij'[i % 10]}${i}.txt`),
  ];
  const put = async (bucket: string, key: string, body: string) =>
    fast.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
  for (let i = 0; i < keys.length; i += 50) {
    await Promise.all(
      keys.slice(i, i + 50).flatMap((k) => {
        const restored = change ? change(k) : k;
        return [
          put(SOURCE, k, `body of ${k}`),
          ...(restored === undefined ? [] : [put(RESTORED, k, restored === k ? `body of ${k}` : restored)]),
        ];
      }),
    );
  }
  return keys;
}

describe('planRanges', () => {
  it('covers the whole key space with contiguous ranges', () => {
    const ranges = initialRanges('');
    expect(ranges[0]).toEqual({ upTo: '!' });
    expect(ranges[ranges.length - 1]).toEqual({ after: '~' });
    for (let i = 1; i < ranges.length; i++) expect(ranges[i]?.after).toBe(ranges[i - 1]?.upTo);
    const parts = splitRange({ after: 'l', upTo: 'm' });
    expect(parts[0]).toEqual({ after: 'l', upTo: 'l!' });
    expect(parts[parts.length - 1]).toEqual({ after: 'l~', upTo: 'm' });
    for (const key of ['l', 'l ', 'l!', 'logs/1', 'l~~', 'l\u00e9', 'm'])
      expect(parts.filter((r) => inRange(key, r)).length).toBe(key === 'l' ? 0 : 1);
  });

  it('splits a crowded range and puts every key in exactly one range', async () => {
    const keys = await bigBuckets();
    const ranges = await planRanges(fast, SOURCE, { targetRanges: 400, probeSize: 100 });
    expect(ranges.length).toBeGreaterThan(2);
    for (const key of keys) expect(ranges.filter((r) => inRange(key, r)).length).toBe(1);
    // The 300 'logs/' keys were split below 'l'.
    expect(ranges.some((r) => r.after?.startsWith('l') && r.after.length > 1)).toBe(true);
  });
});

describe('distributed comparison', () => {
  it('gives the same counts over planned ranges as one full comparison', async () => {
    await bigBuckets((k) => (k === 'logs/00007.json' ? undefined : k === 'b1.txt' ? 'changed!' : k));
    const params = {
      restoredBucket: RESTORED,
      reference: { with: 'source' as const, bucket: SOURCE, versioned: false },
      mode: 'full' as const,
      filter: {},
    };
    const whole = await runComparison(fast, params);
    const ranges = await planRanges(fast, SOURCE, { targetRanges: 400, probeSize: 100 });
    expect(ranges.length).toBeGreaterThanOrEqual(3);
    const outputs: WorkerOutput[] = [];
    for (const [index, range] of ranges.entries())
      outputs.push(await compareRange({ params, range, index }, 60_000, fast));
    expect(outputs.every((o) => o.done)).toBe(true);
    // Shape the outputs as the map's ResultWriter writes them, then merge.
    await makeBucket(s3, 'rv-results');
    const children = outputs.map((o) => ({ Status: 'SUCCEEDED', Output: JSON.stringify(o) }));
    const half = Math.ceil(children.length / 2);
    await s3.send(
      new PutObjectCommand({
        Bucket: 'rv-results',
        Key: 'run/SUCCEEDED_0.json',
        Body: JSON.stringify(children.slice(0, half)),
      }),
    );
    await s3.send(
      new PutObjectCommand({
        Bucket: 'rv-results',
        Key: 'run/SUCCEEDED_1.json',
        Body: JSON.stringify(children.slice(half)),
      }),
    );
    await s3.send(
      new PutObjectCommand({
        Bucket: 'rv-results',
        Key: 'run/manifest.json',
        Body: JSON.stringify({
          ResultFiles: {
            SUCCEEDED: [{ Key: 'run/SUCCEEDED_0.json' }, { Key: 'run/SUCCEEDED_1.json' }],
            FAILED: [],
            PENDING: [],
          },
        }),
      }),
    );
    const merged = await readMapResults(fast, 'rv-results', 'run/manifest.json');
    expect(merged.failed).toBe(0);
    const event = {
      restoreJobId: 'job',
      checkId: 'same-as-source',
      options: {},
      reference: `s3://${SOURCE}`,
      params,
      ranges: [],
      priorResults: [{ id: 'restored-bucket', status: 'pass' as const, detail: 'ok', durationMs: 1 }],
      failWhenNothingChecked: true,
      objectives: null,
      dryRun: false,
    } satisfies ExecutionInput;
    const { verdict, compare } = decide(event, merged, 5);
    expect(compare.data?.counts).toMatchObject({
      matched: whole.counts.matched,
      missing: 1,
      mismatched: 1,
      reference: 330,
    });
    expect(whole.counts).toMatchObject({ matched: 328, missing: 1, mismatched: 1 });
    expect(verdict.verdict).toBe('FAILED');
    expect(verdict.message).toContain('missing: logs/00007.json');
    expect(verdict.message).toContain('mismatched: b1.txt');
  });

  it('turns failed ranges into an error verdict, never a pass', async () => {
    const event = fullComparison('job');
    const acc = {
      counts: {
        matched: 10,
        missing: 0,
        extra: 0,
        mismatched: 0,
        drifted: 0,
        unproven: 0,
        notSampled: 0,
        reference: 10,
        restored: 10,
        referenceBytes: 1,
        bytesStreamed: 0,
      },
      provenBy: { 'etag-md5': 10 },
      first: {},
    };
    const partly = decide(
      event,
      { ranges: [acc], failed: 2, firstFailure: 'States.Timeout: worker timed out' },
      1,
    );
    expect(partly.verdict.verdict).toBe('FAILED');
    expect(partly.compare.detail).toMatch(/^2 key ranges failed \(States.Timeout: worker timed out\)/);
    const mapFailed = decide(
      { ...event, mapError: { Error: 'States.ExceedToleratedFailureThreshold' } } as never,
      undefined,
      1,
    );
    expect(mapFailed.compare).toMatchObject({
      status: 'error',
      detail: 'the distributed comparison failed: States.ExceedToleratedFailureThreshold',
    });
  });

  /** The merge step's clients and evidence store against moto, with a job AWS Backup is validating. */
  async function mergeDeps(restoreJobId: string) {
    const backup = new BackupClient({ region: 'us-east-1' });
    const mock = mockClient(backup);
    mock
      .on(DescribeRestoreJobCommand)
      .resolves(validatingJob(restoreJobId, 'S3', `arn:aws:s3:::${RESTORED}`))
      .on(GetRestoreJobMetadataCommand)
      .resolves({ Metadata: {} })
      .on(PutRestoreValidationResultCommand)
      .resolves({});
    return { mock, ev: await motoEvidence(moto.endpoint, backup) };
  }

  it('posts FAILED when the map failed and stores that final record with the reason', async () => {
    const { mock, ev } = await mergeDeps('job-merge');
    const out = await mergeAndReport(
      {
        ...fullComparison('job-merge'),
        mapError: { Error: 'States.ExceedToleratedFailureThreshold', Cause: 'too many ranges failed' },
      },
      { clients: ev.clients, settings: ev.settings },
    );
    expect(out).toMatchObject({ verdict: 'FAILED', posted: 'posted' });
    const put = mock.commandCalls(PutRestoreValidationResultCommand)[0]?.args[0].input;
    expect(put?.ValidationStatus).toBe('FAILED');
    const record = await ev.store.get('job-merge');
    expect(record).toMatchObject({
      validator: 's3',
      verdict: 'FAILED',
      reported: true,
      resourceType: 'S3',
      message: out.message,
    });
    expect(JSON.stringify(record?.checks)).toContain('too many ranges failed');
  });

  it('posts nothing from the merge step of a dry run, though its own function is not in dry-run mode', async () => {
    const { mock, ev } = await mergeDeps('job-dry');
    expect(ev.settings.dryRun).toBe(false);
    const out = await mergeAndReport(
      { ...fullComparison('job-dry'), dryRun: true, mapError: { Error: 'States.Timeout' } },
      { clients: ev.clients, settings: ev.settings },
    );
    expect(out).toMatchObject({ verdict: 'FAILED', posted: 'dry-run' });
    expect(mock.commandCalls(PutRestoreValidationResultCommand)).toHaveLength(0);
  });

  it('resumes a range from the cursor a previous invocation returned', async () => {
    await makeBucket(s3, SOURCE, { a: '1', b: '2', c: '3', d: '4' });
    await makeBucket(s3, RESTORED, { a: '1', b: '2', c: 'x', d: '4' });
    const params = {
      restoredBucket: RESTORED,
      reference: { with: 'source' as const, bucket: SOURCE, versioned: false },
      mode: 'full' as const,
      filter: {},
    };
    const first = await compareRange({ params, range: { upTo: 'b' } }, 60_000, fast);
    const second = await compareRange(
      { params, range: {}, cursor: 'b', acc: first.acc, invocations: first.invocations },
      60_000,
      fast,
    );
    expect(second).toMatchObject({
      done: true,
      invocations: 2,
      acc: { counts: { matched: 3, mismatched: 1, reference: 4 } },
    });
  });

  it('hands a comparison to Step Functions and defers the verdict', async () => {
    await makeBucket(s3, SOURCE, { a: '1', 'docs/b': '2' });
    await makeBucket(s3, RESTORED, { a: '1', 'docs/b': '2' });
    const sfn = new SFNClient({ endpoint: moto.endpoint, region: 'us-east-1' });
    const sm = await sfn.send(
      new CreateStateMachineCommand({
        name: 's3-compare',
        roleArn: 'arn:aws:iam::123456789012:role/sfn',
        definition: JSON.stringify({ StartAt: 'Done', States: { Done: { Type: 'Succeed' } } }),
      }),
    );
    const ctx = testContext({
      endpoint: moto.endpoint,
      createdResourceArn: ARN(RESTORED),
      sourceResourceArn: ARN(SOURCE),
      checks: [
        { id: 'same-as-source', compare: { with: 'source', mode: 'full', distributed: 'always' } },
        { id: 'index', keys: ['a'] },
      ],
      settings: s3Settings({ S3_COMPARE_STATE_MACHINE_ARN: sm.stateMachineArn }),
      clients: { sfn },
    });
    const run = await runValidator(s3Validator, ctx);
    expect(run.deferredTo).toMatch(/^arn:aws:states:us-east-1:\d+:execution:s3-compare:s3-AB12CD34-S3-TEST-/);
    const execution = await sfn.send(new DescribeExecutionCommand({ executionArn: run.deferredTo }));
    const input = JSON.parse(execution.input ?? '{}') as ExecutionInput;
    expect(input).toMatchObject({
      restoreJobId: 'AB12CD34-S3-TEST',
      checkId: 'same-as-source',
      params: { restoredBucket: RESTORED, mode: 'full' },
      dryRun: false,
    });
    expect(input.priorResults.map((r) => [r.id, r.status])).toEqual([
      ['restored-bucket', 'pass'],
      ['index', 'pass'],
    ]);
    // Two objects: every probed range is small, so they merge into one range covering all keys.
    expect(input.ranges).toEqual([{}]);
    expect(run.notes.s3Distributed).toMatchObject({ executionArn: run.deferredTo });
  });
});

describe('estimate and plan arithmetic', () => {
  it('estimates 100 million objects far beyond one Lambda and 1,000 objects well within it', () => {
    expect(estimateSeconds(100_000_000, 32)).toBeGreaterThan(900);
    expect(estimateSeconds(1_000, 32)).toBeLessThan(5);
  });

  it('merges ranges pairwise until the execution input fits', () => {
    const ranges = Array.from({ length: 4000 }, (_, i) => ({
      after: `k${'x'.repeat(40)}${i}`,
      upTo: `k${'x'.repeat(40)}${i + 1}`,
    }));
    const fitted = fitRanges(ranges, 1000);
    expect(JSON.stringify(fitted).length).toBeLessThan(200 * 1024);
    expect(fitted[0]?.after).toBe(ranges[0]?.after);
    expect(fitted[fitted.length - 1]?.upTo).toBe(ranges[ranges.length - 1]?.upTo);
    for (let i = 1; i < fitted.length; i++)
      expect(compareKeys(fitted[i]?.after ?? '', fitted[i - 1]?.upTo ?? '')).toBe(0);
  });
});

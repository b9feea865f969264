import { BackupClient } from '@aws-sdk/client-backup';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  type ReconcilerDeps,
  reconcile,
  type SynthesizedRestoreEvent,
} from '../../functions/reconciler/reconcile';
import { DEFAULT_RECONCILER_SETTINGS, type ReconcilerSettings } from '../../functions/reconciler/settings';
import { parseRestoreJobEvent } from '../../shared/event';
import type { EvidenceRecord } from '../../shared/evidence';
import { EvidenceStore } from '../../shared/evidence-store';
import { postVerdict } from '../../shared/verdict/index';
import { makeRecord } from '../evidence/fixtures';
import { createEvidenceStore } from '../evidence/moto-tables';
import { type Moto, startMoto } from '../support/engines';
import { FakeRestoreTestingApi } from './fake-restore-testing';

const ACCOUNT = '123456789012';
const PLAN_ARN = `arn:aws:backup:us-east-1:${ACCOUNT}:restore-testing-plan:nightly_restore_tests-1a2b3c4d`;
const rdsArn = (n: string) => `arn:aws:rds:us-east-1:${ACCOUNT}:db:${n}`;
const H = 3_600_000;

let moto: Moto;
let s3: S3Client;
let dynamodb: DynamoDBClient;
let api: FakeRestoreTestingApi;
let backup: BackupClient;
let store: EvidenceStore;
let tableNo = 0;

beforeAll(async () => {
  moto = await startMoto();
  s3 = new S3Client({ endpoint: moto.endpoint, forcePathStyle: true, region: 'us-east-1' });
  dynamodb = new DynamoDBClient({ endpoint: moto.endpoint, region: 'us-east-1' });
});
afterAll(async () => {
  await moto?.stop();
});

beforeEach(async () => {
  api = new FakeRestoreTestingApi();
  await api.start();
  backup = new BackupClient({ endpoint: api.endpoint, region: 'us-east-1', maxAttempts: 1 });
  tableNo += 1;
  await createEvidenceStore(s3, dynamodb, `evidence-${tableNo}`, `index-${tableNo}`);
  store = new EvidenceStore({ s3, dynamodb, bucket: `evidence-${tableNo}`, table: `index-${tableNo}` });
  api.addPlan({ RestoreTestingPlanName: 'nightly_restore_tests', RestoreTestingPlanArn: PLAN_ARN });
  api.addSelection({
    RestoreTestingPlanName: 'nightly_restore_tests',
    RestoreTestingSelectionName: 'rds_all',
    ProtectedResourceType: 'RDS',
    ProtectedResourceArns: ['*'],
    ValidationWindowHours: 24,
  });
});
afterEach(async () => {
  await api.stop();
});

const settings: ReconcilerSettings = {
  ...DEFAULT_RECONCILER_SETTINGS,
  planArns: [PLAN_ARN],
  validatorFunctions: { rds: 'rv-rds-validator' },
};

function addJob(id: string, completedHoursAgo: number, extra: Record<string, unknown> = {}) {
  const completion = new Date(Date.now() - completedHoursAgo * H);
  api.jobsApi.addJob({
    RestoreJobId: id,
    ResourceType: 'RDS',
    Status: 'COMPLETED',
    AccountId: ACCOUNT,
    SourceResourceArn: rdsArn(`src-${id}`),
    CreatedResourceArn: rdsArn(`awsbackup-restore-test-${id}`),
    RecoveryPointArn: `arn:aws:backup:us-east-1:${ACCOUNT}:recovery-point:${id}`,
    CreationDate: new Date(completion.getTime() - 0.5 * H),
    CompletionDate: completion,
    RestoreTestingPlanArn: PLAN_ARN,
    ...extra,
  });
}

function deps(overrides: Partial<ReconcilerDeps> = {}) {
  const dispatched: Array<{ fn: string; event: SynthesizedRestoreEvent }> = [];
  const evidence: EvidenceRecord[] = [];
  const d: ReconcilerDeps = {
    backup,
    store,
    dispatch: async (fn, event) => {
      dispatched.push({ fn, event });
    },
    postVerdict: (b, id, status, message) => postVerdict(b, id, status, message),
    onEvidence: async (record) => {
      evidence.push(record);
    },
    ...overrides,
  };
  return { d, dispatched, evidence };
}

describe('reconcile', () => {
  it('invokes the validator with a synthesized event when a completed job got no event', async () => {
    addJob('MISSED-1', 1);
    const { d, dispatched } = deps();
    const result = await reconcile(settings, d);
    expect(result.decisions.dispatched).toBe(1);
    expect(dispatched).toHaveLength(1);
    expect(dispatched[0]?.fn).toBe('rv-rds-validator');
    // the validator's own event parser accepts it as a COMPLETED restore-test job
    const parsed = parseRestoreJobEvent(dispatched[0]?.event);
    expect(parsed.detail).toMatchObject({
      restoreJobId: 'MISSED-1',
      status: 'COMPLETED',
      resourceType: 'RDS',
      restoreTestingPlanArn: PLAN_ARN,
    });
    expect(api.jobsApi.validations()).toEqual([]);
  });

  it('dispatches once when two reconcilers run at the same time', async () => {
    for (let i = 0; i < 20; i++) addJob(`DUP-${i}`, 2);
    addJob('CLOSING-1', 23.5, { ValidationStatus: 'VALIDATING' });
    const a = deps();
    const b = deps();
    const [ra, rb] = await Promise.all([reconcile(settings, a.d), reconcile(settings, b.d)]);
    const ids = [...a.dispatched, ...b.dispatched].map((x) => x.event.detail.restoreJobId);
    expect(ids.sort()).toEqual(Array.from({ length: 20 }, (_, i) => `DUP-${i}`).sort());
    expect(
      (ra.decisions['dispatch-claimed-elsewhere'] ?? 0) + (rb.decisions['dispatch-claimed-elsewhere'] ?? 0),
    ).toBe(20);
    // the closing job got exactly one final verdict from exactly one pass; the other pass either found
    // it final when posting or, listing after the post, saw it settled (which, depends on scheduling)
    expect(api.jobsApi.finalVerdicts('CLOSING-1')).toHaveLength(1);
    expect(
      [ra.decisions['window-closing-posted'], rb.decisions['window-closing-posted']].filter(Boolean),
    ).toEqual([1]);
    expect([...a.evidence, ...b.evidence].filter((r) => r.restoreJobId === 'CLOSING-1')).toHaveLength(1);
  });

  it('posts FAILED with the reason when the window is about to close', async () => {
    addJob('CLOSING-2', 23, { ValidationStatus: 'VALIDATING' });
    addJob('CLOSING-3', 23.2);
    const { d, evidence, dispatched } = deps();
    const result = await reconcile(settings, d);
    expect(result.decisions['window-closing-posted']).toBe(2);
    const [v2] = api.jobsApi.finalVerdicts('CLOSING-2');
    expect(v2?.status).toBe('FAILED');
    expect(v2?.message).toMatch(
      /no verdict before the validation window closes at .*the validation started but did not finish/,
    );
    expect(api.jobsApi.finalVerdicts('CLOSING-3')[0]?.message).toMatch(/no validation ran/);
    expect(dispatched).toEqual([]);
    expect(evidence.map((r) => [r.restoreJobId, r.verdict, r.mode]).sort()).toEqual([
      ['CLOSING-2', 'TIMED_OUT', 'reconciler'],
      ['CLOSING-3', 'TIMED_OUT', 'reconciler'],
    ]);
    expect((await store.getSummary('CLOSING-2'))?.verdict).toBe('TIMED_OUT');
  });

  it('posts and records nothing in a dry-run deployment, and decides the same again next pass', async () => {
    addJob('DRY-1', 23.2);
    const { d, evidence } = deps();
    for (let pass = 0; pass < 2; pass++) await reconcile({ ...settings, dryRun: true }, d);
    expect(api.jobsApi.finalVerdicts('DRY-1')).toEqual([]);
    expect(evidence).toEqual([]);
    expect(await store.getSummary('DRY-1')).toBeUndefined();
    // The same job in a real deployment: posted.
    await reconcile(settings, d);
    expect(api.jobsApi.finalVerdicts('DRY-1')[0]?.status).toBe('FAILED');
  });

  it('records a job whose window closed unseen once, without posting, when the reconciler was down', async () => {
    addJob('CLOSED-1', 30, { ValidationStatus: 'VALIDATING' });
    const first = deps();
    const r1 = await reconcile(settings, first.d);
    expect(r1.decisions['window-closed-recorded']).toBe(1);
    expect(api.jobsApi.validations('CLOSED-1')).toEqual([]);
    expect(first.evidence[0]).toMatchObject({
      restoreJobId: 'CLOSED-1',
      verdict: 'TIMED_OUT',
      reported: false,
    });
    const second = deps();
    expect((await reconcile(settings, second.d)).decisions['window-closed-known']).toBe(1);
    expect(second.evidence).toEqual([]);
  });

  it('posts nothing when the job turned final right before posting', async () => {
    addJob('RACE-1', 23.5, { ValidationStatus: 'VALIDATING' });
    const { d, evidence } = deps({
      postVerdict: async (b, id, status, message) => {
        const job = api.jobsApi.jobs.get(id);
        if (job) job.ValidationStatus = 'SUCCESSFUL'; // the validator won meanwhile
        return postVerdict(b, id, status, message);
      },
    });
    const result = await reconcile(settings, d);
    expect(result.decisions['already-final']).toBe(1);
    expect(api.jobsApi.validations('RACE-1')).toEqual([]);
    expect(evidence).toEqual([]);
  });

  it('leaves settled, running, recent and already-evidenced jobs alone without per-job calls', async () => {
    for (let i = 0; i < 50; i++) addJob(`DONE-${i}`, 5, { ValidationStatus: 'SUCCESSFUL' });
    addJob('RUNNING-1', 0, { Status: 'RUNNING', CompletionDate: undefined });
    addJob('RECENT-1', 0.1);
    addJob('VALIDATING-1', 3, { ValidationStatus: 'VALIDATING' });
    addJob('EVIDENCED-1', 3);
    await store.put({ ...makeRecord(1, { count: 10 }), restoreJobId: 'EVIDENCED-1', verdict: 'DEFERRED' });
    const { d, dispatched } = deps();
    const result = await reconcile(settings, d);
    expect(result.decisions).toMatchObject({ settled: 50, 'in-flight': 2, recent: 1, 'has-evidence': 1 });
    expect(dispatched).toEqual([]);
    expect(api.jobsApi.count('DescribeRestoreJob')).toBe(0);
    expect(api.jobsApi.count('ListRestoreJobs')).toBe(1);
  });

  it('records a failed restore once and notifies once when it runs again', async () => {
    addJob('RFAIL-1', 2, { Status: 'FAILED', StatusMessage: 'DBSubnetGroup not found' });
    const first = deps();
    expect((await reconcile(settings, first.d)).decisions['restore-failed-recorded']).toBe(1);
    expect(first.evidence).toHaveLength(1);
    expect(first.evidence[0]).toMatchObject({
      verdict: 'FAILED',
      restoreJobStatus: 'FAILED',
      message: 'the restore itself failed: DBSubnetGroup not found',
    });
    const second = deps();
    expect((await reconcile(settings, second.d)).decisions['restore-failed-known']).toBe(1);
    expect(second.evidence).toEqual([]);
  });

  it('without an index, records only the failures that ended since the previous pass', async () => {
    addJob('RFAIL-NEW', 0.1, { Status: 'FAILED', StatusMessage: 'new' }); // 6 min ago: within one interval
    addJob('RFAIL-OLD', 2, { Status: 'FAILED', StatusMessage: 'old' }); // reported by an earlier pass
    const noIndex = new EvidenceStore({ s3, dynamodb, bucket: `evidence-${tableNo}` });
    const { d, evidence } = deps({ store: noIndex });
    const { decisions } = await reconcile(settings, d);
    expect(decisions).toMatchObject({ 'restore-failed-recorded': 1, 'restore-failed-known': 1 });
    expect(evidence.map((r) => r.restoreJobId)).toEqual(['RFAIL-NEW']);
  });

  it('leaves the job to the window rule when no validator function is configured', async () => {
    addJob('NOFN-1', 2);
    const { d, dispatched } = deps();
    const result = await reconcile({ ...settings, validatorFunctions: {} }, d);
    expect(result.actions).toEqual([
      {
        restoreJobId: 'NOFN-1',
        decision: 'no-validator',
        reason: 'no validator function configured for RDS',
      },
    ]);
    expect(dispatched).toEqual([]);
  });

  it('reports protected resources that got no job, with a reason', async () => {
    const since = new Date(Date.now() - 2 * H);
    addJob('COV-1', 2);
    api.addProtectedResource({
      ResourceArn: rdsArn('src-COV-1'),
      ResourceType: 'RDS',
      LastBackupTime: since,
    });
    api.addProtectedResource({
      ResourceArn: rdsArn('never-restored'),
      ResourceType: 'RDS',
      LastBackupTime: since,
    });
    api.addProtectedResource({
      ResourceArn: rdsArn('stale-backup'),
      ResourceType: 'RDS',
      LastBackupTime: new Date(Date.now() - 400 * H),
    });
    api.addProtectedResource({
      ResourceArn: 'arn:aws:s3:::other-type',
      ResourceType: 'S3',
      LastBackupTime: since,
    });
    api.addSelection({
      RestoreTestingPlanName: 'nightly_restore_tests',
      RestoreTestingSelectionName: 'explicit',
      ProtectedResourceType: 'RDS',
      ProtectedResourceArns: [rdsArn('src-COV-1'), rdsArn('unknown-db')],
    });
    api.addSelection({
      RestoreTestingPlanName: 'nightly_restore_tests',
      RestoreTestingSelectionName: 'by_tag',
      ProtectedResourceType: 'EBS',
      ProtectedResourceArns: ['*'],
      ProtectedResourceConditions: { StringEquals: [{ Key: 'aws:ResourceTag/env', Value: 'prod' }] },
    });
    const { d } = deps();
    const result = await reconcile(settings, d);
    const untested = Object.fromEntries(
      result.coverage.untested.map((u) => [u.resourceArn.split(':').pop(), u]),
    );
    expect(Object.keys(untested).sort()).toEqual(['never-restored', 'stale-backup', 'unknown-db']);
    expect(untested['never-restored']?.reason).toMatch(/no restore job .* although a recovery point exists/);
    expect(untested['stale-backup']?.reason).toMatch(/no recovery point in the last 192 h/);
    expect(untested['unknown-db']?.reason).toMatch(/not a protected resource/);
    expect(result.coverage.notEvaluated).toEqual(['nightly_restore_tests/by_tag']);
    expect((await store.latestCoverage())?.untested).toHaveLength(3);
  });

  it('reports restore tests of a region without a stack when that region is watched', async () => {
    const other = new FakeRestoreTestingApi();
    await other.start();
    try {
      const otherPlan = `arn:aws:backup:eu-west-1:${ACCOUNT}:restore-testing-plan:eu_tests-0a0b0c0d`;
      const add = (id: string, extra: Record<string, unknown>) =>
        other.jobsApi.addJob({
          RestoreJobId: id,
          ResourceType: 'EBS',
          CreationDate: new Date(Date.now() - 3 * H),
          CompletionDate: new Date(Date.now() - 2 * H),
          RestoreTestingPlanArn: otherPlan,
          ...extra,
        });
      add('EU-UNVALIDATED', {});
      add('EU-FAILED-RESTORE', { Status: 'FAILED' });
      add('EU-DONE', { ValidationStatus: 'SUCCESSFUL' });
      add('EU-ON-DEMAND', { RestoreTestingPlanArn: undefined });
      const regions: string[] = [];
      const { d, dispatched } = deps({
        backupIn: (region) => {
          regions.push(region);
          return new BackupClient({ endpoint: other.endpoint, region, maxAttempts: 1 });
        },
      });
      const result = await reconcile({ ...settings, watchRegions: ['eu-west-1'] }, d);
      expect(regions).toEqual(['eu-west-1']);
      expect(result.coverage.unwatched?.map((u) => [u.region, u.restoreJobId, u.status]).sort()).toEqual([
        ['eu-west-1', 'EU-FAILED-RESTORE', 'FAILED'],
        ['eu-west-1', 'EU-UNVALIDATED', 'COMPLETED'],
      ]);
      // reported, never acted on: nothing posted or dispatched in the unwatched region
      expect(other.jobsApi.validations()).toEqual([]);
      expect(dispatched).toEqual([]);
      expect((await store.latestCoverage())?.unwatched).toHaveLength(2);
    } finally {
      await other.stop();
    }
  });

  it('lists every page of jobs when there are more than one page', async () => {
    for (let i = 0; i < 2_100; i++) addJob(`PAGE-${i}`, 5, { ValidationStatus: 'SUCCESSFUL' });
    const { d } = deps();
    const result = await reconcile(settings, d);
    expect(result.jobs).toBe(2_100);
    expect(result.decisions.settled).toBe(2_100);
    expect(api.jobsApi.count('ListRestoreJobs')).toBe(3);
  });
});

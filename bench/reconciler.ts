/**
 * A reconciler pass over 10,000 restore jobs against the local Backup API fake (restore jobs,
 * plans, selections, protected resources) with the evidence store in moto: API calls made per job,
 * against the target ≤ 1.1. Every call of every client counts (Backup, DynamoDB, S3, plus the
 * Lambda dispatches and SNS notifications the pass makes). Two passes: the first acts on the jobs
 * that need it, the second is the steady state (everything already handled).
 * Baseline, computed for the same jobs: a reconciler that describes every job it lists
 * (list pages + one DescribeRestoreJob per job).
 *
 *   npx tsx bench/reconciler.ts [JOBS]
 */

import { BackupClient } from '@aws-sdk/client-backup';
import { reconcile } from '../functions/reconciler/reconcile';
import { DEFAULT_RECONCILER_SETTINGS } from '../functions/reconciler/settings';
import { postVerdict } from '../shared/verdict/index';
import { FakeRestoreTestingApi } from '../test/reconciler/fake-restore-testing';
import { startMoto } from '../test/support/engines';
import { motoEvidenceStore } from '../test/support/evidence-sink';
import { judge } from './_targets';

const TARGET = 1.1;
const H = 3_600_000;

/** Counts every command a client sends (after the SDK's own retries are folded in: one per call). */
function countCalls(
  client: { middlewareStack: { add: (mw: never, opts: never) => void } },
  counter: { n: number },
): void {
  client.middlewareStack.add(
    ((next: (a: unknown) => unknown) => (args: unknown) => {
      counter.n++;
      return next(args);
    }) as never,
    { step: 'initialize', name: 'benchCallCounter' } as never,
  );
}

export default async function bench(jobs = 10_000): Promise<void> {
  // Local engines only: fake credentials, never the caller's.
  const credentials = { accessKeyId: 'bench', secretAccessKey: 'bench' };
  const moto = await startMoto();
  const api = new FakeRestoreTestingApi();
  await api.start();
  try {
    const counter = { n: 0 };
    const backup = new BackupClient({
      endpoint: api.endpoint,
      region: 'us-east-1',
      maxAttempts: 1,
      credentials,
    });
    const { store, s3, dynamodb } = await motoEvidenceStore(moto.endpoint, 'us-east-1', credentials);
    for (const c of [backup, s3, dynamodb]) countCalls(c as never, counter);

    const plans = ['nightly_restore_tests-1a2b3c4d', 'weekly_restore_tests-5e6f7a8b'].map(
      (n) => `arn:aws:backup:us-east-1:123456789012:restore-testing-plan:${n}`,
    );
    for (const arn of plans) {
      const name =
        arn
          .split(':')
          .pop()
          ?.replace(/-[0-9a-f]{8}$/, '') ?? '';
      api.addPlan({ RestoreTestingPlanName: name, RestoreTestingPlanArn: arn });
      for (const type of ['RDS', 'EBS', 'S3', 'DynamoDB']) {
        api.addSelection({
          RestoreTestingPlanName: name,
          RestoreTestingSelectionName: `${type.toLowerCase()}_all`,
          ProtectedResourceType: type,
          ProtectedResourceArns: ['*'],
          ValidationWindowHours: 24,
        });
      }
    }
    const now = Date.now();
    const mix = { settled: 0, validating: 0, missed: 0, closing: 0, restoreFailed: 0, running: 0 };
    for (let i = 0; i < jobs; i++) {
      const type = ['RDS', 'EBS', 'S3', 'DynamoDB'][i % 4] ?? 'RDS';
      const src = `arn:aws:${type.toLowerCase()}:us-east-1:123456789012:res-${i % 2_000}`;
      const roll = i % 100;
      const kind =
        roll < 1
          ? 'closing'
          : roll < 4
            ? 'missed'
            : roll < 6
              ? 'restoreFailed'
              : roll < 9
                ? 'validating'
                : roll < 10
                  ? 'running'
                  : 'settled';
      // Settled jobs spread over the whole look-back; open ones sit inside their 24 h window.
      const hoursAgo = kind === 'closing' ? 23.5 : kind === 'settled' ? 2 + (i % 150) : 1 + (i % 19);
      const completed = new Date(now - hoursAgo * H);
      mix[kind]++;
      api.jobsApi.addJob({
        RestoreJobId: `JOB-${String(i).padStart(6, '0')}`,
        ResourceType: type,
        Status: kind === 'restoreFailed' ? 'FAILED' : kind === 'running' ? 'RUNNING' : 'COMPLETED',
        StatusMessage: kind === 'restoreFailed' ? 'restore failed: subnet not found' : undefined,
        SourceResourceArn: src,
        CreatedResourceArn: `${src}-awsbackup-restore-test-${i}`,
        CreationDate: new Date(completed.getTime() - 0.5 * H),
        CompletionDate: kind === 'running' ? undefined : completed,
        RestoreTestingPlanArn: plans[i % plans.length],
        ValidationStatus:
          kind === 'settled'
            ? 'SUCCESSFUL'
            : kind === 'validating' || kind === 'closing'
              ? 'VALIDATING'
              : undefined,
      });
    }
    for (let r = 0; r < 2_000; r++) {
      const type = ['RDS', 'EBS', 'S3', 'DynamoDB'][r % 4] ?? 'RDS';
      api.addProtectedResource({
        ResourceArn: `arn:aws:${type.toLowerCase()}:us-east-1:123456789012:res-${r}`,
        ResourceType: type,
        LastBackupTime: new Date(now - H),
      });
    }
    const extra = { dispatch: 0, notify: 0 };
    const deps = {
      backup,
      store,
      dispatch: async () => {
        extra.dispatch++;
      },
      postVerdict: (b: BackupClient, id: string, status: 'FAILED', message: string) =>
        postVerdict(b, id, status, message),
      onEvidence: async () => {
        extra.notify++;
      },
    };
    const settings = {
      ...DEFAULT_RECONCILER_SETTINGS,
      planArns: plans,
      validatorFunctions: { rds: 'rv-rds', ebs: 'rv-ebs', s3: 'rv-s3', dynamodb: 'rv-dynamodb' },
    };
    console.log(
      `jobs: ${jobs} (${Object.entries(mix)
        .map(([k, v]) => `${k} ${v}`)
        .join(', ')}), 2 plans × 4 selections, 2,000 protected resources`,
    );

    for (const pass of ['first pass (acting)', 'second pass (steady state)']) {
      counter.n = 0;
      extra.dispatch = 0;
      extra.notify = 0;
      const t0 = performance.now();
      const result = await reconcile(settings, deps as never);
      const ms = performance.now() - t0;
      const calls = counter.n + extra.dispatch + extra.notify;
      const perJob = calls / result.jobs;
      console.log(
        `${pass}: ${calls} calls (${counter.n} AWS API + ${extra.dispatch} dispatches + ${extra.notify} notifications) for ${result.jobs} jobs = ${perJob.toFixed(3)} per job, ${(ms / 1000).toFixed(1)} s; decisions ${JSON.stringify(result.decisions)}`,
      );
      const pages = Math.ceil(result.jobs / 1000) + plans.length;
      console.log(
        `  baseline (describe every job): ${((pages + result.jobs) / result.jobs).toFixed(3)} per job; vs baseline ×${(perJob / ((pages + result.jobs) / result.jobs)).toFixed(2)}`,
      );
      judge(`reconciler/${pass} calls per job`, perJob, '≤', TARGET);
    }
  } finally {
    await api.stop();
    await moto.stop();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  bench(Number(process.argv[2]) || undefined).catch((err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  });
}

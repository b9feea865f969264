/**
 * The reconciler asks for a plan's selections by the plan's name: with either ARN form (eight hex
 * digits or a full UUID after the name) it must name a plan that exists, or the coverage and window
 * rules silently lose that plan. The fake answers 404 for a plan name it does not know, as AWS does.
 */
import { BackupClient } from '@aws-sdk/client-backup';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type ReconcilerDeps, reconcile } from '../../functions/reconciler/reconcile';
import { DEFAULT_RECONCILER_SETTINGS } from '../../functions/reconciler/settings';
import { planNameFromArn } from '../../shared/job';
import { postVerdict } from '../../shared/verdict/index';
import { FakeRestoreTestingApi } from './fake-restore-testing';
import { PLAN_ARN_FORMS } from './plan-arns';

let api: FakeRestoreTestingApi;
const deps = (): ReconcilerDeps => ({ backup, dispatch: async () => {}, postVerdict });
let backup: BackupClient;

beforeEach(async () => {
  api = new FakeRestoreTestingApi();
  await api.start();
  backup = new BackupClient({
    endpoint: api.endpoint,
    region: 'us-east-1',
    maxAttempts: 1,
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  });
  for (const p of PLAN_ARN_FORMS) {
    api.addPlan({ RestoreTestingPlanName: p.name, RestoreTestingPlanArn: p.arn });
    api.addSelection({
      RestoreTestingPlanName: p.name,
      RestoreTestingSelectionName: `${p.name}_rds`,
      ProtectedResourceType: 'RDS',
      ProtectedResourceArns: [`arn:aws:rds:us-east-1:123456789012:db:${p.name}-source`],
      ValidationWindowHours: 6,
    });
  }
});
afterEach(async () => {
  await api.stop();
});

describe('planNameFromArn', () => {
  it.each(PLAN_ARN_FORMS)('gives the plan name of an ARN with $form after it', ({ arn, name }) => {
    expect(planNameFromArn(arn)).toBe(name);
  });
  it('gives nothing for no ARN', () => {
    expect(planNameFromArn(undefined)).toBeUndefined();
    expect(planNameFromArn('')).toBeUndefined();
  });
});

describe('reconcile with real plan ARNs', () => {
  it('reads the selections of configured plans of both ARN forms', async () => {
    const result = await reconcile(
      { ...DEFAULT_RECONCILER_SETTINGS, planArns: PLAN_ARN_FORMS.map((p) => p.arn) },
      deps(),
    );
    expect(result.plans).toBe(2);
    // Each plan's selected resource got no job: reported under the plan's real name.
    expect(result.coverage.untested.map((u) => u.restoreTestingPlanName).sort()).toEqual(
      PLAN_ARN_FORMS.map((p) => p.name).sort(),
    );
  });

  it('uses the names ListRestoreTestingPlans returns when no plan is configured', async () => {
    const result = await reconcile(DEFAULT_RECONCILER_SETTINGS, deps());
    expect(api.calls).toContain('ListRestoreTestingPlans');
    expect(result.coverage.untested.map((u) => u.restoreTestingPlanName).sort()).toEqual(
      PLAN_ARN_FORMS.map((p) => p.name).sort(),
    );
  });
});

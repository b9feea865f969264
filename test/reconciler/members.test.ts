import { BackupClient } from '@aws-sdk/client-backup';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { assumeRoleBackupFactory, type MemberCredentials } from '../../functions/reconciler/members';
import { type ReconcilerDeps, reconcile } from '../../functions/reconciler/reconcile';
import {
  DEFAULT_RECONCILER_SETTINGS,
  type ReconcilerSettings,
  reconcilerSettings,
} from '../../functions/reconciler/settings';
import { FakeRestoreTestingApi } from './fake-restore-testing';

const CENTRAL = '111111111111';
const MEMBER_A = '222222222222';
const MEMBER_B = '333333333333';
const ROLE_A = `arn:aws:iam::${MEMBER_A}:role/restore-validation-central-read`;
const ROLE_B = `arn:aws:iam::${MEMBER_B}:role/restore-validation-central-read`;
const CENTRAL_PLAN = `arn:aws:backup:eu-west-1:${CENTRAL}:restore-testing-plan:central_tests-1a2b3c4d`;
const MEMBER_PLAN = `arn:aws:backup:eu-north-1:${MEMBER_A}:restore-testing-plan:member_tests-0a0b0c0d`;
const H = 3_600_000;

let central: FakeRestoreTestingApi;
let memberA: FakeRestoreTestingApi;
const sts = mockClient(STSClient);

beforeEach(async () => {
  central = new FakeRestoreTestingApi();
  memberA = new FakeRestoreTestingApi();
  await Promise.all([central.start(), memberA.start()]);
  central.addPlan({ RestoreTestingPlanName: 'central_tests', RestoreTestingPlanArn: CENTRAL_PLAN });
  sts.reset();
});
afterEach(async () => {
  await Promise.all([central.stop(), memberA.stop()]);
});

function addMemberJob(id: string, extra: Record<string, unknown> = {}) {
  memberA.jobsApi.addJob({
    RestoreJobId: id,
    ResourceType: 'EBS',
    AccountId: MEMBER_A,
    CreationDate: new Date(Date.now() - 3 * H),
    CompletionDate: new Date(Date.now() - 2 * H),
    RestoreTestingPlanArn: MEMBER_PLAN,
    ...extra,
  });
}

/** STS lets the central account assume `roleArn`: key ASIAMEMBER<M>, secret-<m>, token-<m>, an hour. */
function assumable(roleArn: string, m: 'a' | 'b') {
  sts.on(AssumeRoleCommand, { RoleArn: roleArn }).resolves({
    Credentials: {
      AccessKeyId: `ASIAMEMBER${m.toUpperCase()}`,
      SecretAccessKey: `secret-${m}`,
      SessionToken: `token-${m}`,
      Expiration: new Date(Date.now() + H),
    },
  });
}

function setup() {
  const seen: Array<{ region: string; roleArn: string; credentials: MemberCredentials }> = [];
  const dispatched: string[] = [];
  const posted: string[] = [];
  const memberBackup = assumeRoleBackupFactory(new STSClient({ region: 'eu-west-1' }), {
    makeBackup: (region, credentials, roleArn) => {
      seen.push({ region, roleArn, credentials });
      return new BackupClient({ endpoint: memberA.endpoint, region, credentials, maxAttempts: 1 });
    },
  });
  const d: ReconcilerDeps = {
    backup: new BackupClient({ endpoint: central.endpoint, region: 'eu-west-1', maxAttempts: 1 }),
    dispatch: async (_fn, event) => {
      dispatched.push(String(event.detail.restoreJobId));
    },
    postVerdict: async (_b, id) => {
      posted.push(id);
      return 'posted';
    },
    memberBackup,
  };
  return { d, seen, dispatched, posted };
}

const settings: ReconcilerSettings = {
  ...DEFAULT_RECONCILER_SETTINGS,
  planArns: [CENTRAL_PLAN],
  memberRoleArns: [ROLE_B, ROLE_A],
  memberRegions: ['eu-north-1'],
};

describe('central reconciler over member accounts', () => {
  it('reports an unvalidated restore test of a member region without a stack with its account, region and job id when the role can be assumed', async () => {
    assumable(ROLE_A, 'a');
    assumable(ROLE_B, 'b');
    addMemberJob('MEMBER-UNVALIDATED');
    addMemberJob('MEMBER-DONE', { ValidationStatus: 'SUCCESSFUL' });
    const { d, seen, dispatched, posted } = setup();
    const result = await reconcile({ ...settings, memberRoleArns: [ROLE_A] }, d);

    expect(result.members).toHaveLength(1);
    expect(result.members[0]?.error).toBeUndefined();
    expect(result.members[0]?.unwatched.map((u) => [u.account, u.region, u.restoreJobId, u.status])).toEqual([
      [MEMBER_A, 'eu-north-1', 'MEMBER-UNVALIDATED', 'COMPLETED'],
    ]);
    expect(result.coverage.unwatched).toContainEqual(
      expect.objectContaining({
        account: MEMBER_A,
        region: 'eu-north-1',
        restoreJobId: 'MEMBER-UNVALIDATED',
      }),
    );
    // The member account was reached with the assumed role's credentials.
    expect(seen).toEqual([
      {
        region: 'eu-north-1',
        roleArn: ROLE_A,
        credentials: expect.objectContaining({ accessKeyId: 'ASIAMEMBERA', sessionToken: 'token-a' }),
      },
    ]);
    expect(sts.commandCalls(AssumeRoleCommand)[0]?.args[0].input).toMatchObject({
      RoleArn: ROLE_A,
      DurationSeconds: 900,
    });
    // Report only: no verdict posted and no validator invoked for a member account's job.
    expect(memberA.jobsApi.validations()).toEqual([]);
    expect(posted).toEqual([]);
    expect(dispatched).toEqual([]);
  });

  it('reports AccessDenied as an error of that account and still checks the next account when AssumeRole is refused', async () => {
    const denied = Object.assign(
      new Error(`User is not authorized to perform: sts:AssumeRole on resource: ${ROLE_B}`),
      {
        name: 'AccessDenied',
      },
    );
    sts.on(AssumeRoleCommand, { RoleArn: ROLE_B }).rejects(denied);
    assumable(ROLE_A, 'a');
    addMemberJob('MEMBER-FAILED-RESTORE', { Status: 'FAILED' });
    const { d } = setup();
    const result = await reconcile(settings, d);

    const byAccount = Object.fromEntries(result.members.map((m) => [m.account, m]));
    expect(byAccount[MEMBER_B]?.error).toMatch(
      new RegExp(
        `member account ${MEMBER_B} not checked .*AssumeRole refused \\(AccessDenied: User is not authorized`,
      ),
    );
    expect(byAccount[MEMBER_B]?.unwatched).toEqual([]);
    expect(byAccount[MEMBER_A]?.error).toBeUndefined();
    expect(byAccount[MEMBER_A]?.unwatched.map((u) => [u.account, u.restoreJobId, u.status])).toEqual([
      [MEMBER_A, 'MEMBER-FAILED-RESTORE', 'FAILED'],
    ]);
    expect(sts.commandCalls(AssumeRoleCommand).map((c) => c.args[0].input.RoleArn)).toEqual([ROLE_B, ROLE_A]);
  });
});

describe('reconcilerSettings member accounts', () => {
  it('reads the member role list and defaults the regions to the watched ones plus its own when set', () => {
    const s = reconcilerSettings({
      RECONCILER_MEMBER_ROLE_ARNS: JSON.stringify([ROLE_A, ROLE_B]),
      RECONCILER_WATCH_REGIONS: 'eu-north-1',
      AWS_REGION: 'eu-west-1',
    });
    expect(s.memberRoleArns).toEqual([ROLE_A, ROLE_B]);
    expect(s.memberRegions).toEqual(['eu-north-1', 'eu-west-1']);
    expect(
      reconcilerSettings({
        RECONCILER_MEMBER_ROLE_ARNS: '[]',
        RECONCILER_MEMBER_REGIONS: 'us-east-1, us-west-2',
      }).memberRegions,
    ).toEqual(['us-east-1', 'us-west-2']);
  });

  it('names the variable when the member role list is not a JSON list of role ARNs', () => {
    expect(() => reconcilerSettings({ RECONCILER_MEMBER_ROLE_ARNS: ROLE_A })).toThrow(
      /RECONCILER_MEMBER_ROLE_ARNS is not JSON/,
    );
    expect(() => reconcilerSettings({ RECONCILER_MEMBER_ROLE_ARNS: '["arn:aws:s3:::bucket"]' })).toThrow(
      /is not an IAM role ARN/,
    );
  });
});

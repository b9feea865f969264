import { createHash } from 'node:crypto';
import { BackupClient, ListRestoreTestingSelectionsCommand } from '@aws-sdk/client-backup';
import { DescribeVolumesCommand, EC2Client } from '@aws-sdk/client-ec2';
import { SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import type { HelperFlowInput } from '../../functions/ebs/flow';
import { ebsSettings } from '../../functions/ebs/settings';
import { ebsValidator } from '../../functions/ebs/validator';
import { runValidator } from '../../shared/validator';
import { config, contextInput, job } from './context';

const RESTORED = 'vol-0ffee1234abcd5678';
const SOURCE = 'vol-0a1b2c3d4e5f60718';
const ARN = (v: string) => `arn:aws:ec2:us-east-1:123456789012:volume/${v}`;
const SM = 'arn:aws:states:us-east-1:123456789012:stateMachine:ebs-helper';

const ec2 = mockClient(EC2Client);
const sfn = mockClient(SFNClient);

function volume(id: string, extra: Record<string, unknown> = {}) {
  return {
    VolumeId: id,
    State: 'available',
    Size: 100,
    Encrypted: true,
    AvailabilityZone: 'us-east-1c',
    VolumeType: 'gp3',
    Tags: id === RESTORED ? [{ Key: 'awsbackup-restore-test', Value: '' }] : [],
    ...extra,
  };
}

function describeReturns(
  restored: Record<string, unknown> | undefined,
  source: Record<string, unknown> | undefined,
) {
  ec2.on(DescribeVolumesCommand, { VolumeIds: [RESTORED] }).resolves({ Volumes: restored ? [restored] : [] });
  if (source) ec2.on(DescribeVolumesCommand, { VolumeIds: [SOURCE] }).resolves({ Volumes: [source] });
  else
    ec2
      .on(DescribeVolumesCommand, { VolumeIds: [SOURCE] })
      .rejects(Object.assign(new Error('not found'), { name: 'InvalidVolume.NotFound' }));
}

const run = (
  checks: unknown[] = [],
  env: Record<string, string> = {
    EBS_STATE_MACHINE_ARN: SM,
    EBS_HELPER_SUBNET_IDS: 'subnet-a,subnet-c',
  },
) =>
  runValidator(
    ebsValidator,
    contextInput({
      job: job({ type: 'EBS', created: ARN(RESTORED), source: ARN(SOURCE) }),
      config: config(checks),
      clients: { ec2: new EC2Client({ region: 'us-east-1' }), sfn: new SFNClient({ region: 'us-east-1' }) },
      settings: ebsSettings(env),
    }),
  );

describe('ebsValidator', () => {
  beforeEach(() => {
    ec2.reset();
    sfn.reset();
    sfn
      .on(StartExecutionCommand)
      .resolves({ executionArn: `${SM.replace(':stateMachine:', ':execution:')}:x` });
  });

  it('starts the helper flow with the volume facts and defers when the state checks pass', async () => {
    describeReturns(volume(RESTORED), volume(SOURCE));
    const checks = [{ id: 'app', paths: ['/etc/app.conf'] }];
    const result = await run(checks);
    expect(result.deferredTo).toMatch(/:execution:/);
    const calls = sfn.commandCalls(StartExecutionCommand);
    expect(calls).toHaveLength(1);
    const call = calls[0]?.args[0].input;
    expect(call?.stateMachineArn).toBe(SM);
    expect(call?.name).toBe('ebs-AB12CD34-0003-4F00-9A00-000000000003');
    const input = JSON.parse(call?.input ?? '{}') as HelperFlowInput;
    expect(input.volumeId).toBe(RESTORED);
    expect(input.availabilityZone).toBe('us-east-1c');
    expect(input.checks).toEqual([{ kind: 'paths', id: 'app', paths: ['/etc/app.conf'] }]);
    expect(input.helper.subnetIds).toEqual(['subnet-a', 'subnet-c']);
    expect(input.stateResults.map((r) => [r.id, r.status])).toEqual([
      ['volume-state', 'pass'],
      ['volume-size', 'pass'],
      ['volume-encryption', 'pass'],
    ]);
    expect(result.notes.availabilityZone).toBe('us-east-1c');
  });

  it('runs profile checks the helper cannot run before the hand-off and passes their results on', async () => {
    describeReturns(volume(RESTORED), volume(SOURCE));
    const result = await run([
      { id: 'app', paths: ['/etc/app.conf'] },
      { id: 'invariants', lambda: { functionArn: 'arn:aws:lambda:us-east-1:123456789012:function:check' } },
    ]);
    expect(result.deferredTo).toBeDefined();
    const input = JSON.parse(
      sfn.commandCalls(StartExecutionCommand)[0]?.args[0].input.input ?? '{}',
    ) as HelperFlowInput;
    expect(input.checks.map((c) => c.id)).toEqual(['app']);
    expect(input.stateResults.map((r) => r.id)).toEqual([
      'volume-state',
      'volume-size',
      'volume-encryption',
      'invariants',
    ]);
  });

  describe('within the validation window', () => {
    const backup = mockClient(BackupClient);
    const selection = {
      CreationTime: new Date(),
      IamRoleArn: 'arn:aws:iam::123456789012:role/restore',
      RestoreTestingPlanName: 'nightly',
      RestoreTestingSelectionName: 'all',
    };
    const runInWindow = (completedMinutesAgo: number, windowHours: number) => {
      backup.reset();
      backup.on(ListRestoreTestingSelectionsCommand, { RestoreTestingPlanName: 'nightly' }).resolves({
        RestoreTestingSelections: [
          { ...selection, ProtectedResourceType: 'RDS', ValidationWindowHours: 24 },
          { ...selection, ProtectedResourceType: 'EBS', ValidationWindowHours: windowHours },
        ],
      });
      const j = job({ type: 'EBS', created: ARN(RESTORED), source: ARN(SOURCE) });
      return runValidator(
        ebsValidator,
        contextInput({
          job: {
            ...j,
            restoreTestingPlanName: 'nightly',
            completionDate: new Date(Date.now() - completedMinutesAgo * 60_000),
          },
          config: config([{ id: 'app', paths: ['/etc/app.conf'] }]),
          clients: {
            ec2: new EC2Client({ region: 'us-east-1' }),
            sfn: new SFNClient({ region: 'us-east-1' }),
            backup: new BackupClient({ region: 'us-east-1' }),
          },
          settings: ebsSettings({ EBS_STATE_MACHINE_ARN: SM, EBS_HELPER_SUBNET_IDS: 'subnet-a,subnet-c' }),
        }),
      );
    };

    it("ends the helper's deadline before the window closes, not after a fixed 60 minutes", async () => {
      describeReturns(volume(RESTORED), volume(SOURCE));
      const before = Date.now();
      await runInWindow(20, 1); // the window closes 40 minutes from now
      const input = JSON.parse(
        sfn.commandCalls(StartExecutionCommand)[0]?.args[0].input.input ?? '{}',
      ) as HelperFlowInput;
      const deadline = Date.parse(input.deadline);
      // window end (now + 40 min) minus the 10-minute clean-up reserve
      expect(deadline).toBeLessThanOrEqual(Date.now() + 30 * 60_000);
      expect(deadline).toBeGreaterThanOrEqual(before + 29 * 60_000);
    });

    it('fails without a helper when the window leaves too little time', async () => {
      describeReturns(volume(RESTORED), volume(SOURCE));
      const result = await runInWindow(50, 1); // 10 minutes left
      expect(sfn.commandCalls(StartExecutionCommand)).toHaveLength(0);
      expect(result.verdict.verdict).toBe('FAILED');
      expect(result.verdict.message).toMatch(
        /the validation window closes at .*: too little time left for an EBS helper/,
      );
    });
  });

  it('packs large file checks into the input, and refuses with the reason what no state could carry', async () => {
    describeReturns(volume(RESTORED), volume(SOURCE));
    const hex = (i: number) => createHash('sha256').update(String(i)).digest('hex');
    const canaries = (n: number) =>
      Object.fromEntries(Array.from({ length: n }, (_, i) => [`/data/c-${i}.bin`, `sha256:${hex(i)}`]));
    await run([{ id: 'canaries', files: canaries(2200) }]);
    const input = JSON.parse(
      sfn.commandCalls(StartExecutionCommand)[0]?.args[0].input.input ?? '{}',
    ) as HelperFlowInput;
    expect(input.checks).toEqual([]);
    expect(input.checksPacked).toBeDefined();
    expect(JSON.stringify(input).length).toBeLessThan(200 * 1024);
    sfn.resetHistory();
    const refused = await run([{ id: 'canaries', files: canaries(8000) }]);
    expect(sfn.commandCalls(StartExecutionCommand)).toHaveLength(0);
    expect(refused.verdict.verdict).toBe('FAILED');
    expect(refused.verdict.message).toMatch(
      /file checks pack to \d+ KiB, over the 200 KiB the EBS helper flow can carry/,
    );
  });

  it('fails volume-state without starting a helper when the volume is attached', async () => {
    describeReturns(
      volume(RESTORED, { State: 'in-use', Attachments: [{ InstanceId: 'i-0123' }] }),
      volume(SOURCE),
    );
    const result = await run();
    expect(result.deferredTo).toBeUndefined();
    expect(sfn.commandCalls(StartExecutionCommand)).toHaveLength(0);
    expect(result.verdict.verdict).toBe('FAILED');
    const state = result.results.find((r) => r.id === 'volume-state');
    expect(state?.status).toBe('fail');
    expect(state?.detail).toContain('in-use (attached to i-0123)');
  });

  it('fails volume-size when the restored volume is smaller than its source', async () => {
    describeReturns(volume(RESTORED, { Size: 50 }), volume(SOURCE, { Size: 100 }));
    const result = await run();
    expect(result.verdict.verdict).toBe('FAILED');
    expect(result.results.find((r) => r.id === 'volume-size')?.detail).toBe(
      "restored 50 GiB is smaller than the source's 100 GiB",
    );
  });

  it('fails volume-encryption when the source is encrypted and the restore is not', async () => {
    describeReturns(volume(RESTORED, { Encrypted: false }), volume(SOURCE, { Encrypted: true }));
    const result = await run();
    expect(result.results.find((r) => r.id === 'volume-encryption')?.status).toBe('fail');
  });

  it('skips the source comparisons and still defers when the source volume is gone', async () => {
    describeReturns(volume(RESTORED), undefined);
    const result = await run();
    expect(result.deferredTo).toBeDefined();
    const input = JSON.parse(
      sfn.commandCalls(StartExecutionCommand)[0]?.args[0].input.input ?? '{}',
    ) as HelperFlowInput;
    expect(input.stateResults.find((r) => r.id === 'volume-size')?.status).toBe('skip');
    expect(input.stateResults.find((r) => r.id === 'volume-size')?.detail).toContain('no longer exists');
  });

  it('refuses a volume that is not a restore-test resource', async () => {
    describeReturns(volume(RESTORED, { Tags: [{ Key: 'Name', Value: 'prod-data' }] }), volume(SOURCE));
    const result = await run();
    expect(result.verdict.verdict).toBe('FAILED');
    expect(result.results[0]?.detail).toMatch(/^safety guard: refusing to validate prod-data/);
    expect(sfn.commandCalls(StartExecutionCommand)).toHaveLength(0);
  });

  it('fails when the restored volume does not exist', async () => {
    describeReturns(undefined, volume(SOURCE));
    const result = await run();
    expect(result.results[0]).toMatchObject({ id: 'restored-resource', status: 'fail' });
    expect(result.results[0]?.detail).toContain('does not exist');
  });

  it('reports every file check as an error when no helper flow is configured', async () => {
    describeReturns(volume(RESTORED), volume(SOURCE));
    const result = await run([{ id: 'app', paths: ['/x'] }], {});
    expect(result.deferredTo).toBeUndefined();
    expect(result.verdict.verdict).toBe('FAILED');
    expect(result.results.find((r) => r.id === 'app')).toMatchObject({ status: 'error' });
    expect(result.results.find((r) => r.id === 'mount-check')?.detail).toContain('EBS_STATE_MACHINE_ARN');
  });

  it('passes on its state checks alone when the profile has no file checks and no helper flow exists', async () => {
    describeReturns(volume(RESTORED), volume(SOURCE));
    const result = await run([], {});
    expect(result.verdict.verdict).toBe('SUCCESSFUL');
    expect(result.results.filter((r) => r.status === 'pass').map((r) => r.id)).toEqual([
      'volume-state',
      'volume-size',
      'volume-encryption',
    ]);
  });
});

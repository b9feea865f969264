/** Settings declared once, typed (shared/env.ts), and the variables each function reads. */
import { describe, expect, it } from 'vitest';
import { ebsHelperSettings, ebsSettings, ebsStepSettings } from '../../functions/ebs/settings';
import { ec2Settings } from '../../functions/ec2/settings';
import { reconcilerSettings } from '../../functions/reconciler/settings';
import { s3Settings } from '../../functions/s3/settings';
import { defineSettings, runtimeSettings, setting } from '../../shared/env';
import { fileSystemSettings } from '../../shared/files/settings';

describe('defineSettings', () => {
  const settings = defineSettings({
    name: 'APP_NAME',
    arn: setting.text(['SPECIFIC_ARN', 'GENERIC_ARN']),
    mode: setting.text('APP_MODE', 'fast'),
    on: setting.flag('APP_ON'),
    ids: setting.list('APP_IDS'),
    wait: setting.number('APP_WAIT', 15),
    limit: setting.positive('APP_LIMIT', 8),
    nested: defineSettings({ depth: setting.number('APP_DEPTH', 1) }),
  });

  it('reads each variable into its type, unset and empty alike giving the default', () => {
    expect(settings({})).toEqual({
      name: undefined,
      arn: undefined,
      mode: 'fast',
      on: false,
      ids: [],
      wait: 15,
      limit: 8,
      nested: { depth: 1 },
    });
    expect(
      settings({
        APP_NAME: 'x',
        SPECIFIC_ARN: '',
        GENERIC_ARN: 'arn:g',
        APP_MODE: '',
        APP_ON: 'true',
        APP_IDS: ' a, ,b ',
        APP_WAIT: '0.5',
        APP_LIMIT: '3',
        APP_DEPTH: '2',
      }),
    ).toEqual({
      name: 'x',
      arn: 'arn:g',
      mode: 'fast',
      on: true,
      ids: ['a', 'b'],
      wait: 0.5,
      limit: 3,
      nested: { depth: 2 },
    });
  });

  it('prefers the first variable that is set', () => {
    expect(settings({ SPECIFIC_ARN: 'arn:s', GENERIC_ARN: 'arn:g' }).arn).toBe('arn:s');
  });

  it('falls back for a malformed lenient number, and names the variable of a malformed strict one', () => {
    expect(settings({ APP_WAIT: 'soon' }).wait).toBe(15);
    expect(() => settings({ APP_LIMIT: '-1' })).toThrow(/APP_LIMIT="-1" is not a positive number/);
  });

  it('lists the variables it reads, nested ones included', () => {
    expect(settings.variables).toEqual([
      'APP_NAME',
      'SPECIFIC_ARN',
      'GENERIC_ARN',
      'APP_MODE',
      'APP_ON',
      'APP_IDS',
      'APP_WAIT',
      'APP_LIMIT',
      'APP_DEPTH',
    ]);
  });

  it('derives a default from other settings', () => {
    const derived = defineSettings({ a: setting.list('A'), b: setting.list('B') }, ({ a, b }) => ({
      all: [...a, ...b],
    }));
    expect(derived({ A: 'x', B: 'y,z' })).toEqual({ all: ['x', 'y', 'z'] });
  });
});

describe("the functions' settings", () => {
  // The construct (infra/) sets these names: they are a contract, not an implementation detail.
  it('read the variables the construct sets, by the same names as before', () => {
    expect(runtimeSettings.variables).toEqual([
      'RESTORE_VALIDATION_CONFIG',
      'IDEMPOTENCY_TABLE_NAME',
      'EVIDENCE_BUCKET',
      'EVIDENCE_TABLE',
      'EVIDENCE_PREFIX',
      'ALARM_TOPIC_ARN',
      'RESTORE_VALIDATION_VERSION',
      'AWS_REGION',
      'AWS_DEFAULT_REGION',
      'RESTORE_VALIDATION_DRY_RUN',
      'RESTORE_VALIDATION_EXTENSIONS',
      'RESTORE_VALIDATION_VALIDATORS',
    ]);
    expect(ebsSettings.variables).toEqual([
      'EBS_STATE_MACHINE_ARN',
      'STATE_MACHINE_ARN',
      ...ebsHelperSettings.variables,
    ]);
    expect(ebsHelperSettings.variables).toEqual([
      'EBS_HELPER_SUBNET_IDS',
      'EBS_HELPER_SECURITY_GROUP_ID',
      'EBS_HELPER_INSTANCE_PROFILE',
      'EBS_HELPER_AMI_PARAMETER',
      'EBS_HELPER_INSTANCE_TYPE',
      'EBS_HELPER_MAX_MINUTES',
    ]);
    expect(ebsStepSettings.variables).toEqual(['MOUNT_CHECK_FILE', 'LAMBDA_TASK_ROOT']);
    expect(ec2Settings.variables).toEqual(['EC2_STATUS_WAIT_SECONDS', 'EC2_POLL_SECONDS', 'SSM_POLL_MS']);
    expect(fileSystemSettings.variables).toEqual([
      'FILESYSTEM_HELPER_INSTANCE_ID',
      'FILESYSTEM_MOUNT_TARGET_SECURITY_GROUP_ID',
      'PATH_CHECK_FILE',
      'LAMBDA_TASK_ROOT',
    ]);
    expect(s3Settings.variables).toEqual(['S3_COMPARE_STATE_MACHINE_ARN', 'STATE_MACHINE_ARN']);
    expect(reconcilerSettings.variables).toEqual([
      'RECONCILER_PLAN_ARNS',
      'RECONCILER_LOOKBACK_HOURS',
      'RECONCILER_GRACE_MINUTES',
      'RECONCILER_CLOSE_MARGIN_MINUTES',
      'RECONCILER_INTERVAL_MINUTES',
      'RECONCILER_CONCURRENCY',
      'RECONCILER_DISPATCH_CLAIM_MINUTES',
      'VALIDATOR_FUNCTIONS',
      'RESTORE_VALIDATION_VERSION',
      'RECONCILER_WATCH_REGIONS',
      'RECONCILER_MEMBER_ROLE_ARNS',
      'RECONCILER_MEMBER_REGIONS',
      'AWS_REGION',
      'RECONCILER_SWEEP_INSTANCES',
      // The stack's dry run, which the reconciler now honours too.
      'RESTORE_VALIDATION_DRY_RUN',
      'RECONCILER_SWEEP_AFTER_MINUTES',
    ]);
  });

  it('keep the old defaults: the EBS helper, the reconciler member regions', () => {
    expect(ebsSettings({ EBS_HELPER_MAX_MINUTES: '0' }).helper).toMatchObject({
      subnetIds: [],
      amiParameter: '/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-arm64',
      instanceType: 't4g.micro',
      maxMinutes: 60,
    });
    expect(
      reconcilerSettings({ RECONCILER_WATCH_REGIONS: 'eu-west-1', AWS_REGION: 'us-east-1' }).memberRegions,
    ).toEqual(['eu-west-1', 'us-east-1']);
    expect(reconcilerSettings({ RECONCILER_SWEEP_AFTER_MINUTES: '5' }).sweepAfterMinutes).toBe(20);
  });

  it('carry no raw environment: dry run is a typed field', () => {
    const s = runtimeSettings({ RESTORE_VALIDATION_DRY_RUN: 'true' });
    expect(s.dryRun).toBe(true);
    expect(s).not.toHaveProperty('raw');
  });
});

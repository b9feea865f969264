/**
 * The EBS functions' settings, declared once (the construct in infra/constructs/ebs-helper.ts sets
 * the variables; shared/env.ts reads them).
 */
import { defineSettings, setting } from '../../shared/env';
import { DEFAULT_AMI_PARAMETER, DEFAULT_HELPER_MAX_MINUTES, DEFAULT_INSTANCE_TYPE } from './flow';

/** The helper instance: the validator copies it into the flow input, the janitor recognises it. */
export const ebsHelperSettings = defineSettings({
  /** Subnets the helper may use; the one in the volume's AZ is picked. */
  subnetIds: setting.list('EBS_HELPER_SUBNET_IDS'),
  securityGroupId: 'EBS_HELPER_SECURITY_GROUP_ID',
  instanceProfileName: 'EBS_HELPER_INSTANCE_PROFILE',
  amiParameter: setting.text('EBS_HELPER_AMI_PARAMETER', DEFAULT_AMI_PARAMETER),
  instanceType: setting.text('EBS_HELPER_INSTANCE_TYPE', DEFAULT_INSTANCE_TYPE),
  maxMinutes: setting.number('EBS_HELPER_MAX_MINUTES', DEFAULT_HELPER_MAX_MINUTES, { exclusive: true }),
});

/** The EBS validator's. */
export const ebsSettings = defineSettings({
  /** The helper flow's state machine; without it fsck, mount and file checks cannot run. */
  stateMachineArn: setting.text(['EBS_STATE_MACHINE_ARN', 'STATE_MACHINE_ARN']),
  helper: ebsHelperSettings,
});
export type EbsSettings = ReturnType<typeof ebsSettings>;

/** The helper flow's steps Lambda's: where the bundled mount-check program is. */
export const ebsStepSettings = defineSettings({
  mountCheckFile: 'MOUNT_CHECK_FILE',
  taskRoot: setting.text('LAMBDA_TASK_ROOT', '.'),
});

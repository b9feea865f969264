/**
 * The props of `RestoreValidation` and their checks: conflicting or out-of-range props fail synth
 * before any resource is created, saying what is wrong, the value and the fix.
 */
import {
  type Duration,
  type aws_dynamodb as dynamodb,
  type aws_ec2 as ec2,
  type aws_logs as logs,
  type aws_s3 as s3,
  type aws_sns as sns,
  Token,
} from 'aws-cdk-lib';
import { VALIDATOR_TYPES, type ValidatorType } from '../shared/resource-types';
import type { EbsHelperProps } from './constructs/ebs-helper';
import {
  FILE_SYSTEM_HELPER_TYPES,
  type FileSystemHelperSettings,
  fileSystemHelperProblem,
} from './constructs/file-system-helper';
import type { S3DistributedMapProps } from './constructs/s3-distributed-map';

/** The EBS helper flow's settings (`RestoreValidationProps.ebsHelper`); network and retention come from the construct. */
export interface EbsHelperOptions extends Omit<EbsHelperProps, 'vpc' | 'vpcSubnets' | 'logRetention'> {
  /**
   * Deploy the flow. It needs `vpc`: without one it is left out whatever this says.
   * @default true
   */
  readonly enabled?: boolean;
}

/** The S3 Distributed Map's settings (`RestoreValidationProps.s3DistributedMap`); retention comes from the construct. */
export interface S3DistributedMapOptions extends Omit<S3DistributedMapProps, 'logRetention'> {
  /**
   * Deploy the map (only when `s3` is deployed).
   * @default true
   */
  readonly enabled?: boolean;
}

/** Memory and timeout of one function. */
export interface FunctionSettings {
  /** @default 1024 (validators), 256 (DLQ consumer) */
  readonly memorySize?: number;
  /** @default - the `timeout` prop, else the type's default (`timeoutMinutes` of functions/<type>/type.ts) (15 minutes for aurora, documentdb and neptune, 10 for the others) */
  readonly timeout?: Duration;
}

/** Where validators write evidence (created by the evidence construct or passed in). */
export interface EvidenceSettings {
  /** Bucket that receives one evidence record per validation (`EVIDENCE_BUCKET`). */
  readonly bucket: s3.IBucket;
  /**
   * Index table of evidence records (`EVIDENCE_TABLE`).
   * @default - no index table
   */
  readonly table?: dynamodb.ITable;
  /**
   * Key prefix inside the bucket (`EVIDENCE_PREFIX`).
   * @default - the evidence store's default
   */
  readonly prefix?: string;
}

export interface RestoreValidationProps {
  /**
   * The validation config (YAML or JSON), relative to the working directory of `cdk synth`.
   * Validated at synth: an invalid file fails synth with file, path and reason.
   * @default 'validation.config.yaml'
   */
  readonly configPath?: string;
  /**
   * Validator types to deploy (a Lambda and a rule each). `dynamodb` serves both `DynamoDB` and
   * `DynamoDB.FullyManaged`.
   * @default - all of VALIDATOR_TYPES
   */
  readonly resourceTypes?: readonly ValidatorType[];
  /**
   * Only restore jobs of these restore testing plans trigger validation (added to every rule's
   * event pattern as `detail.restoreTestingPlanArn`).
   * @default - restore jobs of every plan
   */
  readonly restoreTestingPlanArns?: readonly string[];
  /**
   * VPC the database validators (rds, aurora, documentdb, neptune) run in, to reach restored
   * databases. It needs a route to the AWS APIs (NAT or interface endpoints for Backup, RDS, STS,
   * Secrets Manager, ...).
   * @default - database validators run outside a VPC and can only check control-plane state
   */
  readonly vpc?: ec2.IVpc;
  /**
   * Subnets of `vpc` for the validators and the DB subnet group that restores should use.
   * @default - the VPC's private subnets with egress
   */
  readonly vpcSubnets?: ec2.SubnetSelection;
  /**
   * Security group of the database validators. Restored databases should get the same group (via the
   * restore testing selection's `vpcSecurityGroupIds` override); it admits itself on DB ports.
   * @default - one is created when `vpc` is given
   */
  readonly securityGroup?: ec2.ISecurityGroup;
  /**
   * Topic for alarms (DLQ, failed deliveries, validator errors) and FAILED notifications
   * (`ALARM_TOPIC_ARN`).
   * @default - a topic encrypted with a new customer managed key
   */
  readonly alarmTopic?: sns.ITopic;
  /**
   * Memory of every validator function (MB).
   * @default 1024
   */
  readonly memorySize?: number;
  /**
   * Timeout of every validator function (overrides the per-type defaults). Validation runs within
   * it, minus the config's reserve. Aurora, DocumentDB and Neptune wait 5-10 minutes for a
   * temporary instance before checking: keep them at 15 minutes (use functionSettings instead).
   * @default - per type (`timeoutMinutes` of functions/<type>/type.ts): 15 minutes for aurora, documentdb and neptune, 10 for the others
   */
  readonly timeout?: Duration;
  /**
   * Per-type memory/timeout overrides.
   * @default - memorySize/timeout for every type
   */
  readonly functionSettings?: Partial<Record<ValidatorType, FunctionSettings>>;
  /**
   * Retention of every function's log group.
   * @default logs.RetentionDays.THREE_MONTHS
   */
  readonly logRetention?: logs.RetentionDays;
  /**
   * How often EventBridge retries delivering an event to a validator before the DLQ.
   * @default 8
   */
  readonly eventRetryAttempts?: number;
  /**
   * Oldest event EventBridge and Lambda async invoke still deliver; older ones go to the DLQ and
   * get a FAILED verdict from the DLQ consumer. Must end well inside the validation window.
   * @default Duration.hours(2)
   */
  readonly maxEventAge?: Duration;
  /**
   * Lambda async invoke retries after a function error (0-2), then the DLQ.
   * @default 2
   */
  readonly asyncRetryAttempts?: number;
  /**
   * Evidence store settings passed to validators.
   * @default - no evidence store (evidence goes to the logs only)
   */
  readonly evidence?: EvidenceSettings;
  /**
   * Extra environment for every validator (e.g. settings of validator sub-constructs).
   * @default - none
   */
  readonly environment?: Readonly<Record<string, string>>;
  /**
   * Post nothing to AWS Backup (`RESTORE_VALIDATION_DRY_RUN=true`), for a trial deployment.
   * @default false
   */
  readonly dryRun?: boolean;
  /**
   * The EBS helper flow (helper instance launched in the restored volume's AZ): its settings, and
   * `enabled: false` to leave it out (the EBS validator then cannot mount volumes). Needs `vpc`.
   * Replaces `ebsHelper: false` (a contract change: `false` now fails synth with this hint).
   * @default - created with the EbsHelper defaults when `vpc` is given and `ebs` is deployed
   */
  readonly ebsHelper?: EbsHelperOptions;
  /**
   * The Step Functions Distributed Map for S3 comparisons too large for one Lambda: its settings,
   * and `enabled: false` to leave it out. Its readable buckets default to restored buckets plus the
   * config's compare sources. Without it the S3 validator compares within its own Lambda, so a
   * bucket too large for one Lambda's time ends FAILED with `timed out`. Replaces
   * `s3DistributedMap: false | true` (a contract change: a boolean now fails synth with this hint).
   * @default - created with the S3DistributedMap defaults when `s3` is deployed
   */
  readonly s3DistributedMap?: S3DistributedMapOptions;
  /**
   * The operator's helper instance for EFS and FSx content checks (`paths`, `files`, `directory`,
   * `freeSpace`): an SSM-managed Linux instance in the file systems' VPC. Sets
   * `FILESYSTEM_HELPER_INSTANCE_ID` / `FILESYSTEM_MOUNT_TARGET_SECURITY_GROUP_ID` on the efs and fsx
   * validators and grants them SSM Run Command on that instance only, plus (EFS) creating and
   * deleting a mount target on restore-test file systems. See docs/deploy.md.
   * @default - no helper: EFS/FSx content checks end as `error` (state checks still run)
   */
  readonly fileSystemHelper?: FileSystemHelperSettings;
  /**
   * KMS keys of SSE-KMS objects in the buckets the S3 validator compares (source buckets, or restored
   * buckets restored with a customer managed key). `HeadObject` with `ChecksumMode: ENABLED` on such
   * an object needs `kms:Decrypt` on its key, as does a download. Always limited to calls S3 makes
   * for the restored and configured source buckets (`kms:ViaService`, `kms:EncryptionContext:aws:s3:arn`).
   * @default - any key of this account and region, under those conditions
   */
  readonly s3KmsKeyArns?: readonly string[];
  /**
   * Folder holding `<type>/handler.ts` and `dlq/handler.ts`. Must be inside the project root.
   * @default '<project>/functions'
   */
  readonly functionsDir?: string;
}

const KMS_KEY_ARN = /^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key\/[A-Za-z0-9-]+$/;
const PLAN_ARN = /^arn:aws[a-z-]*:backup:[a-z0-9-]+:\d{12}:restore-testing-plan:[A-Za-z0-9_-]+$/;

/** Thrown for props that cannot work together: says what is wrong, shows the value and the fix. */
export class RestoreValidationPropsError extends Error {
  constructor(message: string) {
    super(`RestoreValidation: ${message}`);
    this.name = 'RestoreValidationPropsError';
  }
}

export function checkProps(props: RestoreValidationProps): void {
  const fail = (m: string): never => {
    throw new RestoreValidationPropsError(m);
  };
  for (const [key, value] of [
    ['ebsHelper', props.ebsHelper],
    ['s3DistributedMap', props.s3DistributedMap],
  ] as const) {
    if (typeof value === 'boolean')
      fail(
        `${key}: ${value} is no longer accepted: use ${key}: { enabled: ${value} } (its other settings go beside enabled).`,
      );
  }
  if (props.securityGroup && !props.vpc)
    fail(
      'securityGroup is set but vpc is not: pass the vpc the security group belongs to, or drop securityGroup.',
    );
  if (props.vpcSubnets && !props.vpc)
    fail('vpcSubnets is set but vpc is not: pass vpc too, or drop vpcSubnets.');
  if (props.resourceTypes) {
    if (props.resourceTypes.length === 0)
      fail(
        'resourceTypes is empty: omit it to deploy every validator, or list at least one of ' +
          VALIDATOR_TYPES.join(', ') +
          '.',
      );
    for (const t of props.resourceTypes) {
      if (!(VALIDATOR_TYPES as readonly string[]).includes(t)) {
        fail(
          `resourceTypes contains "${String(t)}", which is not a validator type: use one of ${VALIDATOR_TYPES.join(', ')} (DynamoDB.FullyManaged is served by "dynamodb").`,
        );
      }
    }
    const dup = props.resourceTypes.find((t, i) => props.resourceTypes?.indexOf(t) !== i);
    if (dup) fail(`resourceTypes lists "${dup}" twice: list each type once.`);
  }
  if (props.restoreTestingPlanArns) {
    if (props.restoreTestingPlanArns.length === 0)
      fail(
        'restoreTestingPlanArns is empty, which would match no restore job: omit it to validate every plan, or list plan ARNs.',
      );
    for (const arn of props.restoreTestingPlanArns) {
      if (!Token.isUnresolved(arn) && !PLAN_ARN.test(arn)) {
        fail(
          `restoreTestingPlanArns contains "${arn}", which is not a restore testing plan ARN: expected arn:aws:backup:<region>:<account>:restore-testing-plan:<name>-<id>.`,
        );
      }
    }
  }
  if (props.s3KmsKeyArns) {
    if (props.s3KmsKeyArns.length === 0)
      fail(
        's3KmsKeyArns is empty: omit it to allow any key of this account and region (through S3 only), or list key ARNs.',
      );
    for (const k of props.s3KmsKeyArns)
      if (!Token.isUnresolved(k) && !KMS_KEY_ARN.test(k))
        fail(
          `s3KmsKeyArns contains "${k}", which is not a KMS key ARN: expected arn:aws:kms:<region>:<account>:key/<key id> (aliases do not work in IAM resources).`,
        );
  }
  const mem = [props.memorySize, ...Object.values(props.functionSettings ?? {}).map((s) => s?.memorySize)];
  for (const m of mem)
    if (m !== undefined && (!Number.isInteger(m) || m < 128 || m > 10240))
      fail(`memorySize ${m} is out of range: use an integer from 128 to 10240 (MB).`);
  const timeouts = [props.timeout, ...Object.values(props.functionSettings ?? {}).map((s) => s?.timeout)];
  for (const t of timeouts) {
    if (t && !t.isUnresolved() && (t.toSeconds() < 60 || t.toSeconds() > 900)) {
      fail(
        `timeout ${t.toHumanString()} is out of range: validators need 1 to 15 minutes (the verdict is posted within it).`,
      );
    }
  }
  if (props.functionSettings) {
    for (const k of Object.keys(props.functionSettings)) {
      if (!(VALIDATOR_TYPES as readonly string[]).includes(k))
        fail(`functionSettings has key "${k}": use validator types (${VALIDATOR_TYPES.join(', ')}).`);
      if (props.resourceTypes && !props.resourceTypes.includes(k as ValidatorType))
        fail(
          `functionSettings.${k} is set but "${k}" is not in resourceTypes: add it to resourceTypes or remove the setting.`,
        );
    }
  }
  if (props.fileSystemHelper) {
    const problem = fileSystemHelperProblem(props.fileSystemHelper);
    if (problem) fail(problem);
    if (
      props.resourceTypes &&
      !props.resourceTypes.some((t) => (FILE_SYSTEM_HELPER_TYPES as readonly string[]).includes(t))
    )
      fail(
        'fileSystemHelper is set but neither "efs" nor "fsx" is in resourceTypes: add one of them or drop fileSystemHelper.',
      );
  }
  const r = props.eventRetryAttempts;
  if (r !== undefined && (!Number.isInteger(r) || r < 0 || r > 185))
    fail(`eventRetryAttempts ${r} is out of range: EventBridge allows 0 to 185.`);
  const a = props.asyncRetryAttempts;
  if (a !== undefined && (!Number.isInteger(a) || a < 0 || a > 2))
    fail(`asyncRetryAttempts ${a} is out of range: Lambda allows 0 to 2.`);
  const age = props.maxEventAge;
  if (age && !age.isUnresolved() && (age.toSeconds() < 60 || age.toSeconds() > 6 * 3600)) {
    fail(
      `maxEventAge ${age.toHumanString()} is out of range: use 1 minute to 6 hours (Lambda's async limit), shorter than the validation window.`,
    );
  }
}

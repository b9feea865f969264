/**
 * The contract between the EBS validator (which starts the helper flow) and the Step Functions steps
 * (functions/ebs/steps.ts) that run it: the execution input, and the settings the construct passes.
 */

import { gunzipSync, gzipSync } from 'node:zlib';
import type { CheckResult } from '../../shared/checks';
import type { FsCheckSpec } from '../../shared/files/mount-check/types';
import type { Objectives } from '../../shared/objectives';

/** Tag put on helper instances with the ISO time after which the janitor terminates them. */
export const HELPER_DEADLINE_TAG = 'restore-validation:deadline';
/** Tag naming the restore job a helper serves (for people and for the janitor's log). */
export const HELPER_JOB_TAG = 'restore-validation:restore-job-id';
/** Whether a flow posts nothing (its input's `dryRun`, or an older input's `post: false`). */
export function isDryRun(input: Pick<HelperFlowInput, 'dryRun' | 'post'>): boolean {
  return input.dryRun ?? input.post === false;
}

/**
 * The idempotency token a helper is launched with. EC2 keeps it on the instance and nobody can change
 * it afterwards (unlike a tag), so the janitor uses it to tell our launches from lookalikes.
 */
export function helperClientToken(restoreJobId: string): string {
  return `rv-ebs-${restoreJobId}`.slice(0, 64);
}

/** The device name the volume is attached as; Nitro instances expose it as an NVMe device. */
export const HELPER_DEVICE_NAME = '/dev/sdf';

/** Amazon Linux 2023, arm64 (Graviton: the cheapest small instances). Public SSM parameter. */
export const DEFAULT_AMI_PARAMETER = '/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-arm64';
export const DEFAULT_INSTANCE_TYPE = 't4g.micro';
export const DEFAULT_HELPER_MAX_MINUTES = 60;

/** The helper settings (settings.ts `ebsHelperSettings`) the validator copies into the input. */
export interface HelperSettings {
  /** Subnets the helper may use; the one in the volume's AZ is picked. */
  readonly subnetIds: readonly string[];
  readonly securityGroupId?: string;
  readonly instanceProfileName?: string;
  readonly amiParameter: string;
  readonly instanceType: string;
  readonly maxMinutes: number;
}

/** Input of one helper-flow execution. */
export interface HelperFlowInput {
  readonly restoreJobId: string;
  readonly volumeId: string;
  readonly availabilityZone: string;
  /** The profile's file-system checks, run by the mount-check program (empty when packed). */
  readonly checks: readonly FsCheckSpec[];
  /** The same checks gzipped + base64 when their JSON exceeds STATE_INLINE_LIMIT (see checksOf). */
  readonly checksPacked?: string;
  /** Results of the state checks already run by the validator; they join the final verdict. */
  readonly stateResults: readonly CheckResult[];
  readonly failWhenNothingChecked: boolean;
  readonly helper: HelperSettings;
  /** ISO time after which the helper must be gone (also tagged on it for the janitor). */
  readonly deadline: string;
  /** Post nothing to AWS Backup (replay --dry-run, a dry-run deployment). */
  readonly dryRun: boolean;
  /**
   * How inputs written before `dryRun` said it: `post: false` for a dry run. Read by
   * {@link isDryRun} only, so an execution started by the previous version still posts nothing.
   * @deprecated
   */
  readonly post?: boolean;
  /** When the validator handed off (the final evidence record's validationStartedAt). */
  readonly startedAt?: string;
  /** The profile's recovery objectives, for the final evidence record (their onMiss: fail results are in stateResults). */
  readonly objectives?: Objectives;
}

/**
 * Step Functions fails an execution with the uncatchable States.DataLimitExceeded when a state's
 * payload exceeds 256 KiB (about 2,200 canaries). Anything larger than this travels packed
 * (gzip + base64) in the state instead; STATE_HARD_LIMIT is what the validator refuses outright.
 * @see https://docs.aws.amazon.com/step-functions/latest/dg/service-quotas.html#service-limits-task-executions
 */
export const STATE_INLINE_LIMIT = 64 * 1024;
export const STATE_HARD_LIMIT = 200 * 1024;

export const packJson = (value: unknown): string => gzipSync(JSON.stringify(value)).toString('base64');
export const unpackJson = <T>(packed: string): T =>
  JSON.parse(gunzipSync(Buffer.from(packed, 'base64')).toString('utf8')) as T;

/** The checks of a flow input, packed or not. */
export function checksOf(input: Pick<HelperFlowInput, 'checks' | 'checksPacked'>): readonly FsCheckSpec[] {
  return input.checksPacked ? unpackJson<FsCheckSpec[]>(input.checksPacked) : input.checks;
}

/** Packs the checks when they are large, so the execution input and every state stay small. */
export function withChecks(checks: readonly FsCheckSpec[]): Pick<HelperFlowInput, 'checks' | 'checksPacked'> {
  return JSON.stringify(checks).length > STATE_INLINE_LIMIT
    ? { checks: [], checksPacked: packJson(checks) }
    : { checks };
}

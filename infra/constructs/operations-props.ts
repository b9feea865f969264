/**
 * The props of `RestoreValidationOperations` (evidence store, alarm topic, reconciler, central
 * account wiring) and the error thrown for props that cannot work together.
 */
import type { Duration, aws_logs as logs, RemovalPolicy, aws_sns as sns } from 'aws-cdk-lib';

export interface RestoreValidationOperationsProps {
  /**
   * Topic for alarms and FAILED/TIMED_OUT notifications.
   * @default - a topic encrypted with a new customer managed key (rotation on)
   */
  readonly alarmTopic?: sns.ITopic;
  /**
   * S3 Object Lock default retention for evidence records: no one (GOVERNANCE: no one without
   * `s3:BypassGovernanceRetention`) can delete or overwrite a record version before it ends.
   * Object Lock can only be enabled when the bucket is created.
   * @default - no Object Lock
   */
  readonly objectLockRetention?: Duration;
  /**
   * @default 'GOVERNANCE'
   */
  readonly objectLockMode?: 'GOVERNANCE' | 'COMPLIANCE';
  /**
   * Delete evidence records (and index items) this long after they were written.
   * @default - kept forever (moved to Glacier Instant Retrieval after 90 days)
   */
  readonly evidenceRetention?: Duration;
  /**
   * Key prefix of evidence records in the bucket (`EVIDENCE_PREFIX`).
   * @default 'evidence/'
   */
  readonly evidencePrefix?: string;
  /**
   * What happens to the evidence bucket and table when the stack is deleted.
   * @default RemovalPolicy.RETAIN (evidence is what an auditor asks for)
   */
  readonly removalPolicy?: RemovalPolicy;
  /**
   * How often the reconciler runs. The "reconciler stopped" alarm fires after two missed runs.
   * @default Duration.minutes(30)
   */
  readonly reconcilerSchedule?: Duration;
  /**
   * Plans the reconciler looks at (`RECONCILER_PLAN_ARNS`).
   * @default - every restore testing plan of the account and region
   */
  readonly restoreTestingPlanArns?: readonly string[];
  /**
   * Extra reconciler settings (`RECONCILER_LOOKBACK_HOURS`, `RECONCILER_GRACE_MINUTES`,
   * `RECONCILER_CLOSE_MARGIN_MINUTES`, …; see functions/reconciler/settings.ts).
   * @default - the reconciler's defaults
   */
  readonly reconcilerEnvironment?: Readonly<Record<string, string>>;
  /**
   * Each reconciler pass deletes temporary DB instances (Aurora, DocumentDB, Neptune) that a
   * validator created and could not delete (a Lambda killed at its timeout): tagged
   * `restore-validation:created-by`, in a restore-test cluster, and whose validation ended or that
   * are older than an hour. Such an instance keeps running and keeps AWS Backup from deleting the
   * restored cluster.
   * @default true
   */
  readonly sweepTemporaryInstances?: boolean;
  /**
   * A trial deployment: the reconciler decides and logs but posts nothing to AWS Backup (set with
   * `RestoreValidationProps.dryRun` by the stack).
   * @default false
   */
  readonly dryRun?: boolean;
  /**
   * Regions of this account that run restore tests but have no stack: the reconciler lists their
   * restore jobs and alarms on any left without a verdict (`RECONCILER_WATCH_REGIONS`).
   * @default - none
   */
  readonly watchRegions?: readonly string[];
  /**
   * Alarm when at least this many protected resources got no restore job in the look-back period.
   * @default 1
   */
  readonly untestedResourcesThreshold?: number;
  /**
   * Folder holding `reconciler/handler.ts`.
   * @default '<project>/functions'
   */
  readonly functionsDir?: string;
  /**
   * @default logs.RetentionDays.THREE_MONTHS
   */
  readonly logRetention?: logs.RetentionDays;
  /**
   * Central evidence account: besides its own bucket, the stack grants nothing extra, but the
   * validators and reconciler write to this bucket instead (`EVIDENCE_BUCKET`), under
   * `<account>/<region>/` prefixes. The central bucket's policy must allow the member roles
   * (docs/operations.md shows it). When set, no local evidence bucket/table is created.
   * @default - a local evidence bucket and table
   */
  readonly centralEvidence?: {
    readonly bucketName: string;
    /**
     * Central index table ARN (cross-account DynamoDB needs a resource policy on it).
     * @default - a local index table
     */
    readonly tableArn?: string;
  };
  /**
   * Member stack: forward this account's restore-job events to the central account's bus
   * (rule + encrypted DLQ + a role allowed `events:PutEvents` on that bus only).
   * @default - no forwarding
   */
  readonly forwardEventsTo?: { readonly eventBusArn: string };
  /**
   * Member stack: link this account's `RestoreValidation` metrics (that namespace only) to the
   * central account's CloudWatch cross-account observability sink in the same region (the central
   * stack's `CentralMetricsSinkArn` output), so the central dashboard shows every member.
   * @default - metrics stay in this account
   */
  readonly forwardMetricsTo?: { readonly sinkArn: string };
  /**
   * Central stack: an event bus that accepts PutEvents from exactly these accounts, a bucket
   * policy letting each write evidence under its own `<account>/` prefix, a resource policy on the
   * index table letting them index it, a metrics sink they may link to, and an organization row on
   * the dashboard (one line per member account).
   * @default - no central bus
   */
  readonly centralEventBus?: {
    readonly memberAccountIds: readonly string[];
    /** @default 'restore-validation-central' */
    readonly eventBusName?: string;
    /** How long the bus archive keeps forwarded events. @default Duration.days(400) */
    readonly eventArchiveRetention?: Duration;
  };
  /**
   * Member stack: create the role the central reconciler assumes here (`backup:ListRestoreJobs`
   * only, trusting exactly that reconciler role).
   * @default - no role
   */
  readonly centralReconciler?: { readonly reconcilerRoleArn: string; readonly roleName?: string };
  /**
   * Central stack: roles (one per member account) the reconciler assumes to list that account's
   * restore jobs and report the ones left without a verdict (`RECONCILER_MEMBER_ROLE_ARNS`).
   * Report only: nothing is posted or invoked in a member account. Each role needs
   * `backup:ListRestoreJobs` and a trust policy naming the central reconciler role.
   * @default - none
   */
  readonly memberAccounts?: readonly { readonly roleArn: string }[];
  /**
   * Regions the reconciler lists in each member account (`RECONCILER_MEMBER_REGIONS`).
   * @default - `watchRegions` plus the stack's own region
   */
  readonly memberRegions?: readonly string[];
}

/** Thrown for props that cannot work together. */
export class OperationsPropsError extends Error {
  constructor(message: string) {
    super(`RestoreValidationOperations: ${message}`);
    this.name = 'OperationsPropsError';
  }
}

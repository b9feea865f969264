/**
 * `RestoreValidationOperations`: what makes restore validation provable and watched — the evidence
 * bucket and index table, the alarm topic, the CloudWatch dashboard and alarms, and the scheduled
 * reconciler (with an alarm for when it stops running).
 *
 * Wiring (the main construct takes the first three as props, the reconciler needs its functions):
 *
 * ```ts
 * const ops = new RestoreValidationOperations(this, 'Operations', { objectLockRetention: Duration.days(400) });
 * const rv = new RestoreValidation(this, 'RestoreValidation', { evidence: ops.evidence, alarmTopic: ops.alarmTopic });
 * ops.attachValidators(rv.functions);
 * ```
 * @see docs/operations.md
 */
import { join } from 'node:path';
import {
  ArnFormat,
  Aws,
  CfnOutput,
  aws_cloudwatch as cloudwatch,
  aws_cloudwatch_actions as cwActions,
  Duration,
  aws_dynamodb as dynamodb,
  aws_events as events,
  aws_iam as iam,
  aws_kms as kms,
  aws_lambda as lambda,
  aws_logs as logs,
  aws_lambda_nodejs as nodejs,
  RemovalPolicy,
  Stack,
  aws_s3 as s3,
  aws_sns as sns,
  Token,
  aws_events_targets as targets,
} from 'aws-cdk-lib';
import { Construct } from 'constructs';
import {
  EVIDENCE_INDEXES,
  EVIDENCE_TABLE_PARTITION_KEY,
  EVIDENCE_TTL_ATTRIBUTE,
} from '../../shared/evidence-store';
import { CREATED_BY_TAG, RESTORE_TEST_TAG } from '../../shared/guard';
import { METRIC, METRICS_NAMESPACE, METRICS_SERVICE } from '../../shared/metrics';
import type { ValidatorType } from '../../shared/resource-types';
import { cdkBundlingFields, DEPS_LOCK_FILE, PROJECT_ROOT } from '../bundling';
import {
  CENTRAL_EVENT_BUS_NAME,
  CentralEvidenceReceiver,
  CentralMetricsLink,
  CentralReadRole,
  checkArn,
  evidenceTableRef,
  RestoreEventForwarding,
  TABLE_ARN,
} from './central';

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
    /** Central index table ARN (cross-account DynamoDB needs a resource policy on it). */
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

export class RestoreValidationOperations extends Construct {
  /** Evidence bucket (SSE-S3, versioned, public access blocked, TLS only, optional Object Lock). */
  readonly evidenceBucket: s3.IBucket;
  /** Evidence index table (see shared/evidence-store.ts for its layout). */
  readonly evidenceTable: dynamodb.ITable;
  /** Pass this as `evidence` to the main construct. */
  readonly evidence: {
    readonly bucket: s3.IBucket;
    readonly table: dynamodb.ITable;
    readonly prefix: string;
  };
  readonly alarmTopic: sns.ITopic;
  readonly reconciler: nodejs.NodejsFunction;
  readonly reconcilerRole: iam.Role;
  readonly schedule: events.Rule;
  readonly dashboard: cloudwatch.Dashboard;
  /** Fires when the reconciler has not run for two schedule intervals. */
  readonly reconcilerStoppedAlarm: cloudwatch.Alarm;
  readonly reconcilerErrorsAlarm: cloudwatch.Alarm;
  readonly untestedResourcesAlarm: cloudwatch.Alarm;
  readonly timedOutAlarm: cloudwatch.Alarm;
  /** A validation missed a recovery objective (`objectives` of a profile or the defaults). */
  readonly objectivesMissedAlarm: cloudwatch.Alarm;
  /** Only with `watchRegions` or `memberAccounts`. */
  readonly unwatchedRestoresAlarm?: cloudwatch.Alarm;
  /** Only with `forwardEventsTo`. */
  readonly forwarding?: RestoreEventForwarding;
  /** Only with `forwardMetricsTo`. */
  readonly metricsLink?: CentralMetricsLink;
  /** Only with `centralEventBus`. */
  readonly central?: CentralEvidenceReceiver;
  /** Only with `centralReconciler`. */
  readonly centralReadRole?: CentralReadRole;

  constructor(scope: Construct, id: string, props: RestoreValidationOperationsProps = {}) {
    super(scope, id);
    const interval = props.reconcilerSchedule ?? Duration.minutes(30);
    if (!interval.isUnresolved() && (interval.toMinutes() < 5 || interval.toMinutes() > 360)) {
      throw new OperationsPropsError(
        `reconcilerSchedule ${interval.toHumanString()} is out of range: use 5 minutes to 6 hours, well inside the shortest validation window.`,
      );
    }
    if (props.objectLockMode && !props.objectLockRetention) {
      throw new OperationsPropsError(
        'objectLockMode is set but objectLockRetention is not: give the retention period, or drop objectLockMode.',
      );
    }
    if (props.centralEvidence && props.objectLockRetention) {
      throw new OperationsPropsError(
        'objectLockRetention applies to a local bucket, but centralEvidence is set: configure Object Lock on the central bucket instead.',
      );
    }
    const prefix =
      props.evidencePrefix ?? (props.centralEvidence ? `${Aws.ACCOUNT_ID}/${Aws.REGION}/` : 'evidence/');
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;

    // --- evidence store ---------------------------------------------------------------------------
    if (props.centralEvidence) {
      this.evidenceBucket = s3.Bucket.fromBucketName(
        this,
        'CentralEvidenceBucket',
        props.centralEvidence.bucketName,
      );
      if (props.centralEvidence.tableArn)
        checkArn(
          'centralEvidence.tableArn',
          props.centralEvidence.tableArn,
          TABLE_ARN,
          "arn:aws:dynamodb:<region>:<account>:table/<name>: the central stack's EvidenceTableArn output as it is",
        );
      this.evidenceTable = props.centralEvidence.tableArn
        ? dynamodb.Table.fromTableArn(this, 'CentralEvidenceTable', props.centralEvidence.tableArn)
        : this.createTable(removalPolicy, false);
    } else {
      const accessLogs = new s3.Bucket(this, 'EvidenceAccessLogs', {
        encryption: s3.BucketEncryption.S3_MANAGED,
        blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
        enforceSSL: true,
        objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_PREFERRED,
        lifecycleRules: [{ expiration: Duration.days(365) }],
        removalPolicy,
      });
      this.evidenceBucket = new s3.Bucket(this, 'EvidenceBucket', {
        // SSE-S3: validators write with s3:PutObject alone (no KMS grant), and readers need no key.
        encryption: s3.BucketEncryption.S3_MANAGED,
        versioned: true,
        blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
        enforceSSL: true,
        objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
        serverAccessLogsBucket: accessLogs,
        serverAccessLogsPrefix: 'evidence/',
        ...(props.objectLockRetention
          ? {
              objectLockEnabled: true,
              objectLockDefaultRetention:
                props.objectLockMode === 'COMPLIANCE'
                  ? s3.ObjectLockRetention.compliance(props.objectLockRetention)
                  : s3.ObjectLockRetention.governance(props.objectLockRetention),
            }
          : {}),
        lifecycleRules: [
          {
            id: 'archive-evidence',
            transitions: [
              { storageClass: s3.StorageClass.GLACIER_INSTANT_RETRIEVAL, transitionAfter: Duration.days(90) },
            ],
            ...(props.evidenceRetention ? { expiration: props.evidenceRetention } : {}),
            noncurrentVersionExpiration: Duration.days(
              props.objectLockRetention ? Math.max(30, props.objectLockRetention.toDays()) : 30,
            ),
          },
        ],
        removalPolicy,
      });
      // Member accounts index into it when this is the central stack.
      this.evidenceTable = this.createTable(removalPolicy, Boolean(props.centralEventBus));
    }
    this.evidence = { bucket: this.evidenceBucket, table: this.evidenceTable, prefix };

    // --- alarm topic ------------------------------------------------------------------------------
    if (props.alarmTopic) this.alarmTopic = props.alarmTopic;
    else {
      const key = new kms.Key(this, 'AlarmTopicKey', {
        enableKeyRotation: true,
        description: 'restore-validation alarm topic',
      });
      // CloudWatch alarms publish to the encrypted topic.
      key.grant(new iam.ServicePrincipal('cloudwatch.amazonaws.com'), 'kms:Decrypt', 'kms:GenerateDataKey');
      this.alarmTopic = new sns.Topic(this, 'AlarmTopic', {
        masterKey: key,
        enforceSSL: true,
        displayName: 'restore-validation alarms',
      });
    }

    // --- reconciler -------------------------------------------------------------------------------
    const functionsDir = props.functionsDir ?? join(PROJECT_ROOT, 'functions');
    const logGroup = new logs.LogGroup(this, 'ReconcilerLogs', {
      retention: props.logRetention ?? logs.RetentionDays.THREE_MONTHS,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.reconcilerRole = new iam.Role(this, 'ReconcilerRole', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description:
        'restore-validation reconciler: lists restore jobs, posts FAILED before windows close, invokes validators',
    });
    logGroup.grantWrite(this.reconcilerRole);
    this.grantReconciler(prefix, props.sweepTemporaryInstances !== false);

    this.reconciler = new nodejs.NodejsFunction(this, 'Reconciler', {
      description: 'Finds restore jobs left without a verdict, failed restores and untested resources',
      entry: join(functionsDir, 'reconciler', 'handler.ts'),
      handler: 'handler',
      runtime: lambda.Runtime.NODEJS_24_X,
      architecture: lambda.Architecture.ARM_64,
      memorySize: 512,
      timeout: Duration.minutes(5),
      role: this.reconcilerRole,
      logGroup,
      projectRoot: PROJECT_ROOT,
      depsLockFilePath: DEPS_LOCK_FILE,
      bundling: {
        ...cdkBundlingFields(),
        format: nodejs.OutputFormat.ESM,
        logLevel: nodejs.LogLevel.WARNING,
      },
      // One pass at a time per schedule tick is enough; a manual run alongside is still safe.
      reservedConcurrentExecutions: 2,
      retryAttempts: 0,
      environment: {
        POWERTOOLS_SERVICE_NAME: METRICS_SERVICE,
        POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
        EVIDENCE_BUCKET: this.evidenceBucket.bucketName,
        EVIDENCE_TABLE: evidenceTableRef(this.evidenceTable, this),
        EVIDENCE_PREFIX: prefix,
        ALARM_TOPIC_ARN: this.alarmTopic.topicArn,
        RECONCILER_INTERVAL_MINUTES: String(interval.toMinutes()),
        ...(props.restoreTestingPlanArns?.length
          ? { RECONCILER_PLAN_ARNS: props.restoreTestingPlanArns.join(',') }
          : {}),
        ...(props.watchRegions?.length ? { RECONCILER_WATCH_REGIONS: props.watchRegions.join(',') } : {}),
        ...(props.sweepTemporaryInstances === false ? {} : { RECONCILER_SWEEP_INSTANCES: 'true' }),
        ...(props.memberAccounts?.length
          ? {
              RECONCILER_MEMBER_ROLE_ARNS: Stack.of(this).toJsonString(
                props.memberAccounts.map((m) => m.roleArn),
              ),
              RECONCILER_MEMBER_REGIONS: (
                props.memberRegions ?? [...new Set([...(props.watchRegions ?? []), Stack.of(this).region])]
              ).join(','),
            }
          : {}),
        ...props.reconcilerEnvironment,
      },
    });
    this.schedule = new events.Rule(this, 'ReconcilerSchedule', {
      description: 'Runs the restore-validation reconciler',
      schedule: events.Schedule.rate(interval),
    });
    this.schedule.addTarget(new targets.LambdaFunction(this.reconciler, { retryAttempts: 0 }));

    // --- alarms -----------------------------------------------------------------------------------
    const metric = (name: string, statistic = 'Sum', period = Duration.minutes(5)) =>
      new cloudwatch.Metric({
        namespace: METRICS_NAMESPACE,
        metricName: name,
        dimensionsMap: { service: METRICS_SERVICE },
        statistic,
        period,
      });
    const notify = new cwActions.SnsAction(this.alarmTopic);

    // The heartbeat is emitted at the end of every pass; a missing datapoint is the signal.
    const stoppedPeriod = Duration.minutes(Math.min(interval.toMinutes() * 2, 24 * 60));
    this.reconcilerStoppedAlarm = new cloudwatch.Alarm(this, 'ReconcilerStoppedAlarm', {
      alarmDescription: `The restore-validation reconciler has not finished a pass in ${stoppedPeriod.toHumanString()}: missed events and closing windows go unnoticed.`,
      metric: metric(METRIC.reconcilerRuns, 'Sum', stoppedPeriod),
      threshold: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.BREACHING,
    });
    // One notification per outage, not one per pass: one period per schedule interval, so each pass
    // lands in a period and a failing pass after a failing pass keeps the alarm in ALARM (CloudWatch
    // notifies on state changes only). A period with no pass (schedule drift; a stopped reconciler has
    // its own alarm) keeps the state instead of flipping to OK and re-firing on the next failure. The
    // first successful pass (Errors = 0) sends OK: the outage is over.
    this.reconcilerErrorsAlarm = new cloudwatch.Alarm(this, 'ReconcilerErrorsAlarm', {
      alarmDescription:
        'Reconciler passes are failing or cannot act on some restore job, temporary instance or member account (see its log). Notified once when it starts and once (OK) when a pass succeeds again.',
      metric: this.reconciler.metricErrors({ period: interval, statistic: 'Sum' }),
      threshold: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.IGNORE,
    });
    this.untestedResourcesAlarm = new cloudwatch.Alarm(this, 'UntestedResourcesAlarm', {
      alarmDescription:
        'Protected resources in restore testing selections got no restore job in the look-back period (see the coverage report).',
      metric: metric(METRIC.untestedResources, 'Maximum', Duration.hours(1)),
      threshold: props.untestedResourcesThreshold ?? 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    this.timedOutAlarm = new cloudwatch.Alarm(this, 'ValidationTimedOutAlarm', {
      alarmDescription:
        'A restore job reached the end of its validation window without a verdict from a validator.',
      metric: metric(METRIC.timedOut, 'Sum', Duration.hours(1)),
      threshold: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    this.objectivesMissedAlarm = new cloudwatch.Alarm(this, 'ObjectivesMissedAlarm', {
      alarmDescription:
        'A restore missed its recovery time or recovery point objective (objectives in the config; see the evidence report).',
      metric: metric(METRIC.objectivesMissed, 'Sum', Duration.hours(1)),
      threshold: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    const alarms = [
      this.reconcilerStoppedAlarm,
      this.reconcilerErrorsAlarm,
      this.untestedResourcesAlarm,
      this.timedOutAlarm,
      this.objectivesMissedAlarm,
    ];
    if (props.memberAccounts?.length) {
      this.reconcilerRole.addToPolicy(
        new iam.PolicyStatement({
          sid: 'AssumeMemberAccountRoles',
          actions: ['sts:AssumeRole'],
          resources: props.memberAccounts.map((m) => m.roleArn),
        }),
      );
    }
    if (props.forwardEventsTo)
      this.forwarding = new RestoreEventForwarding(this, 'EventForwarding', props.forwardEventsTo);
    if (props.centralEventBus) {
      this.central = new CentralEvidenceReceiver(this, 'CentralReceiver', {
        memberAccountIds: props.centralEventBus.memberAccountIds,
        eventBusName: props.centralEventBus.eventBusName ?? CENTRAL_EVENT_BUS_NAME,
        ...(props.centralEventBus.eventArchiveRetention
          ? { eventArchiveRetention: props.centralEventBus.eventArchiveRetention }
          : {}),
        ...(props.centralEvidence
          ? {}
          : { evidenceBucket: this.evidenceBucket, evidenceTable: this.evidenceTable as dynamodb.Table }),
      });
    }
    if (props.forwardMetricsTo)
      this.metricsLink = new CentralMetricsLink(this, 'MetricsLink', props.forwardMetricsTo);
    if (props.centralReconciler)
      this.centralReadRole = new CentralReadRole(this, 'CentralReadRole', props.centralReconciler);
    if (props.watchRegions?.length || props.memberAccounts?.length) {
      this.unwatchedRestoresAlarm = new cloudwatch.Alarm(this, 'UnwatchedRestoreTestsAlarm', {
        alarmDescription: `Restore tests in ${[...(props.watchRegions ?? []), ...(props.memberAccounts?.length ? ['member accounts'] : [])].join(', ')} completed without a verdict or failed to restore.`,
        metric: metric(METRIC.unwatchedRestoreTests, 'Maximum', Duration.hours(1)),
        threshold: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
      alarms.push(this.unwatchedRestoresAlarm);
    }
    for (const alarm of alarms) alarm.addAlarmAction(notify);
    this.reconcilerErrorsAlarm.addOkAction(notify);

    // --- dashboard --------------------------------------------------------------------------------
    const search = (name: string, stat: string, label: string) =>
      new cloudwatch.MathExpression({
        expression: `SEARCH('{${METRICS_NAMESPACE},ResourceType,service} MetricName="${name}"', '${stat}', 3600)`,
        label,
        period: Duration.hours(1),
      });
    const daily = (name: string, label: string, color?: string) =>
      new cloudwatch.Metric({
        namespace: METRICS_NAMESPACE,
        metricName: name,
        dimensionsMap: { service: METRICS_SERVICE },
        statistic: 'Sum',
        period: Duration.days(1),
        label,
        ...(color ? { color } : {}),
      });
    this.dashboard = new cloudwatch.Dashboard(this, 'Dashboard', {
      ...(Token.isUnresolved(Stack.of(this).region)
        ? {}
        : { dashboardName: `restore-validation-${Stack.of(this).region}` }),
      defaultInterval: Duration.days(30),
      widgets: [
        [
          new cloudwatch.TextWidget({
            markdown:
              '# Restore validation\nVerdicts, restore time (RTO), data age (RPO) and the reconciler. Evidence report: `npx restore-validation report`.',
            width: 24,
            height: 2,
          }),
        ],
        [
          new cloudwatch.GraphWidget({
            title: 'Validations per day',
            width: 12,
            stacked: true,
            left: [
              new cloudwatch.MathExpression({
                expression: 'total - failed - timedout',
                usingMetrics: {
                  total: daily(METRIC.validations, 'all'),
                  failed: daily(METRIC.failed, 'f'),
                  timedout: daily(METRIC.timedOut, 't'),
                },
                label: 'successful or deferred',
                color: '#2ca02c',
                period: Duration.days(1),
              }),
              daily(METRIC.failed, 'failed', '#d62728'),
              daily(METRIC.timedOut, 'timed out', '#ff7f0e'),
            ],
          }),
          new cloudwatch.GraphWidget({
            title: 'Failed validations by resource type',
            width: 12,
            left: [search(METRIC.failed, 'Sum', '')],
          }),
        ],
        [
          new cloudwatch.GraphWidget({
            title: 'Restore time by resource type (s, max)',
            width: 8,
            left: [search(METRIC.restoreDuration, 'Maximum', '')],
          }),
          new cloudwatch.GraphWidget({
            title: 'Data age at the recovery point (min, max)',
            width: 8,
            left: [search(METRIC.dataAge, 'Maximum', '')],
          }),
          new cloudwatch.GraphWidget({
            title: 'Validation duration (ms, p90)',
            width: 8,
            left: [search(METRIC.validationDuration, 'p90', '')],
          }),
        ],
        [
          new cloudwatch.GraphWidget({
            title: 'Reconciler',
            width: 12,
            left: [
              metric(METRIC.reconcilerRuns, 'Sum', Duration.hours(1)).with({ label: 'passes' }),
              metric(METRIC.reconcilerDispatched, 'Sum', Duration.hours(1)).with({
                label: 'missed events dispatched',
              }),
              metric(METRIC.reconcilerWindowClosing, 'Sum', Duration.hours(1)).with({
                label: 'FAILED at window close',
              }),
              metric(METRIC.restoreJobsFailed, 'Sum', Duration.hours(1)).with({
                label: 'restores that failed',
              }),
            ],
            right: [
              metric(METRIC.untestedResources, 'Maximum', Duration.hours(1)).with({
                label: 'untested resources',
              }),
            ],
          }),
          new cloudwatch.AlarmStatusWidget({
            title: 'Alarms',
            width: 12,
            alarms,
          }),
        ],
      ],
    });

    // One addWidgets call per row: widgets of one call sit side by side (24 columns at most).
    if (this.central)
      for (const row of organizationRows(this.central.memberAccountIds, daily))
        this.dashboard.addWidgets(...row);

    new CfnOutput(this, 'EvidenceBucketName', {
      description: 'Evidence records (JSON)',
      value: this.evidenceBucket.bucketName,
    });
    new CfnOutput(this, 'EvidenceTableName', {
      description: 'Evidence index (queries by resource, plan, month)',
      value: this.evidenceTable.tableName,
    });
    if (this.central) {
      new CfnOutput(this, 'CentralEventBusArn', {
        description: 'Member stacks forward restore-job events here (forwardEventsTo)',
        value: this.central.eventBus.eventBusArn,
      });
      new CfnOutput(this, 'CentralMetricsSinkArn', {
        description: 'Member stacks in this region link their metrics here (forwardMetricsTo.sinkArn)',
        value: this.central.metricsSink.attrArn,
      });
      new CfnOutput(this, 'EvidenceTableArn', {
        description: 'Member stacks index evidence here (centralEvidence.tableArn)',
        value: this.evidenceTable.tableArn,
      });
    }
    new CfnOutput(this, 'ReconcilerRoleArn', {
      description: 'Central account: member roles (centralReconciler) trust this role',
      value: this.reconcilerRole.roleArn,
    });
    new CfnOutput(this, 'DashboardName', {
      description: 'CloudWatch dashboard',
      value: this.dashboard.dashboardName,
    });
  }

  /**
   * Lets the reconciler dispatch missed events to these validators (`VALIDATOR_FUNCTIONS` + invoke
   * permission on exactly these functions). Call once with the main construct's `functions`.
   */
  attachValidators(functions: Readonly<Partial<Record<ValidatorType, lambda.IFunction>>>): void {
    const entries = Object.entries(functions).filter(
      (e): e is [string, lambda.IFunction] => e[1] !== undefined,
    );
    const map: Record<string, string> = {};
    for (const [type, fn] of entries) map[type] = fn.functionName;
    this.reconciler.addEnvironment('VALIDATOR_FUNCTIONS', Stack.of(this).toJsonString(map));
    if (entries.length > 0) {
      this.reconcilerRole.addToPolicy(
        new iam.PolicyStatement({
          sid: 'InvokeValidators',
          actions: ['lambda:InvokeFunction'],
          resources: entries.map(([, fn]) => fn.functionArn),
        }),
      );
    }
  }

  /**
   * @param crossAccount other accounts write to it: DynamoDB refuses cross-account access to a table
   * encrypted with the AWS managed key, so it is encrypted with an AWS owned key instead (still
   * encrypted at rest, no key policy to keep in step with the member list).
   */
  private createTable(removalPolicy: RemovalPolicy, crossAccount: boolean): dynamodb.Table {
    const table = new dynamodb.Table(this, 'EvidenceIndex', {
      partitionKey: { name: EVIDENCE_TABLE_PARTITION_KEY, type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      encryption: crossAccount ? dynamodb.TableEncryption.DEFAULT : dynamodb.TableEncryption.AWS_MANAGED,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      deletionProtection: removalPolicy === RemovalPolicy.RETAIN,
      // Reconciler claims expire; evidence items carry no expiry unless a retention is configured.
      timeToLiveAttribute: EVIDENCE_TTL_ATTRIBUTE,
      removalPolicy,
    });
    for (const [indexName, ix] of Object.entries(EVIDENCE_INDEXES)) {
      table.addGlobalSecondaryIndex({
        indexName,
        partitionKey: { name: ix.partitionKey, type: dynamodb.AttributeType.STRING },
        sortKey: { name: ix.sortKey, type: dynamodb.AttributeType.STRING },
        projectionType: dynamodb.ProjectionType.ALL,
      });
    }
    return table;
  }

  private grantReconciler(prefix: string, sweep: boolean): void {
    const role = this.reconcilerRole;
    const stack = Stack.of(this);
    if (sweep) {
      role.addToPolicy(
        new iam.PolicyStatement({
          sid: 'FindTemporaryInstances',
          actions: ['tag:GetResources'],
          resources: ['*'],
        }),
      );
      const dbInstances = stack.formatArn({
        service: 'rds',
        resource: 'db',
        resourceName: '*',
        arnFormat: ArnFormat.COLON_RESOURCE_NAME,
      });
      role.addToPolicy(
        new iam.PolicyStatement({
          sid: 'DescribeTemporaryInstances',
          actions: ['rds:DescribeDBInstances'],
          resources: [dbInstances],
        }),
      );
      // Only instances carrying the created-by tag; the code also checks the cluster is a restore test.
      role.addToPolicy(
        new iam.PolicyStatement({
          sid: 'DeleteTemporaryInstances',
          actions: ['rds:DeleteDBInstance'],
          resources: [dbInstances],
          conditions: { Null: { [`aws:ResourceTag/${CREATED_BY_TAG}`]: 'false' } },
        }),
      );
      // EFS mount targets left on restore-test file systems (functions/efs/sweep.ts).
      const fileSystems = stack.formatArn({
        service: 'elasticfilesystem',
        resource: 'file-system',
        resourceName: '*',
      });
      role.addToPolicy(
        new iam.PolicyStatement({
          sid: 'DescribeLeftMountTargets',
          actions: ['elasticfilesystem:DescribeFileSystems', 'elasticfilesystem:DescribeMountTargets'],
          resources: [fileSystems],
        }),
      );
      role.addToPolicy(
        new iam.PolicyStatement({
          sid: 'DeleteLeftMountTargets',
          actions: ['elasticfilesystem:DeleteMountTarget'],
          resources: [fileSystems],
          conditions: { Null: { [`aws:ResourceTag/${RESTORE_TEST_TAG}`]: 'false' } },
        }),
      );
      // EFS deletes the mount target's network interface with the caller's permissions.
      role.addToPolicy(
        new iam.PolicyStatement({
          sid: 'DeleteMountTargetInterfaces',
          actions: ['ec2:DeleteNetworkInterface'],
          resources: [stack.formatArn({ service: 'ec2', resource: 'network-interface', resourceName: '*' })],
        }),
      );
    }
    // AWS Backup has no resource-level permissions for these restore-job calls; Resource must be *.
    role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'ReadRestoreJobsAndPostVerdicts',
        actions: [
          'backup:ListRestoreJobs',
          'backup:DescribeRestoreJob',
          'backup:PutRestoreValidationResult',
          'backup:ListRestoreTestingPlans',
          'backup:ListProtectedResources',
        ],
        resources: ['*'],
      }),
    );
    role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'ReadRestoreTestingSelections',
        actions: [
          'backup:ListRestoreTestingSelections',
          'backup:GetRestoreTestingSelection',
          'backup:GetRestoreTestingPlan',
        ],
        resources: [
          stack.formatArn({
            service: 'backup',
            resource: 'restore-testing-plan',
            resourceName: '*',
            arnFormat: ArnFormat.COLON_RESOURCE_NAME,
          }),
        ],
      }),
    );
    role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'WriteEvidence',
        actions: ['s3:PutObject'],
        resources: [this.evidenceBucket.arnForObjects(`${prefix}*`)],
      }),
    );
    role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'EvidenceIndexAndClaims',
        actions: ['dynamodb:PutItem', 'dynamodb:BatchGetItem'],
        resources: [this.evidenceTable.tableArn],
      }),
    );
    role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'PublishNotifications',
        actions: ['sns:Publish'],
        resources: [this.alarmTopic.topicArn],
      }),
    );
    const key = (this.alarmTopic as { masterKey?: kms.IKey }).masterKey;
    if (key) key.grant(role, 'kms:Decrypt', 'kms:GenerateDataKey');
  }
}

/** Accounts per organization graph (CloudWatch's limit per graph widget is well above; this keeps it legible). */
const ACCOUNTS_PER_GRAPH = 100;

/**
 * The central dashboard's organization rows: validations, failures and time-outs per day, one line per
 * member account (metrics that reach this account through the members' `forwardMetricsTo` links).
 */
function organizationRows(
  accounts: readonly string[],
  daily: (name: string, label: string) => cloudwatch.Metric,
): cloudwatch.IWidget[][] {
  const rows: cloudwatch.IWidget[][] = [
    [
      new cloudwatch.TextWidget({
        markdown: `## Organization\n${accounts.length} member account(s), linked through CloudWatch cross-account observability (\`forwardMetricsTo\`). An account with no line here has linked no metrics or run no validation.`,
        width: 24,
        height: 2,
      }),
    ],
  ];
  for (let i = 0; i < accounts.length; i += ACCOUNTS_PER_GRAPH) {
    const chunk = accounts.slice(i, i + ACCOUNTS_PER_GRAPH);
    const part = accounts.length > ACCOUNTS_PER_GRAPH ? ` (${i + 1}–${i + chunk.length})` : '';
    const perAccount = (name: string) => chunk.map((a) => daily(name, a).with({ account: a }));
    rows.push([
      new cloudwatch.GraphWidget({
        title: `Validations per day by account${part}`,
        width: 8,
        left: perAccount(METRIC.validations),
      }),
      new cloudwatch.GraphWidget({
        title: `Failed validations per day by account${part}`,
        width: 8,
        left: perAccount(METRIC.failed),
      }),
      new cloudwatch.GraphWidget({
        title: `Timed-out validations per day by account${part}`,
        width: 8,
        left: perAccount(METRIC.timedOut),
      }),
    ]);
  }
  return rows;
}

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
  type aws_iam as iam,
  type aws_lambda as lambda,
  aws_logs as logs,
  type aws_lambda_nodejs as nodejs,
  RemovalPolicy,
  Stack,
  aws_s3 as s3,
  type aws_sns as sns,
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
import { PROJECT_ROOT } from '../bundling';
import { allow, encryptedAlarmTopic, grantPublish, nodeFunction, onceAlarm } from '../core';
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
import { restoreValidationDashboard, restoreValidationMetric } from './dashboard';
import { OperationsPropsError, type RestoreValidationOperationsProps } from './operations-props';

export { OperationsPropsError, type RestoreValidationOperationsProps } from './operations-props';

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
    this.alarmTopic = props.alarmTopic ?? encryptedAlarmTopic(this);

    // --- reconciler -------------------------------------------------------------------------------
    const functionsDir = props.functionsDir ?? join(PROJECT_ROOT, 'functions');
    this.reconciler = nodeFunction(this, 'Reconciler', {
      roleDescription:
        'restore-validation reconciler: lists restore jobs, posts FAILED before windows close, invokes validators',
      description: 'Finds restore jobs left without a verdict, failed restores and untested resources',
      entry: join(functionsDir, 'reconciler', 'handler.ts'),
      memorySize: 512,
      timeout: Duration.minutes(5),
      logRetention: props.logRetention ?? logs.RetentionDays.THREE_MONTHS,
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
        ...(props.dryRun ? { RESTORE_VALIDATION_DRY_RUN: 'true' } : {}),
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
    this.reconcilerRole = this.reconciler.role as iam.Role;
    this.grantReconciler(prefix, props.sweepTemporaryInstances !== false);
    this.schedule = new events.Rule(this, 'ReconcilerSchedule', {
      description: 'Runs the restore-validation reconciler',
      schedule: events.Schedule.rate(interval),
    });
    this.schedule.addTarget(new targets.LambdaFunction(this.reconciler, { retryAttempts: 0 }));

    // --- alarms -----------------------------------------------------------------------------------
    const metric = restoreValidationMetric;
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
    // onceAlarm notifies the topic itself; the alarms above get the action below.
    this.timedOutAlarm = onceAlarm(
      this,
      'ValidationTimedOutAlarm',
      'A restore job reached the end of its validation window without a verdict from a validator.',
      metric(METRIC.timedOut, 'Sum', Duration.hours(1)),
      this.alarmTopic,
    );
    this.objectivesMissedAlarm = onceAlarm(
      this,
      'ObjectivesMissedAlarm',
      'A restore missed its recovery time or recovery point objective (objectives in the config; see the evidence report).',
      metric(METRIC.objectivesMissed, 'Sum', Duration.hours(1)),
      this.alarmTopic,
    );
    const notified = [this.reconcilerStoppedAlarm, this.reconcilerErrorsAlarm, this.untestedResourcesAlarm];
    if (props.memberAccounts?.length) {
      allow(this.reconcilerRole, {
        sid: 'AssumeMemberAccountRoles',
        actions: ['sts:AssumeRole'],
        resources: props.memberAccounts.map((m) => m.roleArn),
        why: 'the member account roles named in memberAccounts only',
      });
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
      this.unwatchedRestoresAlarm = onceAlarm(
        this,
        'UnwatchedRestoreTestsAlarm',
        `Restore tests in ${[...(props.watchRegions ?? []), ...(props.memberAccounts?.length ? ['member accounts'] : [])].join(', ')} completed without a verdict or failed to restore.`,
        metric(METRIC.unwatchedRestoreTests, 'Maximum', Duration.hours(1)),
        this.alarmTopic,
      );
    }
    for (const alarm of notified) alarm.addAlarmAction(notify);
    this.reconcilerErrorsAlarm.addOkAction(notify);

    const alarms = [
      ...notified,
      this.timedOutAlarm,
      this.objectivesMissedAlarm,
      ...(this.unwatchedRestoresAlarm ? [this.unwatchedRestoresAlarm] : []),
    ];
    this.dashboard = restoreValidationDashboard(this, alarms, metric, this.central?.memberAccountIds);

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
      allow(this.reconcilerRole, {
        sid: 'InvokeValidators',
        actions: ['lambda:InvokeFunction'],
        resources: entries.map(([, fn]) => fn.functionArn),
        why: 'the validator functions attached here only',
      });
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

  /**
   * The reconciler's statements; each wildcard is acknowledged with its statement's reason (allow()).
   */
  private grantReconciler(prefix: string, sweep: boolean): void {
    const role = this.reconcilerRole;
    const stack = Stack.of(this);
    const arn = (service: string, resource: string, colon = false) =>
      stack.formatArn({
        service,
        resource,
        resourceName: '*',
        ...(colon ? { arnFormat: ArnFormat.COLON_RESOURCE_NAME } : {}),
      });
    if (sweep) {
      const dbInstances = arn('rds', 'db', true);
      const fileSystems = arn('elasticfilesystem', 'file-system');
      allow(role, {
        sid: 'FindTemporaryInstances',
        actions: ['tag:GetResources'],
        resources: ['*'],
        why: 'tag:GetResources has no resource-level permissions; the sweep asks only for rds:db resources tagged restore-validation:created-by',
      });
      allow(role, {
        sid: 'DescribeTemporaryInstances',
        actions: ['rds:DescribeDBInstances'],
        resources: [dbInstances],
        why: 'the temporary DB instances the sweep looks at are named per restore job, so any DB instance of this account and region',
      });
      // Only instances carrying the created-by tag; the code also checks the cluster is a restore test.
      allow(role, {
        sid: 'DeleteTemporaryInstances',
        actions: ['rds:DeleteDBInstance'],
        resources: [dbInstances],
        conditions: { Null: { [`aws:ResourceTag/${CREATED_BY_TAG}`]: 'false' } },
        why: 'temporary DB instances are named per restore job; the statement is limited to instances tagged restore-validation:created-by, and the code also requires a restore-test cluster',
      });
      // EFS mount targets left on restore-test file systems (shared/files/sweep.ts).
      allow(role, {
        sid: 'DescribeLeftMountTargets',
        actions: ['elasticfilesystem:DescribeFileSystems', 'elasticfilesystem:DescribeMountTargets'],
        resources: [fileSystems],
        why: 'restored EFS file systems get generated ids; the sweep only reads them and deletes mount targets of restore-test ones',
      });
      allow(role, {
        sid: 'DeleteLeftMountTargets',
        actions: ['elasticfilesystem:DeleteMountTarget'],
        resources: [fileSystems],
        conditions: { Null: { [`aws:ResourceTag/${RESTORE_TEST_TAG}`]: 'false' } },
        why: 'restored EFS file systems get generated ids; limited to file systems tagged awsbackup-restore-test, and the code also checks the name/tag guard',
      });
      // EFS deletes the mount target's network interface with the caller's permissions.
      allow(role, {
        sid: 'DeleteMountTargetInterfaces',
        actions: ['ec2:DeleteNetworkInterface'],
        resources: [arn('ec2', 'network-interface')],
        why: 'EFS deletes the mount target network interface with the caller permissions; its id is generated by EFS',
      });
    }
    allow(role, {
      sid: 'ReadRestoreJobsAndPostVerdicts',
      actions: [
        'backup:ListRestoreJobs',
        'backup:DescribeRestoreJob',
        'backup:PutRestoreValidationResult',
        'backup:ListRestoreTestingPlans',
        'backup:ListProtectedResources',
      ],
      resources: ['*'],
      why: 'AWS Backup has no resource-level permissions for ListRestoreJobs, DescribeRestoreJob, PutRestoreValidationResult, ListRestoreTestingPlans or ListProtectedResources: Resource must be *',
    });
    allow(role, {
      sid: 'ReadRestoreTestingSelections',
      actions: [
        'backup:ListRestoreTestingSelections',
        'backup:GetRestoreTestingSelection',
        'backup:GetRestoreTestingPlan',
      ],
      resources: [arn('backup', 'restore-testing-plan', true)],
      why: "the reconciler reads every restore testing plan's selections in this account and region to find resources that got no restore job",
    });
    allow(role, {
      sid: 'WriteEvidence',
      actions: ['s3:PutObject'],
      resources: [this.evidenceBucket.arnForObjects(`${prefix}*`)],
      why: 'evidence records are written under generated keys, only below the evidence prefix of the evidence bucket',
    });
    allow(role, {
      sid: 'EvidenceIndexAndClaims',
      actions: ['dynamodb:PutItem', 'dynamodb:BatchGetItem'],
      resources: [this.evidenceTable.tableArn],
      why: 'the evidence index table only',
    });
    grantPublish(role, this.alarmTopic);
  }
}

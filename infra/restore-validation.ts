/**
 * `RestoreValidation`: the reusable construct that validates AWS Backup restore tests. One Lambda
 * per validator type, triggered by one EventBridge rule per type on `Restore Job State Change`
 * (COMPLETED), async retries into an encrypted SQS dead-letter queue whose consumer posts FAILED, the
 * Powertools idempotency table, least-privilege roles, alarms, and the validated config bundled into
 * every function.
 * @see https://docs.aws.amazon.com/aws-backup/latest/devguide/restore-testing.html
 * @see https://docs.aws.amazon.com/aws-backup/latest/devguide/eventbridge.html
 */
import { join, resolve } from 'node:path';
import {
  Annotations,
  CfnOutput,
  Duration,
  aws_dynamodb as dynamodb,
  aws_ec2 as ec2,
  aws_lambda_event_sources as eventSources,
  type aws_events as events,
  type aws_iam as iam,
  aws_logs as logs,
  type aws_lambda_nodejs as nodejs,
  RemovalPolicy,
  aws_rds as rds,
  Stack,
  type aws_sns as sns,
  aws_sqs as sqs,
} from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { RESOURCE_TYPE_MODULES } from '../functions/types';
import type { Config } from '../shared/config';
import { VALIDATOR_TYPES, type ValidatorType } from '../shared/resource-types';
import { type ConfigAccess, configAccess } from './config-access';
import { evidenceTableRef } from './constructs/central';
import {
  type AddCheckProps,
  type AddValidatorProps,
  addCheckExtension,
  addCustomValidator,
  type CheckExtension,
  type CustomValidator,
  type ExtensionHost,
} from './constructs/custom-validator';
import { EbsHelper } from './constructs/ebs-helper';
import { RestoreTesting } from './constructs/restore-testing';
import { S3DistributedMap } from './constructs/s3-distributed-map';
import { ValidatorFunction } from './constructs/validator-function';
import { type AllowSpec, allow, encryptedAlarmTopic, nodeFunction, onceAlarm } from './core';
import { attachSinks, backupSpec, grantLifecycle, type Sinks } from './lifecycle';
import {
  checkProps,
  type RestoreValidationProps,
  RestoreValidationPropsError,
} from './restore-validation-props';
import { assertLocalEsbuild, handlersDir, loadAndSerializeConfig, readPackageVersion } from './synth-inputs';
import { comparedBuckets, STACK_AWS, s3KmsDecrypt, type TypeContext, typeStatementsFor } from './types';

export { eventPatternFor } from './constructs/validator-function';
export type { AllowSpec } from './core';
export {
  type EbsHelperOptions,
  type EvidenceSettings,
  type FunctionSettings,
  type RestoreValidationProps,
  RestoreValidationPropsError,
  type S3DistributedMapOptions,
} from './restore-validation-props';
export { DB_VALIDATOR_TYPES, DEFAULT_TIMEOUT_MINUTES, s3KmsDecrypt, typeStatements } from './types';

/** File name of the bundled config inside each function's asset (`/var/task/<this>`). */
export const BUNDLED_CONFIG_FILE = 'restore-validation.config.json';

/** Ports the validators open to restored databases (PostgreSQL, MySQL/MariaDB, DocumentDB, Neptune). */
export const DB_PORTS = [5432, 3306, 27017, 8182] as const;

const pascal = (type: string): string =>
  ({ documentdb: 'DocumentDb', dynamodb: 'DynamoDb', fsx: 'FSx' })[type] ??
  type.charAt(0).toUpperCase() + type.slice(1);

/**
 * Validates AWS Backup restore tests in one account and region. See docs/deploy.md.
 *
 * Composition: shared resources (idempotency table, dead-letter queues, alarm topic, network), one
 * {@link ValidatorFunction} per type, the sub-constructs the validators hand long work to (EBS
 * helper, S3 distributed map), the DLQ consumer and the restore testing plans. Extensions attach
 * through {@link addToValidatorPolicy}, {@link addEnvironment}, {@link addValidator} and
 * {@link addCheck}.
 */
export class RestoreValidation extends Construct {
  /** Validator functions by type. */
  readonly functions: Readonly<Partial<Record<ValidatorType, nodejs.NodejsFunction>>>;
  /** Execution role of each validator (one per type: least privilege per type). */
  readonly roles: Readonly<Partial<Record<ValidatorType, iam.Role>>>;
  /** EventBridge rules by validator type. */
  readonly rules: Readonly<Partial<Record<ValidatorType, events.Rule>>>;
  /** The deployed validators (function, role, rule, alarm) by type. */
  readonly validators: Readonly<Partial<Record<ValidatorType, ValidatorFunction>>>;
  /** Dead-letter queue of every rule target and every async invoke; drained by {@link dlqConsumer}. */
  readonly dlq: sqs.Queue;
  /** Where DLQ messages the consumer could not process end up (alarmed). */
  readonly parkingQueue: sqs.Queue;
  /** Posts FAILED for every restore job a DLQ message names. */
  readonly dlqConsumer: nodejs.NodejsFunction;
  /** Powertools idempotency table (one record per restore job). */
  readonly idempotencyTable: dynamodb.Table;
  /** Security group of the database validators (when `vpc` is given). */
  readonly securityGroup?: ec2.ISecurityGroup;
  /** DB subnet group restores should use (the `dbSubnetGroupName` override), when `vpc` is given. */
  readonly dbSubnetGroup?: rds.SubnetGroup;
  /** Alarm and notification topic. */
  readonly alarmTopic: sns.ITopic;
  /** The validated config, as parsed at synth. */
  readonly config: Config;
  /** Absolute path of the validated config file. */
  readonly configPath: string;
  /** Validator types deployed. */
  readonly resourceTypes: readonly ValidatorType[];

  /** The EBS helper flow, when deployed. */
  readonly ebsHelper?: EbsHelper;
  /** The S3 Distributed Map comparison, when deployed. */
  readonly s3DistributedMap?: S3DistributedMap;
  /** Restore testing plans and selections of the config's `restoreTesting` section, when it has plans. */
  readonly restoreTesting?: RestoreTesting;

  private readonly props: RestoreValidationProps;
  private readonly access: Record<ValidatorType, ConfigAccess>;
  private readonly sinks: Sinks;
  /** What addValidator/addCheck share with the built-in validators (settings, grants, functions). */
  private readonly extensionHost: ExtensionHost;

  constructor(scope: Construct, id: string, props: RestoreValidationProps = {}) {
    super(scope, id);
    checkProps(props);
    this.props = props;
    const stack = Stack.of(this);
    this.resourceTypes = props.resourceTypes ? [...props.resourceTypes] : [...VALIDATOR_TYPES];
    const functionsDir = handlersDir(props.functionsDir, this.resourceTypes);
    if (stack.bundlingRequired) assertLocalEsbuild();
    this.configPath = resolve(props.configPath ?? 'validation.config.yaml');
    const { config, file: bundledConfig } = loadAndSerializeConfig(this.configPath);
    this.config = config;
    this.access = configAccess(config);

    // --- shared resources ---------------------------------------------------------------------
    this.idempotencyTable = new dynamodb.Table(this, 'IdempotencyTable', {
      partitionKey: { name: 'id', type: dynamodb.AttributeType.STRING },
      timeToLiveAttribute: 'expiration',
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      encryption: dynamodb.TableEncryption.AWS_MANAGED,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      // Idempotency records expire within hours; nothing of value is lost on stack deletion.
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.parkingQueue = new sqs.Queue(this, 'DlqParkingQueue', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    const dlqConsumerTimeout = Duration.seconds(60);
    this.dlq = new sqs.Queue(this, 'DeadLetterQueue', {
      // SSE-SQS: EventBridge cannot send to a queue encrypted with the AWS managed KMS key.
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
      visibilityTimeout: Duration.seconds(dlqConsumerTimeout.toSeconds() * 6),
      deadLetterQueue: { queue: this.parkingQueue, maxReceiveCount: 5 },
    });
    this.alarmTopic = props.alarmTopic ?? encryptedAlarmTopic(this);
    this.sinks = { alarmTopic: this.alarmTopic, evidence: props.evidence };

    if (props.vpc) {
      this.securityGroup = props.securityGroup ?? this.createSecurityGroup(props.vpc);
      if (this.resourceTypes.some((t) => RESOURCE_TYPE_MODULES[t].database)) {
        this.dbSubnetGroup = new rds.SubnetGroup(this, 'DbSubnetGroup', {
          vpc: props.vpc,
          vpcSubnets: props.vpcSubnets,
          description: 'Where restore tests restore databases so the validators can reach them',
          removalPolicy: RemovalPolicy.DESTROY,
        });
      }
    }

    const logRetention = props.logRetention ?? logs.RetentionDays.THREE_MONTHS;
    const maxEventAge = props.maxEventAge ?? Duration.hours(2);
    const version = readPackageVersion();
    const environment: Record<string, string> = {
      RESTORE_VALIDATION_CONFIG: `/var/task/${BUNDLED_CONFIG_FILE}`,
      IDEMPOTENCY_TABLE_NAME: this.idempotencyTable.tableName,
      ALARM_TOPIC_ARN: this.alarmTopic.topicArn,
      RESTORE_VALIDATION_VERSION: version,
      POWERTOOLS_SERVICE_NAME: 'restore-validation',
      ...(props.dryRun ? { RESTORE_VALIDATION_DRY_RUN: 'true' } : {}),
      ...(props.evidence ? { EVIDENCE_BUCKET: props.evidence.bucket.bucketName } : {}),
      ...(props.evidence?.table ? { EVIDENCE_TABLE: evidenceTableRef(props.evidence.table, this) } : {}),
      ...(props.evidence?.prefix ? { EVIDENCE_PREFIX: props.evidence.prefix } : {}),
      ...props.environment,
    };
    this.extensionHost = {
      scope: this,
      environment,
      bundledConfigFile: bundledConfig,
      bundledConfigName: BUNDLED_CONFIG_FILE,
      dlq: this.dlq,
      alarmTopic: this.alarmTopic,
      maxEventAge,
      asyncRetryAttempts: props.asyncRetryAttempts ?? 2,
      eventRetryAttempts: props.eventRetryAttempts ?? 8,
      logRetention,
      memorySize: props.memorySize ?? 1024,
      timeout: props.timeout ?? Duration.minutes(10),
      restoreTestingPlanArns: props.restoreTestingPlanArns,
      vpc: props.vpc,
      vpcSubnets: props.vpcSubnets,
      securityGroup: this.securityGroup,
      builtIns: {},
      grantCommon: (role, inVpc) => this.grantCommon(role, inVpc),
      grantType: (role, type) => this.grantType(role, type),
    };

    // --- validators -----------------------------------------------------------------------------
    const validators: Partial<Record<ValidatorType, ValidatorFunction>> = {};
    const reserveSeconds = config.defaults.reserveSeconds;
    for (const type of this.resourceTypes) {
      const settings = props.functionSettings?.[type];
      const timeout =
        settings?.timeout ?? props.timeout ?? Duration.minutes(RESOURCE_TYPE_MODULES[type].timeoutMinutes);
      if (!timeout.isUnresolved() && timeout.toSeconds() <= reserveSeconds + 30) {
        throw new RestoreValidationPropsError(
          `the ${type} timeout ${timeout.toHumanString()} leaves no time for checks after the config's reserveSeconds ${reserveSeconds}: raise the timeout or lower defaults.reserveSeconds in ${this.configPath}.`,
        );
      }
      const validator = new ValidatorFunction(this, `${pascal(type)}Validator`, {
        host: this.extensionHost,
        type,
        context: this.typeContext(type),
        entry: join(functionsDir, type, 'handler.ts'),
        bundledConfigFile: bundledConfig,
        bundledConfigName: BUNDLED_CONFIG_FILE,
        memorySize: settings?.memorySize ?? props.memorySize,
        timeout,
      });
      for (const why of this.access[type].broadened)
        Annotations.of(validator.function).addWarningV2(
          'restore-validation:broadIamFromConfig',
          `${why}; IAM access was widened to every resource of that kind. Add a plain glob to match.sourceResourceArn to narrow it.`,
        );
      validators[type] = validator;
    }
    const each = <T>(pick: (v: ValidatorFunction) => T) =>
      Object.fromEntries(Object.entries(validators).map(([t, v]) => [t, pick(v)])) as Partial<
        Record<ValidatorType, T>
      >;
    this.validators = validators;
    this.functions = each((v) => v.function);
    this.roles = each((v) => v.role);
    this.rules = each((v) => v.rule);
    this.extensionHost = { ...this.extensionHost, builtIns: this.functions };

    // --- sub-constructs: long-running flows the validators hand work to ----------------------------
    const { ebs, s3 } = this.functions;
    if (ebs && props.vpc && props.ebsHelper?.enabled !== false) {
      const { enabled: _, ...helperProps } = props.ebsHelper ?? {};
      this.ebsHelper = new EbsHelper(this, 'EbsHelper', {
        ...helperProps,
        vpc: props.vpc,
        vpcSubnets: props.vpcSubnets,
        logRetention,
      });
      this.ebsHelper.attachTo(ebs);
      attachSinks(this.ebsHelper.stepsFunction, environment, this.sinks);
    }
    if (s3 && props.s3DistributedMap?.enabled !== false) {
      const { enabled: _, ...mapProps } = props.s3DistributedMap ?? {};
      const readableBuckets = mapProps.readableBuckets ?? comparedBuckets(this.access.s3.sourceBuckets);
      this.s3DistributedMap = new S3DistributedMap(this, 'S3DistributedMap', {
        ...mapProps,
        readableBuckets,
        logRetention,
      });
      this.s3DistributedMap.attachTo(s3);
      // The workers read the same objects with the same HeadObject (ChecksumMode) as the validator.
      allow(
        this.s3DistributedMap.workerFunction.role as iam.IRole,
        s3KmsDecrypt(readableBuckets, props.s3KmsKeyArns),
      );
      attachSinks(this.s3DistributedMap.mergeFunction, environment, this.sinks);
    }

    // --- DLQ consumer ---------------------------------------------------------------------------
    this.dlqConsumer = nodeFunction(this, 'DlqConsumer', {
      roleDescription: 'restore-validation DLQ consumer: posts FAILED for undelivered restore job events',
      description: 'Posts FAILED for restore jobs whose validation event could not be delivered or processed',
      entry: join(functionsDir, 'dlq', 'handler.ts'),
      memorySize: 256,
      timeout: dlqConsumerTimeout,
      logRetention,
      environment: {
        POWERTOOLS_SERVICE_NAME: 'restore-validation-dlq',
        RESTORE_VALIDATION_VERSION: version,
        ...(props.dryRun ? { RESTORE_VALIDATION_DRY_RUN: 'true' } : {}),
      },
    });
    allow(
      this.dlqConsumer.role as iam.IRole,
      backupSpec(['backup:DescribeRestoreJob', 'backup:PutRestoreValidationResult']),
    );
    this.dlqConsumer.addEventSource(
      new eventSources.SqsEventSource(this.dlq, { batchSize: 10, reportBatchItemFailures: true }),
    );
    const fiveMinutes = { period: Duration.minutes(5), statistic: 'Sum' };
    onceAlarm(
      this,
      'DlqMessagesAlarm',
      'A restore job event could not be validated (undelivered or the validator failed); the DLQ consumer posts FAILED for it.',
      this.dlq.metricNumberOfMessagesSent(fiveMinutes),
      this.alarmTopic,
    );
    onceAlarm(
      this,
      'DlqParkingAlarm',
      'The DLQ consumer could not process a message 5 times: a restore job may be left without a verdict (TIMED_OUT).',
      this.parkingQueue.metricApproximateNumberOfMessagesVisible({ ...fiveMinutes, statistic: 'Maximum' }),
      this.alarmTopic,
    );
    onceAlarm(
      this,
      'DlqConsumerErrorsAlarm',
      'The DLQ consumer Lambda failed.',
      this.dlqConsumer.metricErrors(fiveMinutes),
      this.alarmTopic,
    );

    if (config.restoreTesting?.plans.length) {
      this.restoreTesting = new RestoreTesting(this, 'RestoreTesting', {
        restoreTesting: config.restoreTesting,
        config,
        securityGroup: this.securityGroup,
        dbSubnetGroup: this.dbSubnetGroup,
        // Restored volumes land where the EBS helper has a subnet (else a random AZ).
        ebsAvailabilityZone: this.ebsHelper
          ? props.vpc?.selectSubnets(props.vpcSubnets).availabilityZones[0]
          : undefined,
      });
    }
    this.addOutputs();
  }

  /**
   * Adds a statement to the role of every validator (or of the given types). When it holds a
   * wildcard, `why` becomes the cdk-nag acknowledgement reason (required then).
   */
  addToValidatorPolicy(spec: AllowSpec, types: readonly ValidatorType[] = this.resourceTypes): void {
    for (const t of types) {
      const role = this.roles[t];
      if (role) allow(role, spec);
    }
  }

  /**
   * Deploys a validator of your own (a module exporting `defineValidator()`) for the restore jobs
   * `match` selects, with the shared lifecycle, settings, permissions and DLQ. Those jobs are then
   * validated by it instead of the built-in validator. See docs/extending.md.
   */
  addValidator(props: AddValidatorProps): CustomValidator {
    return addCustomValidator(this.extensionHost, props);
  }

  /**
   * Ships a check kind module (registerCheckKind + registerCheckImplementation) to the validators,
   * which load it before reading the config. Import the same module in your CDK app before creating
   * this construct, so synth validates configs that use the kind. See docs/extending.md.
   */
  addCheck(props: AddCheckProps): CheckExtension {
    return addCheckExtension(this.extensionHost, props);
  }

  /** Sets an environment variable on every validator (or the given types). */
  addEnvironment(name: string, value: string, types: readonly ValidatorType[] = this.resourceTypes): void {
    for (const t of types) this.functions[t]?.addEnvironment(name, value);
  }

  /** The built-in type's read permissions, scoped by the config (ExtensionHost). */
  grantType(role: iam.Role, type: ValidatorType): void {
    for (const spec of typeStatementsFor(type, this.typeContext(type))) allow(role, spec);
  }

  /** The lifecycle's permissions: Backup, idempotency, topic, evidence, VPC ENIs (ExtensionHost). */
  grantCommon(role: iam.Role, inVpc: boolean): void {
    grantLifecycle(role, { ...this.sinks, idempotencyTable: this.idempotencyTable, inVpc });
  }

  private typeContext(type: ValidatorType): TypeContext {
    return {
      aws: STACK_AWS,
      access: this.access[type],
      s3KmsKeyArns: this.props.s3KmsKeyArns,
      fileSystemHelper: this.props.fileSystemHelper,
    };
  }

  /** The database validators' group; restored databases get it too and it admits itself on DB ports. */
  private createSecurityGroup(vpc: ec2.IVpc): ec2.SecurityGroup {
    const group = new ec2.SecurityGroup(this, 'ValidatorSecurityGroup', {
      vpc,
      description:
        'restore-validation database validators; restored databases get it too (vpcSecurityGroupIds override)',
      allowAllOutbound: true,
    });
    for (const port of DB_PORTS)
      group.addIngressRule(group, ec2.Port.tcp(port), `validators to restored databases on ${port}`);
    return group;
  }

  private addOutputs(): void {
    const stack = Stack.of(this);
    if (this.securityGroup && this.dbSubnetGroup) {
      new CfnOutput(this, 'DatabaseRestoreMetadataOverrides', {
        description:
          'RestoreMetadataOverrides for restore testing selections of RDS/Aurora/DocumentDB/Neptune: restores land where the validators can reach them, with IAM database authentication.',
        value: stack.toJsonString({
          vpcSecurityGroupIds: stack.toJsonString([this.securityGroup.securityGroupId]),
          dbSubnetGroupName: this.dbSubnetGroup.subnetGroupName,
          enableIamDatabaseAuthentication: 'true',
        }),
      });
      new CfnOutput(this, 'ValidatorSecurityGroupId', {
        description: 'Security group of the database validators',
        value: this.securityGroup.securityGroupId,
      });
      new CfnOutput(this, 'DbSubnetGroupName', {
        description: 'DB subnet group for restore tests',
        value: this.dbSubnetGroup.subnetGroupName,
      });
    }
    new CfnOutput(this, 'DeadLetterQueueUrl', {
      description: 'Undelivered restore job events (drained by the DLQ consumer)',
      value: this.dlq.queueUrl,
    });
    new CfnOutput(this, 'AlarmTopicArn', {
      description: 'Alarms and FAILED notifications',
      value: this.alarmTopic.topicArn,
    });
  }
}

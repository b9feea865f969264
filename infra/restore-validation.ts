/**
 * `RestoreValidation`: the reusable construct that validates AWS Backup restore tests. One Lambda
 * per validator type, triggered by one EventBridge rule per type on `Restore Job State Change`
 * (COMPLETED), async retries into an encrypted SQS dead-letter queue whose consumer posts FAILED, the
 * Powertools idempotency table, least-privilege roles, alarms, and the validated config bundled into
 * every function.
 * @see https://docs.aws.amazon.com/aws-backup/latest/devguide/restore-testing.html
 * @see https://docs.aws.amazon.com/aws-backup/latest/devguide/eventbridge.html
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import {
  Annotations,
  Aws,
  CfnOutput,
  aws_cloudwatch as cloudwatch,
  aws_cloudwatch_actions as cwActions,
  Duration,
  aws_lambda_destinations as destinations,
  aws_dynamodb as dynamodb,
  aws_ec2 as ec2,
  aws_lambda_event_sources as eventSources,
  aws_events as events,
  aws_iam as iam,
  aws_kms as kms,
  aws_lambda as lambda,
  aws_logs as logs,
  aws_lambda_nodejs as nodejs,
  RemovalPolicy,
  aws_rds as rds,
  Stack,
  type aws_s3 as s3,
  aws_sns as sns,
  aws_sqs as sqs,
  Token,
  aws_events_targets as targets,
  Validations,
} from 'aws-cdk-lib';
import { Construct } from 'constructs';
import YAML from 'yaml';
import { type Config, loadConfigFile } from '../shared/config';
import { CREATED_BY_TAG, RESTORE_TEST_PREFIX, RESTORE_TEST_TAG } from '../shared/guard';
import { RESOURCE_TYPES_BY_VALIDATOR, VALIDATOR_TYPES, type ValidatorType } from '../shared/resource-types';
import { cdkBundlingFields, DEPS_LOCK_FILE, PROJECT_ROOT } from './bundling';
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
import { EbsHelper, type EbsHelperProps } from './constructs/ebs-helper';
import {
  FILE_SYSTEM_HELPER_TYPES,
  type FileSystemHelperSettings,
  fileSystemHelperEnvironment,
  fileSystemHelperProblem,
  fileSystemHelperStatements,
  pathCheckBundleCommand,
} from './constructs/file-system-helper';
import { RestoreTesting } from './constructs/restore-testing';
import { S3DistributedMap, type S3DistributedMapProps } from './constructs/s3-distributed-map';
import { nagFlatten } from './nag';

/** Validator types whose checks open database connections and so run inside the VPC. */
export const DB_VALIDATOR_TYPES = [
  'rds',
  'aurora',
  'documentdb',
  'neptune',
] as const satisfies readonly ValidatorType[];

/** File name of the bundled config inside each function's asset (`/var/task/<this>`). */
export const BUNDLED_CONFIG_FILE = 'restore-validation.config.json';

/** Ports the validators open to restored databases (PostgreSQL, MySQL/MariaDB, DocumentDB, Neptune). */
export const DB_PORTS = [5432, 3306, 27017, 8182] as const;

/**
 * Default timeout per validator type. Aurora, DocumentDB and Neptune restores have no instance: the
 * validator creates a temporary one and waits for it inside the Lambda (5-10 minutes before any
 * check runs), so they get Lambda's maximum. The others finish well within 10 minutes (EBS hands
 * the long part to the helper flow's Step Functions).
 * @see https://docs.aws.amazon.com/lambda/latest/dg/configuration-timeout.html (15 minutes at most)
 */
export const DEFAULT_TIMEOUT_MINUTES: Readonly<Record<ValidatorType, number>> = {
  rds: 10,
  aurora: 15,
  documentdb: 15,
  neptune: 15,
  ebs: 10,
  ec2: 10,
  s3: 10,
  dynamodb: 10,
  efs: 10,
  fsx: 10,
};

/** Memory and timeout of one function. */
export interface FunctionSettings {
  /** @default 1024 (validators), 256 (DLQ consumer) */
  readonly memorySize?: number;
  /** @default - the `timeout` prop, else DEFAULT_TIMEOUT_MINUTES of the type (15 minutes for aurora, documentdb and neptune, 10 for the others) */
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
   * @default - per type (DEFAULT_TIMEOUT_MINUTES): 15 minutes for aurora, documentdb and neptune, 10 for the others
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
   * The EBS helper flow (helper instance launched in the restored volume's AZ). Needs `vpc`;
   * `false` leaves it out (the EBS validator then cannot mount volumes).
   * @default - created when `vpc` is given and `ebs` is deployed
   */
  readonly ebsHelper?: Omit<EbsHelperProps, 'vpc' | 'vpcSubnets' | 'logRetention'> | false;
  /**
   * The Step Functions Distributed Map for S3 comparisons too large for one Lambda (its props, or
   * `false` to leave it out). Its readable buckets default to restored buckets plus the config's
   * compare sources. Without it the S3 validator compares within its own Lambda, so a bucket too
   * large for one Lambda's time ends FAILED with `timed out`.
   * @default - created when `s3` is deployed
   */
  readonly s3DistributedMap?: Omit<S3DistributedMapProps, 'logRetention'> | boolean;
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

const pascal = (type: string): string =>
  ({ documentdb: 'DocumentDb', dynamodb: 'DynamoDb', fsx: 'FSx' })[type] ??
  type.charAt(0).toUpperCase() + type.slice(1);

function checkProps(props: RestoreValidationProps): void {
  const fail = (m: string): never => {
    throw new RestoreValidationPropsError(m);
  };
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

/** Loads and validates the config; a ConfigError (file, path, reason) fails synth as is. */
function loadAndSerializeConfig(configPath: string): { config: Config; file: string } {
  const config = loadConfigFile(configPath);
  // Bundle the user's input (validated above), not the parsed output: the runtime re-validates at
  // cold start and the parsed form carries derived fields (`kind`) the strict schema rejects.
  const raw: unknown = YAML.parse(readFileSync(configPath, 'utf8'));
  const json = `${JSON.stringify(raw, null, 2)}\n`;
  const dir = join(tmpdir(), 'restore-validation-config');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${createHash('sha256').update(json).digest('hex').slice(0, 16)}.json`);
  writeFileSync(file, json);
  return { config, file };
}

/**
 * Validates AWS Backup restore tests in one account and region. See docs/deploy.md.
 *
 * Sub-constructs (EBS helper, S3 distributed map, evidence, reconciler, custom validators) attach
 * through {@link addToValidatorPolicy}, {@link addEnvironment} and the exposed functions/roles.
 */
export class RestoreValidation extends Construct {
  /** Validator functions by type. */
  readonly functions: Readonly<Partial<Record<ValidatorType, nodejs.NodejsFunction>>>;
  /** Execution role of each validator (one per type: least privilege per type). */
  readonly roles: Readonly<Partial<Record<ValidatorType, iam.Role>>>;
  /** EventBridge rules by validator type. */
  readonly rules: Readonly<Partial<Record<ValidatorType, events.Rule>>>;
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
  /** What addValidator/addCheck share with the built-in validators (settings, grants, functions). */
  private readonly extensionHost: ExtensionHost;

  constructor(scope: Construct, id: string, props: RestoreValidationProps = {}) {
    super(scope, id);
    checkProps(props);
    this.props = props;
    const stack = Stack.of(this);
    this.resourceTypes = props.resourceTypes ? [...props.resourceTypes] : [...VALIDATOR_TYPES];
    const functionsDir = resolve(props.functionsDir ?? join(PROJECT_ROOT, 'functions'));
    if (relative(PROJECT_ROOT, functionsDir).startsWith('..')) {
      throw new RestoreValidationPropsError(
        `functionsDir "${functionsDir}" is outside the project root ${PROJECT_ROOT}: esbuild bundles from the project root, move the handlers inside it.`,
      );
    }
    for (const type of [...this.resourceTypes, 'dlq']) {
      const entry = join(functionsDir, type, 'handler.ts');
      if (!existsSync(entry)) {
        throw new RestoreValidationPropsError(
          `${relative(process.cwd(), entry)} does not exist: add the handler, or remove "${type}" from resourceTypes.`,
        );
      }
    }

    if (stack.bundlingRequired) assertLocalEsbuild();

    this.configPath = resolve(props.configPath ?? 'validation.config.yaml');
    const { config, file: bundledConfig } = loadAndSerializeConfig(this.configPath);
    this.config = config;
    const reserveSeconds = config.defaults.reserveSeconds;
    const access = configAccess(config);
    this.access = access;

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

    if (props.alarmTopic) {
      this.alarmTopic = props.alarmTopic;
    } else {
      const key = new kms.Key(this, 'AlarmTopicKey', {
        enableKeyRotation: true,
        description: 'Encrypts the restore-validation alarm topic; CloudWatch alarms must be able to use it.',
        removalPolicy: RemovalPolicy.DESTROY,
      });
      // CloudWatch alarms cannot publish to a topic encrypted with the AWS managed aws/sns key.
      key.grant(new iam.ServicePrincipal('cloudwatch.amazonaws.com'), 'kms:Decrypt', 'kms:GenerateDataKey');
      this.alarmTopic = new sns.Topic(this, 'AlarmTopic', {
        masterKey: key,
        enforceSSL: true,
        displayName: 'restore-validation alarms',
      });
    }

    if (props.vpc) {
      this.securityGroup =
        props.securityGroup ??
        new ec2.SecurityGroup(this, 'ValidatorSecurityGroup', {
          vpc: props.vpc,
          description:
            'restore-validation database validators; restored databases get it too (vpcSecurityGroupIds override)',
          allowAllOutbound: true,
        });
      if (!props.securityGroup) {
        for (const port of DB_PORTS) {
          this.securityGroup.addIngressRule(
            this.securityGroup,
            ec2.Port.tcp(port),
            `validators to restored databases on ${port}`,
          );
        }
      }
      if (this.resourceTypes.some((t) => (DB_VALIDATOR_TYPES as readonly string[]).includes(t))) {
        this.dbSubnetGroup = new rds.SubnetGroup(this, 'DbSubnetGroup', {
          vpc: props.vpc,
          vpcSubnets: props.vpcSubnets,
          description: 'Where restore tests restore databases so the validators can reach them',
          removalPolicy: RemovalPolicy.DESTROY,
        });
      }
    }

    const bundlingBase = cdkBundlingFields();
    const bundling = (withConfig: boolean, type?: ValidatorType): nodejs.BundlingOptions => ({
      ...bundlingBase,
      format: nodejs.OutputFormat.ESM,
      logLevel: nodejs.LogLevel.WARNING,
      ...(withConfig
        ? {
            commandHooks: {
              beforeBundling: () => [],
              beforeInstall: () => [],
              afterBundling: (inputDir: string, outputDir: string) => [
                `cp ${JSON.stringify(bundledConfig)} ${JSON.stringify(join(outputDir, BUNDLED_CONFIG_FILE))}`,
                // EFS/FSx content checks send this program to the helper instance (functions/efs/content.ts).
                ...(type && (FILE_SYSTEM_HELPER_TYPES as readonly string[]).includes(type)
                  ? [pathCheckBundleCommand(inputDir, outputDir)]
                  : []),
              ],
            },
          }
        : {}),
    });
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

    // --- validators -----------------------------------------------------------------------------
    const functions: Partial<Record<ValidatorType, nodejs.NodejsFunction>> = {};
    const roles: Partial<Record<ValidatorType, iam.Role>> = {};
    const rules: Partial<Record<ValidatorType, events.Rule>> = {};
    for (const type of this.resourceTypes) {
      const name = pascal(type);
      const inVpc = Boolean(props.vpc) && (DB_VALIDATOR_TYPES as readonly string[]).includes(type);
      const settings = props.functionSettings?.[type];
      const timeout = settings?.timeout ?? props.timeout ?? Duration.minutes(DEFAULT_TIMEOUT_MINUTES[type]);
      if (!timeout.isUnresolved() && timeout.toSeconds() <= reserveSeconds + 30) {
        throw new RestoreValidationPropsError(
          `the ${type} timeout ${timeout.toHumanString()} leaves no time for checks after the config's reserveSeconds ${reserveSeconds}: raise the timeout or lower defaults.reserveSeconds in ${this.configPath}.`,
        );
      }
      const logGroup = new logs.LogGroup(this, `${name}ValidatorLogs`, {
        retention: logRetention,
        removalPolicy: RemovalPolicy.DESTROY,
      });
      const role = new iam.Role(this, `${name}ValidatorRole`, {
        assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
        description: `restore-validation ${type} validator`,
      });
      logGroup.grantWrite(role);
      const fn = new nodejs.NodejsFunction(this, `${name}Validator`, {
        description: `Validates ${RESOURCE_TYPES_BY_VALIDATOR[type].join(' and ')} restore tests and reports the verdict to AWS Backup`,
        entry: join(functionsDir, type, 'handler.ts'),
        handler: 'handler',
        runtime: lambda.Runtime.NODEJS_24_X,
        architecture: lambda.Architecture.ARM_64,
        memorySize: settings?.memorySize ?? props.memorySize ?? 1024,
        timeout,
        role,
        logGroup,
        projectRoot: PROJECT_ROOT,
        depsLockFilePath: DEPS_LOCK_FILE,
        bundling: bundling(true, type),
        environment: (FILE_SYSTEM_HELPER_TYPES as readonly string[]).includes(type)
          ? { ...environment, ...fileSystemHelperEnvironment(props.fileSystemHelper) }
          : environment,
        retryAttempts: props.asyncRetryAttempts ?? 2,
        maxEventAge,
        onFailure: new destinations.SqsDestination(this.dlq),
        ...(inVpc && props.vpc && this.securityGroup
          ? { vpc: props.vpc, vpcSubnets: props.vpcSubnets, securityGroups: [this.securityGroup] }
          : {}),
      });
      this.grantCommon(role, inVpc);
      this.grantType(role, type);
      if (props.fileSystemHelper)
        for (const spec of fileSystemHelperStatements(type, props.fileSystemHelper)) this.allow(role, spec);
      for (const why of access[type].broadened)
        Annotations.of(fn).addWarningV2(
          'restore-validation:broadIamFromConfig',
          `${why}; IAM access was widened to every resource of that kind. Add a plain glob to match.sourceResourceArn to narrow it.`,
        );

      const rule = new events.Rule(this, `${name}RestoreCompletedRule`, {
        description: `Restore Job State Change COMPLETED for ${RESOURCE_TYPES_BY_VALIDATOR[type].join(', ')} → ${type} validator`,
        eventPattern: eventPatternFor(type, props.restoreTestingPlanArns),
      });
      rule.addTarget(
        new targets.LambdaFunction(fn, {
          deadLetterQueue: this.dlq,
          retryAttempts: props.eventRetryAttempts ?? 8,
          maxEventAge,
        }),
      );
      new cloudwatch.Alarm(this, `${name}ValidatorErrorsAlarm`, {
        alarmDescription: `The ${type} validator Lambda failed (the lifecycle turns failures into verdicts, so this is a crash).`,
        metric: fn.metricErrors({ period: Duration.minutes(5), statistic: 'Sum' }),
        threshold: 1,
        evaluationPeriods: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      }).addAlarmAction(new cwActions.SnsAction(this.alarmTopic));
      functions[type] = fn;
      roles[type] = role;
      rules[type] = rule;
    }
    this.functions = functions;
    this.roles = roles;
    this.rules = rules;

    // --- sub-constructs: long-running flows the validators hand work to ----------------------------
    if (functions.ebs && props.vpc && props.ebsHelper !== false) {
      this.ebsHelper = new EbsHelper(this, 'EbsHelper', {
        ...(props.ebsHelper || {}),
        vpc: props.vpc,
        vpcSubnets: props.vpcSubnets,
        logRetention,
      });
      this.ebsHelper.attachTo(functions.ebs);
      this.attachSinks(this.ebsHelper.stepsFunction, environment);
    }
    if (functions.s3 && props.s3DistributedMap !== false) {
      const mapProps = typeof props.s3DistributedMap === 'object' ? props.s3DistributedMap : {};
      const readableBuckets = mapProps.readableBuckets ?? [
        `${RESTORE_TEST_PREFIX}-*`,
        ...access.s3.sourceBuckets,
      ];
      this.s3DistributedMap = new S3DistributedMap(this, 'S3DistributedMap', {
        ...mapProps,
        readableBuckets,
        logRetention,
      });
      this.s3DistributedMap.attachTo(functions.s3);
      // The workers read the same objects with the same HeadObject (ChecksumMode) as the validator.
      this.allow(
        this.s3DistributedMap.workerFunction.role as iam.IRole,
        s3KmsDecrypt(readableBuckets, props.s3KmsKeyArns),
      );
      this.attachSinks(this.s3DistributedMap.mergeFunction, environment);
    }
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
      builtIns: functions,
      grantCommon: (role, inVpc) => this.grantCommon(role, inVpc),
      grantType: (role, type) => this.grantType(role, type),
    };

    // --- DLQ consumer ---------------------------------------------------------------------------
    const dlqLogs = new logs.LogGroup(this, 'DlqConsumerLogs', {
      retention: logRetention,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    const dlqRole = new iam.Role(this, 'DlqConsumerRole', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: 'restore-validation DLQ consumer: posts FAILED for undelivered restore job events',
    });
    dlqLogs.grantWrite(dlqRole);
    this.allow(dlqRole, backupSpec(['backup:DescribeRestoreJob', 'backup:PutRestoreValidationResult']));
    this.dlqConsumer = new nodejs.NodejsFunction(this, 'DlqConsumer', {
      description: 'Posts FAILED for restore jobs whose validation event could not be delivered or processed',
      entry: join(functionsDir, 'dlq', 'handler.ts'),
      handler: 'handler',
      runtime: lambda.Runtime.NODEJS_24_X,
      architecture: lambda.Architecture.ARM_64,
      memorySize: 256,
      timeout: dlqConsumerTimeout,
      role: dlqRole,
      logGroup: dlqLogs,
      projectRoot: PROJECT_ROOT,
      depsLockFilePath: DEPS_LOCK_FILE,
      bundling: bundling(false),
      environment: {
        POWERTOOLS_SERVICE_NAME: 'restore-validation-dlq',
        RESTORE_VALIDATION_VERSION: version,
        ...(props.dryRun ? { RESTORE_VALIDATION_DRY_RUN: 'true' } : {}),
      },
    });
    this.dlqConsumer.addEventSource(
      new eventSources.SqsEventSource(this.dlq, { batchSize: 10, reportBatchItemFailures: true }),
    );

    const alarm = (id: string, description: string, metric: cloudwatch.IMetric): void => {
      new cloudwatch.Alarm(this, id, {
        alarmDescription: description,
        metric,
        threshold: 1,
        evaluationPeriods: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      }).addAlarmAction(new cwActions.SnsAction(this.alarmTopic));
    };
    alarm(
      'DlqMessagesAlarm',
      'A restore job event could not be validated (undelivered or the validator failed); the DLQ consumer posts FAILED for it.',
      this.dlq.metricNumberOfMessagesSent({ period: Duration.minutes(5), statistic: 'Sum' }),
    );
    alarm(
      'DlqParkingAlarm',
      'The DLQ consumer could not process a message 5 times: a restore job may be left without a verdict (TIMED_OUT).',
      this.parkingQueue.metricApproximateNumberOfMessagesVisible({
        period: Duration.minutes(5),
        statistic: 'Maximum',
      }),
    );
    alarm(
      'DlqConsumerErrorsAlarm',
      'The DLQ consumer Lambda failed.',
      this.dlqConsumer.metricErrors({ period: Duration.minutes(5), statistic: 'Sum' }),
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

    // --- outputs ----------------------------------------------------------------------------------
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

  /**
   * Adds a statement to the role of every validator (or of the given types). When it holds a
   * wildcard, `why` becomes the cdk-nag acknowledgement reason (required then).
   */
  addToValidatorPolicy(spec: AllowSpec, types: readonly ValidatorType[] = this.resourceTypes): void {
    for (const t of types) {
      const role = this.roles[t];
      if (role) this.allow(role, spec);
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

  /**
   * Adds one statement to a role and, for each wildcard it holds, acknowledges the matching cdk-nag
   * AwsSolutions-IAM5 finding on that role with the statement's reason. Waivers are thus exactly as
   * broad as the statements, and each says why.
   */
  private allow(role: iam.IRole, spec: AllowSpec): void {
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: spec.sid,
        actions: spec.actions,
        resources: spec.resources,
        ...(spec.conditions ? { conditions: spec.conditions } : {}),
      }),
    );
    const stack = Stack.of(this);
    const findings = [
      ...spec.actions.filter((a) => a.includes('*')).map((a) => `Action::${a}`),
      ...spec.resources
        .map((r) => nagFlatten(stack.resolve(r)))
        .filter((r) => r.includes('*'))
        .map((r) => `Resource::${r}`),
    ];
    for (const finding of new Set(findings)) {
      Validations.of(role).acknowledge({
        id: `AwsSolutions-IAM5[${finding}]`,
        reason: `${spec.sid}: ${spec.why}`,
      });
    }
  }

  /** The built-in type's read permissions, scoped by the config (ExtensionHost). */
  grantType(role: iam.Role, type: ValidatorType): void {
    const options = { s3KmsKeyArns: this.props.s3KmsKeyArns };
    for (const spec of typeStatements(type, this.access[type], options)) this.allow(role, spec);
  }

  /**
   * What the evidence sinks need (shared/sinks.ts): publishing to the alarm topic (and its key),
   * writing evidence below the prefix and indexing it.
   */
  private grantSinks(role: iam.IRole): void {
    const props = this.props;
    // Not topic.grantPublish(): with a KMS topic it grants kms:GenerateDataKey*, wider than needed.
    this.allow(role, {
      sid: 'PublishNotifications',
      actions: ['sns:Publish'],
      resources: [this.alarmTopic.topicArn],
      why: 'the alarm topic only',
    });
    const key = (this.alarmTopic as { masterKey?: kms.IKey }).masterKey;
    // Publishing to a KMS-encrypted topic needs the key (no wildcard action: GenerateDataKey only).
    if (key) key.grant(role, 'kms:Decrypt', 'kms:GenerateDataKey');
    if (props.evidence) {
      const prefix = props.evidence.prefix ?? '';
      this.allow(role, {
        sid: 'WriteEvidence',
        actions: ['s3:PutObject'],
        resources: [`${props.evidence.bucket.bucketArn}/${prefix}*`],
        why: 'evidence records are written under generated keys (one per restore job) in the evidence bucket only',
      });
      // The table itself only: writes never target its indexes (table.grant() would add `/index/*`).
      if (props.evidence.table) {
        this.allow(role, {
          sid: 'IndexEvidence',
          actions: ['dynamodb:PutItem'],
          resources: [props.evidence.table.tableArn],
          why: 'the evidence index table only',
        });
      }
    }
  }

  /**
   * A step that posts a deferred verdict (EBS helper flow, S3 merge) records its evidence through
   * the same sinks as the validators: their settings and grants. (Reading the job again is granted by
   * each step's own construct, beside PutRestoreValidationResult.)
   */
  private attachSinks(fn: nodejs.NodejsFunction, environment: Readonly<Record<string, string>>): void {
    for (const name of SINK_ENVIRONMENT) {
      const value = environment[name];
      if (value !== undefined) fn.addEnvironment(name, value);
    }
    this.grantSinks(fn.role as iam.IRole);
  }

  /** The lifecycle's permissions: Backup, idempotency, topic, evidence, VPC ENIs (ExtensionHost). */
  grantCommon(role: iam.Role, inVpc: boolean): void {
    // The lifecycle reads the job, its metadata, and posts VALIDATING and the verdict.
    this.allow(
      role,
      backupSpec([
        'backup:DescribeRestoreJob',
        'backup:GetRestoreJobMetadata',
        'backup:PutRestoreValidationResult',
      ]),
    );
    // Powertools idempotency: one record per restore job, written, updated and (on error) deleted.
    this.idempotencyTable.grant(
      role,
      'dynamodb:GetItem',
      'dynamodb:PutItem',
      'dynamodb:UpdateItem',
      'dynamodb:DeleteItem',
    );
    this.grantSinks(role);
    if (inVpc) {
      this.allow(role, {
        sid: 'LambdaVpcNetworkInterfaces',
        actions: [
          'ec2:CreateNetworkInterface',
          'ec2:DescribeNetworkInterfaces',
          'ec2:DescribeSubnets',
          'ec2:DeleteNetworkInterface',
          'ec2:AssignPrivateIpAddresses',
          'ec2:UnassignPrivateIpAddresses',
        ],
        resources: ['*'],
        why: "Lambda's own ENI management for a VPC function (the AWSLambdaVPCAccessExecutionRole set, inline to avoid a managed policy); these calls are made on Resource *",
      });
    }
  }
}

/**
 * The AWS Backup calls of the lifecycle. No resource-level scoping exists for
 * PutRestoreValidationResult (nor for DescribeRestoreJob / GetRestoreJobMetadata).
 * @see https://docs.aws.amazon.com/service-authorization/latest/reference/list_awsbackup.html
 */
/** The settings the evidence sinks read (shared/env.ts). */
const SINK_ENVIRONMENT = [
  'EVIDENCE_BUCKET',
  'EVIDENCE_TABLE',
  'EVIDENCE_PREFIX',
  'ALARM_TOPIC_ARN',
  'RESTORE_VALIDATION_VERSION',
  'RESTORE_VALIDATION_DRY_RUN',
] as const;

function backupSpec(actions: string[]): AllowSpec {
  return {
    sid: 'BackupRestoreJobValidation',
    actions,
    resources: ['*'],
    why: 'AWS Backup offers no resource-level permissions for PutRestoreValidationResult, DescribeRestoreJob or GetRestoreJobMetadata (service authorization reference), so Resource must be *',
  };
}

/** The EventBridge pattern of one validator type. */
export function eventPatternFor(type: ValidatorType, planArns?: readonly string[]): events.EventPattern {
  return {
    source: ['aws.backup'],
    detailType: ['Restore Job State Change'],
    detail: {
      status: ['COMPLETED'],
      resourceType: [...RESOURCE_TYPES_BY_VALIDATOR[type]],
      ...(planArns ? { restoreTestingPlanArn: [...planArns] } : {}),
    },
  };
}

/**
 * NodejsFunction silently falls back to Docker bundling when it cannot find esbuild, which fails
 * offline with an unrelated Docker error; say what is missing instead.
 */
function assertLocalEsbuild(): void {
  try {
    createRequire(join(PROJECT_ROOT, 'package.json')).resolve('esbuild');
  } catch {
    throw new RestoreValidationPropsError(
      `esbuild is not installed in ${PROJECT_ROOT}/node_modules: run "npm ci" (bundling is local; Docker is not used).`,
    );
  }
}

function readPackageVersion(): string {
  try {
    return (
      (JSON.parse(readFileSync(join(PROJECT_ROOT, 'package.json'), 'utf8')) as { version?: string })
        .version ?? '0.0.0'
    );
  } catch {
    return '0.0.0';
  }
}

/**
 * `kms:Decrypt` for SSE-KMS objects of the compared buckets: `HeadObject` with `ChecksumMode: ENABLED`
 * needs it (the stored checksum is encrypted with the object), as does `GetObject`. Only through S3
 * in this region and only for these buckets' objects (S3 passes the bucket ARN, or the object ARN
 * without an S3 Bucket Key, as encryption context).
 * @see https://docs.aws.amazon.com/AmazonS3/latest/API/API_HeadObject.html (ChecksumMode: "you must have permission to use the kms:Decrypt action")
 * @see https://docs.aws.amazon.com/AmazonS3/latest/userguide/UsingKMSEncryption.html#encryption-context
 */
export function s3KmsDecrypt(buckets: readonly string[], keyArns?: readonly string[]): AllowSpec {
  const p = Aws.PARTITION;
  return {
    sid: 'DecryptComparedObjects',
    actions: ['kms:Decrypt'],
    resources: keyArns ? [...keyArns] : [`arn:${p}:kms:${Aws.REGION}:${Aws.ACCOUNT_ID}:key/*`],
    conditions: {
      StringEquals: { 'kms:ViaService': `s3.${Aws.REGION}.amazonaws.com` },
      StringLike: {
        'kms:EncryptionContext:aws:s3:arn': buckets.flatMap((b) => [
          `arn:${p}:s3:::${b}`,
          `arn:${p}:s3:::${b}/*`,
        ]),
      },
    },
    why: 'SSE-KMS objects of the compared buckets, whose keys the config cannot name (s3KmsKeyArns narrows it): only through S3 in this region (kms:ViaService) and only for the restored and configured source buckets (kms:EncryptionContext:aws:s3:arn)',
  };
}

/** One IAM statement with the reason it has the scope it has (used for the cdk-nag waiver when wildcarded). */
export interface AllowSpec {
  readonly sid: string;
  readonly actions: string[];
  readonly resources: string[];
  readonly conditions?: Record<string, unknown>;
  /** Why this scope: shown as the cdk-nag acknowledgement reason when a resource holds a wildcard. */
  readonly why: string;
}

/**
 * Per-type read (and, where a validator must create helpers, tag-conditioned create/delete)
 * permissions. Scoped to restore-test resources by name where the service allows it, and to the
 * resources the config names.
 * @see https://docs.aws.amazon.com/service-authorization/latest/reference/reference_policies_actions-resources-contextkeys.html
 */
export function typeStatements(
  type: ValidatorType,
  access: ConfigAccess,
  options: { readonly s3KmsKeyArns?: readonly string[] } = {},
): AllowSpec[] {
  const p = Aws.PARTITION;
  const r = Aws.REGION;
  const a = Aws.ACCOUNT_ID;
  const out: AllowSpec[] = [];
  const add = (
    sid: string,
    actions: string[],
    resources: string[],
    why: string,
    conditions?: Record<string, unknown>,
  ): void => {
    if (resources.length === 0) return;
    out.push({ sid, actions, resources, why, ...(conditions ? { conditions } : {}) });
  };
  const rdsArn = (kind: string, name: string) => `arn:${p}:rds:${r}:${a}:${kind}:${name}`;
  const createdByUs = { Null: { [`aws:RequestTag/${CREATED_BY_TAG}`]: 'false' } };
  const ownedByUs = { Null: { [`aws:ResourceTag/${CREATED_BY_TAG}`]: 'false' } };
  const readOnlyDescribe =
    'read-only Describe/List calls on the restored resource, whose identifier AWS Backup generates at restore time; limited to this account and region';

  if (type === 'rds') {
    add(
      'DescribeRestoredDbInstance',
      ['rds:DescribeDBInstances', 'rds:ListTagsForResource'],
      [rdsArn('db', '*')],
      readOnlyDescribe,
    );
  }
  if (type === 'aurora' || type === 'documentdb' || type === 'neptune') {
    // DocumentDB and Neptune management APIs authorize with rds: actions.
    add(
      'DescribeRestoredCluster',
      ['rds:DescribeDBClusters', 'rds:DescribeDBInstances', 'rds:ListTagsForResource'],
      [rdsArn('cluster', '*'), rdsArn('db', '*')],
      readOnlyDescribe,
    );
    // Picks the smallest instance class the engine version offers for the temporary instance
    // (shared/temporary-instance.ts; without it a fixed default class is used).
    add(
      'ListOrderableInstanceClasses',
      ['rds:DescribeOrderableDBInstanceOptions'],
      ['*'],
      'rds:DescribeOrderableDBInstanceOptions supports no resource-level permissions (service authorization reference); read-only catalogue of instance classes',
    );
    // Restored clusters have no instance: a temporary one is created, tagged as ours, and deleted.
    add(
      'CreateTemporaryInstanceTaggedAsOurs',
      ['rds:CreateDBInstance', 'rds:AddTagsToResource'],
      [rdsArn('db', '*')],
      `the temporary instance's identifier is generated at run time; the request must carry the ${CREATED_BY_TAG} tag (aws:RequestTag condition)`,
      createdByUs,
    );
    // RDS also authorizes CreateDBInstance on the parameter group, option group and subnet group
    // the new instance uses (the cluster's subnet group, default groups): AWS's example policies
    // for CreateDBInstance list og:, pg: and subgrp: resources beside db:. Only in a request that
    // tags the instance as ours.
    // @see https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/security_iam_id-based-policy-examples-create-and-modify-examples.html
    // @see https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonrds.html
    add(
      'CreateTemporaryInstanceWithClusterGroups',
      ['rds:CreateDBInstance'],
      [rdsArn('pg', '*'), rdsArn('og', '*'), rdsArn('subgrp', '*')],
      `the temporary instance uses the restored cluster's subnet group and the engine's default parameter and option groups, whose names are known only at run time; only in a request that carries the ${CREATED_BY_TAG} tag (aws:RequestTag condition), and CreateDBInstance only references these groups, never changes them`,
      createdByUs,
    );
    add(
      'CreateTemporaryInstanceInRestoredCluster',
      ['rds:CreateDBInstance'],
      [rdsArn('cluster', `${RESTORE_TEST_PREFIX}-*`)],
      `only restored clusters, which AWS Backup names ${RESTORE_TEST_PREFIX}-<generated id>`,
    );
    add(
      'DeleteOnlyOurTemporaryInstances',
      ['rds:DeleteDBInstance'],
      [rdsArn('db', '*')],
      `deletes only instances tagged ${CREATED_BY_TAG} (aws:ResourceTag condition), i.e. the validator's own temporary instances`,
      ownedByUs,
    );
  }
  if (type === 'neptune') {
    add(
      'QueryRestoredNeptune',
      ['neptune-db:connect', 'neptune-db:ReadDataViaQuery'],
      [`arn:${p}:neptune-db:${r}:${a}:*/*`],
      'the restored cluster resource id is generated at restore time; read-only query access in this account and region',
    );
  }
  if (type === 'ebs') {
    add(
      'DescribeRestoredVolume',
      ['ec2:DescribeVolumes', 'ec2:DescribeVolumeStatus'],
      ['*'],
      'EC2 Describe* actions support no resource-level permissions',
    );
  }
  if (type === 'ec2') {
    add(
      'DescribeRestoredInstance',
      [
        'ec2:DescribeInstances',
        'ec2:DescribeInstanceStatus',
        'ssm:DescribeInstanceInformation',
        'ssm:GetCommandInvocation',
      ],
      ['*'],
      'EC2 and SSM Describe/Get actions used here support no resource-level permissions',
    );
    add(
      'ConsoleOfRestoredInstances',
      ['ec2:GetConsoleOutput'],
      [`arn:${p}:ec2:${r}:${a}:instance/*`],
      `only instances tagged ${RESTORE_TEST_TAG} (aws:ResourceTag condition); instance ids are generated at restore time`,
      { Null: { [`aws:ResourceTag/${RESTORE_TEST_TAG}`]: 'false' } },
    );
    add(
      'RunCommandOnRestoredInstances',
      ['ssm:SendCommand'],
      [`arn:${p}:ec2:${r}:${a}:instance/*`],
      `only instances tagged ${RESTORE_TEST_TAG} (ssm:resourceTag condition); instance ids are generated at restore time`,
      { Null: { [`ssm:resourceTag/${RESTORE_TEST_TAG}`]: 'false' } },
    );
    add(
      'RunCommandDocuments',
      ['ssm:SendCommand'],
      [
        `arn:${p}:ssm:${r}::document/AWS-RunShellScript`,
        `arn:${p}:ssm:${r}::document/AWS-RunPowerShellScript`,
      ],
      'the two AWS-owned run-script documents',
    );
  }
  if (type === 's3') {
    const buckets = [`${RESTORE_TEST_PREFIX}-*`, ...access.sourceBuckets];
    const why = `restored buckets (named ${RESTORE_TEST_PREFIX}-<generated id>) and the source buckets the config's compare checks name (match.sourceResourceArn)`;
    add(
      'ReadRestoredAndSourceBuckets',
      [
        's3:ListBucket',
        's3:ListBucketVersions',
        's3:GetBucketLocation',
        's3:GetBucketVersioning',
        's3:GetBucketTagging',
      ],
      buckets.map((b) => `arn:${p}:s3:::${b}`),
      why,
    );
    add(
      'ReadRestoredAndSourceObjects',
      [
        's3:GetObject',
        's3:GetObjectVersion',
        's3:GetObjectAttributes',
        's3:GetObjectVersionAttributes',
        's3:GetObjectTagging',
      ],
      buckets.map((b) => `arn:${p}:s3:::${b}/*`),
      `${why}: every object in them is compared`,
    );
    out.push(s3KmsDecrypt(buckets, options.s3KmsKeyArns));
  }
  if (type === 'dynamodb') {
    const tables = [
      `arn:${p}:dynamodb:${r}:${a}:table/${RESTORE_TEST_PREFIX}-*`,
      ...access.sourceTables.map((t) =>
        t.startsWith('arn:') ? t : `arn:${p}:dynamodb:${r}:${a}:table/${t}`,
      ),
    ];
    add(
      'ReadRestoredAndSourceTables',
      [
        'dynamodb:DescribeTable',
        'dynamodb:Scan',
        'dynamodb:Query',
        'dynamodb:GetItem',
        'dynamodb:BatchGetItem',
      ],
      tables,
      `restored tables (named ${RESTORE_TEST_PREFIX}-<generated id>) and the source tables the config's compare checks name`,
    );
    // The guard's fallback for a table whose name was overridden (targetTableName): its tags. Reading
    // tags is all this grants; the table's data stays limited to the statements above and below.
    add(
      'ReadRestoredTableTags',
      ['dynamodb:ListTagsOfResource'],
      [`arn:${p}:dynamodb:${r}:${a}:table/*`],
      `the guard reads the tags of a restored table whose name was overridden (not ${RESTORE_TEST_PREFIX}-…) to find the ${RESTORE_TEST_TAG} tag; tags only, any table of this account and region`,
    );
    // A table that passes the guard by its tag: read it by that tag (DynamoDB ABAC, aws:ResourceTag).
    // @see https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/abac-example-use-cases.html
    add(
      'ReadTablesTaggedAsRestoreTests',
      [
        'dynamodb:DescribeTable',
        'dynamodb:Scan',
        'dynamodb:Query',
        'dynamodb:GetItem',
        'dynamodb:BatchGetItem',
      ],
      [`arn:${p}:dynamodb:${r}:${a}:table/*`],
      `only tables tagged ${RESTORE_TEST_TAG} (aws:ResourceTag condition): restored tables whose name was overridden`,
      { Null: { [`aws:ResourceTag/${RESTORE_TEST_TAG}`]: 'false' } },
    );
  }
  if (type === 'efs') {
    add(
      'DescribeRestoredFileSystem',
      [
        'elasticfilesystem:DescribeFileSystems',
        'elasticfilesystem:DescribeMountTargets',
        'elasticfilesystem:ListTagsForResource',
      ],
      [`arn:${p}:elasticfilesystem:${r}:${a}:file-system/*`],
      readOnlyDescribe,
    );
  }
  if (type === 'fsx') {
    add(
      'DescribeRestoredFileSystem',
      [
        'fsx:DescribeFileSystems',
        'fsx:DescribeVolumes',
        'fsx:DescribeStorageVirtualMachines',
        'fsx:ListTagsForResource',
      ],
      ['*'],
      'FSx Describe* actions support no resource-level permissions',
    );
  }
  // From the config: only what the profiles of this type name.
  add(
    'ReadConfiguredSecrets',
    ['secretsmanager:GetSecretValue'],
    access.secretArns,
    'the secrets the config names; -?????? matches the random suffix Secrets Manager adds',
  );
  add(
    'InvokeConfiguredCheckFunctions',
    ['lambda:InvokeFunction'],
    access.functionArns,
    "the functions the config's lambda checks name",
  );
  add(
    'IamDatabaseAuthentication',
    ['rds-db:connect'],
    access.dbUsers.map((u) => `arn:${p}:rds-db:${r}:${a}:dbuser:*/${u}`),
    "only the database users the config names; the restored instance's resource id (dbuser:<id>/<user>) is generated at restore time",
  );
  add(
    'ReadManifests',
    ['s3:GetObject'],
    access.manifests.map((m) => `arn:${p}:s3:::${m.bucket}/${m.key}`),
    'the manifest objects the config names',
  );
  return out;
}

/**
 * Secure defaults every construct of the package builds with, in one place: one Lambda function
 * shape (its own role writing only its own log group, Node.js 24 on ARM, local esbuild bundling),
 * the KMS-encrypted alarm topic, the "it failed once" alarm, and `allow()`, the one way a statement
 * is granted together with the cdk-nag waiver for each wildcard it holds.
 */
import { join } from 'node:path';
import {
  aws_cloudwatch as cloudwatch,
  aws_cloudwatch_actions as cwActions,
  type Duration,
  aws_iam as iam,
  aws_kms as kms,
  aws_lambda as lambda,
  aws_logs as logs,
  aws_lambda_nodejs as nodejs,
  RemovalPolicy,
  Stack,
  aws_sns as sns,
  Validations,
} from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { cdkBundlingFields, DEPS_LOCK_FILE, PROJECT_ROOT } from './bundling';
import { nagFlatten } from './nag';

/** One IAM statement with the reason it has the scope it has (used for the cdk-nag waiver when wildcarded). */
export interface AllowSpec {
  readonly sid: string;
  readonly actions: string[];
  readonly resources: string[];
  /** @default - no conditions */
  readonly conditions?: Record<string, unknown>;
  /** Why this scope: shown as the cdk-nag acknowledgement reason when an action or resource holds a wildcard. */
  readonly why: string;
}

/**
 * Adds one statement to a role and, for each wildcard it holds, acknowledges the matching cdk-nag
 * AwsSolutions-IAM5 finding on that role with the statement's reason. Waivers are thus exactly as
 * broad as the statements, and each says why.
 */
export function allow(role: iam.IRole, spec: AllowSpec): void {
  role.addToPrincipalPolicy(
    new iam.PolicyStatement({
      sid: spec.sid,
      actions: spec.actions,
      resources: spec.resources,
      ...(spec.conditions ? { conditions: spec.conditions } : {}),
    }),
  );
  const stack = Stack.of(role);
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

/** The bundling of every NodejsFunction: the shared esbuild options ({@link cdkBundlingFields}), ESM. */
export function nodeBundling(
  afterBundling?: (inputDir: string, outputDir: string) => string[],
): nodejs.BundlingOptions {
  return {
    ...cdkBundlingFields(),
    format: nodejs.OutputFormat.ESM,
    logLevel: nodejs.LogLevel.WARNING,
    ...(afterBundling
      ? { commandHooks: { beforeBundling: () => [], beforeInstall: () => [], afterBundling } }
      : {}),
  };
}

/** A function built by {@link nodeFunction}. */
export interface NodeFunctionProps
  extends Omit<
    nodejs.NodejsFunctionProps,
    'entry' | 'runtime' | 'architecture' | 'role' | 'logGroup' | 'projectRoot' | 'depsLockFilePath'
  > {
  /** The handler module (exporting `handler`). */
  readonly entry: string;
  readonly memorySize: number;
  readonly timeout: Duration;
  /** Retention of the function's own log group. */
  readonly logRetention: logs.RetentionDays;
  /** @default - no role description */
  readonly roleDescription?: string;
  /** Construct ids of the log group and role. @default `<id>Logs`, `<id>Role` */
  readonly ids?: { readonly logs: string; readonly role: string };
}

/**
 * A Node.js 24 ARM function with its own log group (destroyed with the stack) and its own role that
 * may write only to that group: no AWS managed policy (AwsSolutions-IAM4), unlike
 * AWSLambdaBasicExecutionRole, which writes to any group. Bundled locally with the shared esbuild
 * options unless `bundling` says otherwise.
 */
export function nodeFunction(scope: Construct, id: string, props: NodeFunctionProps): nodejs.NodejsFunction {
  const { logRetention, roleDescription, ids, ...fnProps } = props;
  const { logGroup, role } = ownLogsAndRole(
    scope,
    ids ?? { logs: `${id}Logs`, role: `${id}Role` },
    logRetention,
    roleDescription,
  );
  return new nodejs.NodejsFunction(scope, id, {
    handler: 'handler',
    bundling: nodeBundling(),
    ...fnProps,
    runtime: NODE_RUNTIME,
    architecture: ARCHITECTURE,
    role,
    logGroup,
    projectRoot: PROJECT_ROOT,
    depsLockFilePath: DEPS_LOCK_FILE,
  });
}

/** The runtime and architecture of every function and layer. */
export const NODE_RUNTIME = lambda.Runtime.NODEJS_24_X;
export const ARCHITECTURE = lambda.Architecture.ARM_64;

/** A function's own log group (destroyed with the stack) and a Lambda role that may write only to it. */
export function ownLogsAndRole(
  scope: Construct,
  ids: { readonly logs: string; readonly role: string },
  retention: logs.RetentionDays,
  description?: string,
): { logGroup: logs.LogGroup; role: iam.Role } {
  const logGroup = new logs.LogGroup(scope, ids.logs, { retention, removalPolicy: RemovalPolicy.DESTROY });
  const role = new iam.Role(scope, ids.role, {
    assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
    ...(description ? { description } : {}),
  });
  logGroup.grantWrite(role);
  return { logGroup, role };
}

/** `functions/<path>` of the project, for {@link NodeFunctionProps.entry}. */
export const functionEntry = (...path: string[]): string => join(PROJECT_ROOT, 'functions', ...path);

/**
 * The alarm and notification topic: encrypted with its own customer managed key (rotation on),
 * which CloudWatch alarms may use: they cannot publish to a topic encrypted with the AWS managed
 * `aws/sns` key. The key protects messages in flight only, so it goes with the stack.
 * @see https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html#compatibility-with-aws-services
 */
export function encryptedAlarmTopic(scope: Construct): sns.Topic {
  const key = new kms.Key(scope, 'AlarmTopicKey', {
    enableKeyRotation: true,
    description: 'Encrypts the restore-validation alarm topic; CloudWatch alarms must be able to use it.',
    removalPolicy: RemovalPolicy.DESTROY,
  });
  key.grant(new iam.ServicePrincipal('cloudwatch.amazonaws.com'), 'kms:Decrypt', 'kms:GenerateDataKey');
  return new sns.Topic(scope, 'AlarmTopic', {
    masterKey: key,
    enforceSSL: true,
    displayName: 'restore-validation alarms',
  });
}

/**
 * Lets a role publish to the topic and, when it is encrypted, use its key: `sns:Publish` on the
 * topic only (not `topic.grantPublish()`, which grants `kms:GenerateDataKey*` on a KMS topic) and
 * `kms:Decrypt` + `kms:GenerateDataKey` without a wildcard action.
 */
export function grantPublish(role: iam.IRole, topic: sns.ITopic): void {
  allow(role, {
    sid: 'PublishNotifications',
    actions: ['sns:Publish'],
    resources: [topic.topicArn],
    why: 'the alarm topic only',
  });
  const key = (topic as { masterKey?: kms.IKey }).masterKey;
  if (key) key.grant(role, 'kms:Decrypt', 'kms:GenerateDataKey');
}

/** An alarm on the first datapoint at or above 1 in one period (missing data is fine), notifying the topic. */
export function onceAlarm(
  scope: Construct,
  id: string,
  description: string,
  metric: cloudwatch.IMetric,
  topic: sns.ITopic,
): cloudwatch.Alarm {
  const alarm = new cloudwatch.Alarm(scope, id, {
    alarmDescription: description,
    metric,
    threshold: 1,
    evaluationPeriods: 1,
    comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
  });
  alarm.addAlarmAction(new cwActions.SnsAction(topic));
  return alarm;
}

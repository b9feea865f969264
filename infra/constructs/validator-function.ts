/**
 * `ValidatorFunction`: one built-in validator as deployed — its role (the lifecycle's grants, the
 * type's read permissions scoped by the config, the type's extra grants), log group, function (the
 * bundled config beside the handler), the EventBridge rule on `Restore Job State Change` COMPLETED
 * for the type's resource types with the shared dead-letter queue, and the crash alarm. What differs
 * between types comes from the type's module (functions/<type>/type.ts), never from a branch on the
 * type here.
 */
import { join } from 'node:path';
import {
  type aws_cloudwatch as cloudwatch,
  Duration,
  aws_lambda_destinations as destinations,
  type aws_ec2 as ec2,
  aws_events as events,
  type aws_iam as iam,
  type aws_logs as logs,
  type aws_lambda_nodejs as nodejs,
  type aws_sns as sns,
  type aws_sqs as sqs,
  aws_events_targets as targets,
} from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { RESOURCE_TYPE_MODULES } from '../../functions/types';
import { RESOURCE_TYPES_BY_VALIDATOR, type ValidatorType } from '../../shared/resource-types';
import { allow, nodeBundling, nodeFunction, onceAlarm } from '../core';
import { type TypeContext, typeStatementsFor } from '../types';
import {
  fileSystemHelperEnvironment,
  fileSystemHelperStatements,
  pathCheckBundleCommand,
} from './file-system-helper';

/** What every validator shares: the lifecycle's settings, dead-letter queue, alarms and network. */
export interface ValidatorHost {
  /** Environment of every validator (lifecycle settings, evidence sinks, claims). */
  readonly environment: Readonly<Record<string, string>>;
  /** Dead-letter queue of every rule target and every async invoke. */
  readonly dlq: sqs.IQueue;
  /** Receives the crash alarms. */
  readonly alarmTopic: sns.ITopic;
  /** Oldest event EventBridge and Lambda async invoke still deliver. */
  readonly maxEventAge: Duration;
  /** Lambda async invoke retries after a function error. */
  readonly asyncRetryAttempts: number;
  /** EventBridge delivery retries before the dead-letter queue. */
  readonly eventRetryAttempts: number;
  readonly logRetention: logs.RetentionDays;
  /** Only restore jobs of these plans trigger validation. @default - every plan */
  readonly restoreTestingPlanArns?: readonly string[];
  /** Where database validators run. @default - outside a VPC */
  readonly vpc?: ec2.IVpc;
  /** @default - the VPC's private subnets with egress */
  readonly vpcSubnets?: ec2.SubnetSelection;
  /** Security group of the validators in the VPC. @default - none */
  readonly securityGroup?: ec2.ISecurityGroup;
  /** The lifecycle's permissions (Backup, idempotency, topic, evidence, VPC ENIs). */
  grantCommon(role: iam.Role, inVpc: boolean): void;
}

/** The EventBridge pattern of restore jobs of these resource types that completed. */
export function restoreCompletedPattern(
  resourceTypes: readonly string[],
  planArns?: readonly string[],
): events.EventPattern {
  return {
    source: ['aws.backup'],
    detailType: ['Restore Job State Change'],
    detail: {
      status: ['COMPLETED'],
      resourceType: [...resourceTypes],
      ...(planArns ? { restoreTestingPlanArn: [...planArns] } : {}),
    },
  };
}

/** The EventBridge pattern of one validator type. */
export function eventPatternFor(type: ValidatorType, planArns?: readonly string[]): events.EventPattern {
  return restoreCompletedPattern(RESOURCE_TYPES_BY_VALIDATOR[type], planArns);
}

export interface ValidatorFunctionProps {
  readonly host: ValidatorHost;
  readonly type: ValidatorType;
  /** What the type's module reads: the config's resources for the type and the helper settings. */
  readonly context: TypeContext;
  /** The handler module (`<functionsDir>/<type>/handler.ts`). */
  readonly entry: string;
  /** The validated config as JSON, copied into the bundle as `bundledConfigName`. */
  readonly bundledConfigFile: string;
  readonly bundledConfigName: string;
  /** @default - the type's module, else 1024 */
  readonly memorySize?: number;
  /** @default - the type's module */
  readonly timeout?: Duration;
}

export class ValidatorFunction extends Construct {
  /**
   * The function. It is this construct's `Default` child, so its logical ID is the one the
   * function had before this construct existed (updates do not replace deployed validators).
   */
  readonly function: nodejs.NodejsFunction;
  readonly role: iam.Role;
  readonly rule: events.Rule;
  /** Fires when the function fails (the lifecycle turns failures into verdicts: a crash). */
  readonly errorsAlarm: cloudwatch.Alarm;

  constructor(scope: Construct, id: string, props: ValidatorFunctionProps) {
    super(scope, id);
    const { host, type, context } = props;
    const spec = RESOURCE_TYPE_MODULES[type];
    const onHelper = spec.usesFileSystemHelper === true;
    const served = RESOURCE_TYPES_BY_VALIDATOR[type];
    const inVpc = Boolean(host.vpc && host.securityGroup) && spec.database;
    this.function = nodeFunction(this, 'Default', {
      ids: { logs: 'Logs', role: 'Role' },
      roleDescription: `restore-validation ${type} validator`,
      description: `Validates ${served.join(' and ')} restore tests and reports the verdict to AWS Backup`,
      entry: props.entry,
      memorySize: props.memorySize ?? spec.memorySize ?? 1024,
      timeout: props.timeout ?? Duration.minutes(spec.timeoutMinutes),
      logRetention: host.logRetention,
      bundling: nodeBundling((inputDir, outputDir) => [
        `cp ${JSON.stringify(props.bundledConfigFile)} ${JSON.stringify(join(outputDir, props.bundledConfigName))}`,
        ...(onHelper ? [pathCheckBundleCommand(inputDir, outputDir)] : []),
      ]),
      environment: {
        ...host.environment,
        ...(onHelper ? fileSystemHelperEnvironment(context.fileSystemHelper) : {}),
      },
      retryAttempts: host.asyncRetryAttempts,
      maxEventAge: host.maxEventAge,
      onFailure: new destinations.SqsDestination(host.dlq),
      ...(inVpc && host.securityGroup
        ? { vpc: host.vpc, vpcSubnets: host.vpcSubnets, securityGroups: [host.securityGroup] }
        : {}),
    });
    this.role = this.function.role as iam.Role;
    host.grantCommon(this.role, inVpc);
    for (const s of typeStatementsFor(type, context)) allow(this.role, s);
    if (onHelper && context.fileSystemHelper)
      for (const s of fileSystemHelperStatements(type, context.fileSystemHelper)) allow(this.role, s);

    this.rule = new events.Rule(this, 'RestoreCompletedRule', {
      description: `Restore Job State Change COMPLETED for ${served.join(', ')} → ${type} validator`,
      eventPattern: eventPatternFor(type, host.restoreTestingPlanArns),
    });
    this.rule.addTarget(
      new targets.LambdaFunction(this.function, {
        deadLetterQueue: host.dlq,
        retryAttempts: host.eventRetryAttempts,
        maxEventAge: host.maxEventAge,
      }),
    );
    this.errorsAlarm = onceAlarm(
      this,
      'ErrorsAlarm',
      `The ${type} validator Lambda failed (the lifecycle turns failures into verdicts, so this is a crash).`,
      this.function.metricErrors({ period: Duration.minutes(5), statistic: 'Sum' }),
      host.alarmTopic,
    );
  }
}

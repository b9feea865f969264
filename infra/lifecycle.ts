/**
 * What the shared lifecycle (shared/handler.ts) and the evidence sinks (shared/sinks.ts) need from
 * AWS, granted the same way to the built-in validators, custom validators and the steps that post a
 * deferred verdict (EBS helper flow, S3 merge).
 */
import type {
  aws_dynamodb as dynamodb,
  aws_iam as iam,
  aws_lambda as lambda,
  aws_sns as sns,
} from 'aws-cdk-lib';
import { type AllowSpec, allow, grantPublish } from './core';
import type { EvidenceSettings } from './restore-validation-props';

/** The settings the evidence sinks read (shared/env.ts). */
export const SINK_ENVIRONMENT = [
  'EVIDENCE_BUCKET',
  'EVIDENCE_TABLE',
  'EVIDENCE_PREFIX',
  'ALARM_TOPIC_ARN',
  'RESTORE_VALIDATION_VERSION',
  'RESTORE_VALIDATION_DRY_RUN',
] as const;

/**
 * The AWS Backup calls of the lifecycle. No resource-level scoping exists for
 * PutRestoreValidationResult (nor for DescribeRestoreJob / GetRestoreJobMetadata).
 * @see https://docs.aws.amazon.com/service-authorization/latest/reference/list_awsbackup.html
 */
export function backupSpec(actions: string[]): AllowSpec {
  return {
    sid: 'BackupRestoreJobValidation',
    actions,
    resources: ['*'],
    why: 'AWS Backup offers no resource-level permissions for PutRestoreValidationResult, DescribeRestoreJob or GetRestoreJobMetadata (service authorization reference), so Resource must be *',
  };
}

/** Where verdicts and evidence go. */
export interface Sinks {
  readonly alarmTopic: sns.ITopic;
  /** @default - no evidence store */
  readonly evidence?: EvidenceSettings;
}

/**
 * What the evidence sinks need: publishing to the alarm topic (and its key), writing evidence below
 * the prefix and indexing it.
 */
export function grantSinks(role: iam.IRole, sinks: Sinks): void {
  grantPublish(role, sinks.alarmTopic);
  const evidence = sinks.evidence;
  if (!evidence) return;
  allow(role, {
    sid: 'WriteEvidence',
    actions: ['s3:PutObject'],
    resources: [`${evidence.bucket.bucketArn}/${evidence.prefix ?? ''}*`],
    why: 'evidence records are written under generated keys (one per restore job) in the evidence bucket only',
  });
  // The table itself only: writes never target its indexes (table.grant() would add `/index/*`).
  if (evidence.table) {
    allow(role, {
      sid: 'IndexEvidence',
      actions: ['dynamodb:PutItem'],
      resources: [evidence.table.tableArn],
      why: 'the evidence index table only',
    });
  }
}

/**
 * A step that posts a deferred verdict (EBS helper flow, S3 merge) records its evidence through the
 * same sinks as the validators: their settings and grants. (Reading the job again is granted by each
 * step's own construct, beside PutRestoreValidationResult.)
 */
export function attachSinks(
  fn: lambda.Function,
  environment: Readonly<Record<string, string>>,
  sinks: Sinks,
): void {
  for (const name of SINK_ENVIRONMENT) {
    const value = environment[name];
    if (value !== undefined) fn.addEnvironment(name, value);
  }
  grantSinks(fn.role as iam.IRole, sinks);
}

/** The lifecycle's permissions: Backup, idempotency, topic, evidence, VPC ENIs. */
export function grantLifecycle(
  role: iam.IRole,
  options: Sinks & { readonly idempotencyTable: dynamodb.ITable; readonly inVpc: boolean },
): void {
  // The lifecycle reads the job, its metadata, and posts VALIDATING and the verdict.
  allow(
    role,
    backupSpec([
      'backup:DescribeRestoreJob',
      'backup:GetRestoreJobMetadata',
      'backup:PutRestoreValidationResult',
    ]),
  );
  // Powertools idempotency: one record per restore job, written, updated and (on error) deleted.
  options.idempotencyTable.grant(
    role,
    'dynamodb:GetItem',
    'dynamodb:PutItem',
    'dynamodb:UpdateItem',
    'dynamodb:DeleteItem',
  );
  grantSinks(role, options);
  if (options.inVpc) {
    allow(role, {
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

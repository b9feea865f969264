/**
 * What differs between validator types on the CDK side, as one declarative record per type
 * (./index.ts holds the table, which the compiler checks covers every type of
 * shared/resource-types.ts). `ValidatorFunction` consumes the record; nothing in it refers to the
 * construct that deploys it, so a record can move next to its validator.
 */
import { Aws } from 'aws-cdk-lib';
import { CREATED_BY_TAG } from '../../shared/guard';
import type { ConfigAccess } from '../config-access';
import type { FileSystemHelperSettings } from '../constructs/file-system-helper';
import type { AllowSpec } from '../core';

/** What a type's record may read to build its settings and statements. */
export interface TypeContext {
  /** The resources the config names for this type (secrets, functions, source buckets, ...). */
  readonly access: ConfigAccess;
  /** KMS keys of compared S3 objects (`RestoreValidationProps.s3KmsKeyArns`). @default - any key, through S3 only */
  readonly s3KmsKeyArns?: readonly string[];
  /** The operator's helper instance for EFS/FSx content checks. @default - none */
  readonly fileSystemHelper?: FileSystemHelperSettings;
}

/** What a type's `compare` checks read besides the restored resource. */
export type CompareSource = 'bucket' | 'table';

/** The CDK side of one validator type. */
export interface ValidatorTypeSpec {
  /**
   * Default timeout in minutes (Lambda allows 15 at most); the construct's `timeout` and
   * `functionSettings` override it.
   * @see https://docs.aws.amazon.com/lambda/latest/dg/configuration-timeout.html
   */
  readonly timeoutMinutes: number;
  /** Default memory (MB); the construct's `memorySize` and `functionSettings` override it. @default 1024 */
  readonly memorySize?: number;
  /**
   * The validator opens database connections, so it runs in the construct's VPC (with the
   * validator security group) when one is given.
   */
  readonly database: boolean;
  /**
   * Read permissions (and, where a validator must create helpers, tag-conditioned create/delete),
   * scoped to restore-test resources by name where the service allows it and to what the config
   * names. Custom validators of the type get them too.
   */
  readonly statements: (ctx: TypeContext) => AllowSpec[];
  /**
   * What `compare` checks of this type read besides the restored resource: source buckets (names or
   * patterns from `compare.sourceBucket` / `match.sourceResourceArn`) or source tables. The config's
   * sources land in `ConfigAccess.sourceBuckets` / `sourceTables` for the statements to scope.
   * @default - none (compare checks read only manifests)
   */
  readonly compareSource?: CompareSource;
  /** Statements only the built-in validator needs (settings-dependent). @default - none */
  readonly extraStatements?: (ctx: TypeContext) => AllowSpec[];
  /** Environment only the built-in validator reads. @default - none */
  readonly environment?: (ctx: TypeContext) => Record<string, string>;
  /** Commands run after bundling, e.g. programs shipped next to the handler. @default - none */
  readonly afterBundling?: (inputDir: string, outputDir: string) => string[];
}

/** `[statement]`, or nothing when it has no resources (a config that names none). */
export function statement(
  sid: string,
  actions: string[],
  resources: string[],
  why: string,
  conditions?: Record<string, unknown>,
): AllowSpec[] {
  if (resources.length === 0) return [];
  return [{ sid, actions, resources, why, ...(conditions ? { conditions } : {}) }];
}

/** `arn:<partition>:<service>:<region>:<account>:<resource>` of this stack. */
export const arn = (service: string, resource: string): string =>
  `arn:${Aws.PARTITION}:${service}:${Aws.REGION}:${Aws.ACCOUNT_ID}:${resource}`;

/** An RDS ARN (`db`, `cluster`, `pg`, `og`, `subgrp`) of this stack's account and region. */
export const rdsArn = (kind: string, name: string): string => arn('rds', `${kind}:${name}`);

/** Only in a request that tags the new resource as the validator's own. */
export const createdByUs = { Null: { [`aws:RequestTag/${CREATED_BY_TAG}`]: 'false' } };
/** Only resources tagged as the validator's own. */
export const ownedByUs = { Null: { [`aws:ResourceTag/${CREATED_BY_TAG}`]: 'false' } };

export const READ_ONLY_DESCRIBE =
  'read-only Describe/List calls on the restored resource, whose identifier AWS Backup generates at restore time; limited to this account and region';

/** What every type may reach because the config names it: only what the profiles of this type name. */
export function configStatements(access: ConfigAccess): AllowSpec[] {
  return [
    ...statement(
      'ReadConfiguredSecrets',
      ['secretsmanager:GetSecretValue'],
      access.secretArns,
      'the secrets the config names; -?????? matches the random suffix Secrets Manager adds',
    ),
    ...statement(
      'InvokeConfiguredCheckFunctions',
      ['lambda:InvokeFunction'],
      access.functionArns,
      "the functions the config's lambda checks name",
    ),
    ...statement(
      'IamDatabaseAuthentication',
      ['rds-db:connect'],
      access.dbUsers.map((u) => arn('rds-db', `dbuser:*/${u}`)),
      "only the database users the config names; the restored instance's resource id (dbuser:<id>/<user>) is generated at restore time",
    ),
    ...statement(
      'ReadManifests',
      ['s3:GetObject'],
      access.manifests.map((m) => `arn:${Aws.PARTITION}:s3:::${m.bucket}/${m.key}`),
      'the manifest objects the config names',
    ),
  ];
}

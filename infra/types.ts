/**
 * The type modules (functions/<type>/type.ts, gathered in functions/types.ts) as infra reads them:
 * with this stack's CDK tokens for their ARNs, and the grants every type gets for what the config
 * names.
 */
import { Aws } from 'aws-cdk-lib';
import { arn, statement, type TypeContext } from '../functions/resource-type';
import { s3KmsDecrypt as s3KmsDecryptIn } from '../functions/s3/type';
import { RESOURCE_TYPE_MODULES } from '../functions/types';
import { VALIDATOR_TYPES, type ValidatorType } from '../shared/resource-types';
import type { ConfigAccess } from './config-access';
import type { AllowSpec } from './core';

export type { ResourceTypeModule, TypeContext } from '../functions/resource-type';
export { comparedBuckets } from '../functions/s3/type';

/** This stack's partition, region and account, as the type modules' ARNs take them. */
export const STACK_AWS = { partition: Aws.PARTITION, region: Aws.REGION, accountId: Aws.ACCOUNT_ID };

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
      access.dbUsers.map((u) => arn(STACK_AWS, 'rds-db', `dbuser:*/${u}`)),
      "only the database users the config names; the restored instance's resource id (dbuser:<id>/<user>) is generated at restore time",
    ),
    ...statement(
      'ReadManifests',
      ['s3:GetObject'],
      access.manifests.map((m) => `arn:${STACK_AWS.partition}:s3:::${m.bucket}/${m.key}`),
      'the manifest objects the config names',
    ),
  ];
}

/** A type's read permissions followed by what the config names for it (built-in and custom validators). */
export function typeStatementsFor(type: ValidatorType, ctx: TypeContext): AllowSpec[] {
  return [...RESOURCE_TYPE_MODULES[type].statements(ctx), ...configStatements(ctx.access)];
}

/** Validator types whose checks open database connections and so run inside the VPC. */
export const DB_VALIDATOR_TYPES: readonly ValidatorType[] = VALIDATOR_TYPES.filter(
  (t) => RESOURCE_TYPE_MODULES[t].database,
);

/**
 * Default timeout per validator type (`timeoutMinutes` of its module). Aurora, DocumentDB and
 * Neptune restores have no instance: the validator creates a temporary one and waits for it inside
 * the Lambda (5-10 minutes before any check runs), so they get Lambda's maximum.
 */
export const DEFAULT_TIMEOUT_MINUTES: Readonly<Record<ValidatorType, number>> = Object.fromEntries(
  VALIDATOR_TYPES.map((t) => [t, RESOURCE_TYPE_MODULES[t].timeoutMinutes]),
) as Record<ValidatorType, number>;

/**
 * Per-type read (and, where a validator must create helpers, tag-conditioned create/delete)
 * permissions, scoped to restore-test resources by name where the service allows it, and to the
 * resources the config names.
 * @see https://docs.aws.amazon.com/service-authorization/latest/reference/reference_policies_actions-resources-contextkeys.html
 */
export function typeStatements(
  type: ValidatorType,
  access: ConfigAccess,
  options: { readonly s3KmsKeyArns?: readonly string[] } = {},
): AllowSpec[] {
  return typeStatementsFor(type, { aws: STACK_AWS, access, ...options });
}

/** `kms:Decrypt` for SSE-KMS objects of the compared buckets (functions/s3/type.ts), in this stack. */
export const s3KmsDecrypt = (buckets: readonly string[], keyArns?: readonly string[]): AllowSpec =>
  s3KmsDecryptIn(STACK_AWS, buckets, keyArns);

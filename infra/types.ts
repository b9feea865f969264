/**
 * One record per validator type (./spec.ts): timeout, memory, VPC need, read permissions, extra
 * settings and grants. Adding a type to shared/resource-types.ts fails to compile until it has one.
 */
import { VALIDATOR_TYPES, type ValidatorType } from '../../shared/resource-types';
import type { ConfigAccess } from '../config-access';
import type { AllowSpec } from '../core';
import { aurora } from './aurora';
import { documentdb } from './documentdb';
import { dynamodb } from './dynamodb';
import { ebs } from './ebs';
import { ec2 } from './ec2';
import { efs } from './efs';
import { fsx } from './fsx';
import { neptune } from './neptune';
import { rds } from './rds';
import { s3 } from './s3';
import { configStatements, type TypeContext, type ValidatorTypeSpec } from './spec';

export { comparedBuckets, s3KmsDecrypt } from './s3';
export type { TypeContext, ValidatorTypeSpec } from './spec';

export const VALIDATOR_TYPE_SPECS: { readonly [T in ValidatorType]: ValidatorTypeSpec } = {
  rds,
  aurora,
  ebs,
  ec2,
  s3,
  dynamodb,
  efs,
  fsx,
  documentdb,
  neptune,
};

/** A type's read permissions followed by what the config names for it (built-in and custom validators). */
export function typeStatementsFor(type: ValidatorType, ctx: TypeContext): AllowSpec[] {
  return [...VALIDATOR_TYPE_SPECS[type].statements(ctx), ...configStatements(ctx.access)];
}

/** Validator types whose checks open database connections and so run inside the VPC. */
export const DB_VALIDATOR_TYPES: readonly ValidatorType[] = VALIDATOR_TYPES.filter(
  (t) => VALIDATOR_TYPE_SPECS[t].database,
);

/**
 * Default timeout per validator type (`timeoutMinutes` of its record). Aurora, DocumentDB and
 * Neptune restores have no instance: the validator creates a temporary one and waits for it inside
 * the Lambda (5-10 minutes before any check runs), so they get Lambda's maximum.
 */
export const DEFAULT_TIMEOUT_MINUTES: Readonly<Record<ValidatorType, number>> = Object.fromEntries(
  VALIDATOR_TYPES.map((t) => [t, VALIDATOR_TYPE_SPECS[t].timeoutMinutes]),
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
  return typeStatementsFor(type, { access, ...options });
}

/**
 * restore-validation's public API: everything needed to write a validator, a check or a check kind
 * outside this repository. Import only from the package root (`import { defineCheck } from
 * 'restore-validation'`); paths below `shared/` are internal and may change in any release.
 *
 * Versioning: this module follows semver. Removing or changing the meaning of anything exported here
 * is a major release; adding exports or optional fields is a minor one. The `lambda` check payload
 * and the `--json` output carry their own `version` fields (docs/extending.md).
 */

// Registers the `lambda` check kind's implementation, so runValidator (Lambda or CLI) can run it.
import './shared/lambda-check';

/**
 * The zod instance the config schemas are built with. Build custom kind schemas with this one, so
 * their types and runtime match the registry's (zod 4).
 */
export { z } from 'zod';
export type { ParsedArn } from './shared/arn';
export { parseArn } from './shared/arn';
export type { CheckFactory } from './shared/check-implementations';
export { checkImplementation, registerCheckImplementation } from './shared/check-implementations';
export type {
  CheckDefinition,
  CheckOutcome,
  CheckResult,
  CheckRunContext,
  CheckStatus,
  RunChecksOptions,
} from './shared/checks';
// Checks
export { defineCheck, errored, fail, pass, runChecks, skip } from './shared/checks';
export type { ClientOptions, Clients } from './shared/clients';
export { createClients, registerClients } from './shared/clients';
export type { Config, Connection, Defaults, Match, Profile } from './shared/config/index';
// Config
export {
  emptyConfig,
  loadConfigFile,
  matchProfile,
  parseConfig,
  parseConfigText,
  profileByName,
} from './shared/config/index';
export type { CheckConfig, CheckKind } from './shared/config/kinds/registry';
// Check kinds: the config vocabulary (schema) and generic implementations
export { checkBase, checkKind, checkKinds, registerCheckKind } from './shared/config/kinds/registry';
export {
  ConfigError,
  ResourceStateError,
  RestoreValidationError,
  reasonOf,
  SafetyGuardError,
} from './shared/errors';
export type { EvidenceRecord } from './shared/evidence';
// SQL: what a custom check over the RDS/Aurora validators' database session needs
export type { SqlFacts, ValidatorModule } from './shared/extend';
export { loadCheckExtensions, loadValidatorModule } from './shared/extend';
// Safety, errors, retries, clients
export {
  assertCreatedByUs,
  assertRestoreTestResource,
  CREATED_BY_TAG,
  isRestoreTestResource,
  RESTORE_TEST_TAG,
} from './shared/guard';
export { createValidatorHandler } from './shared/handler';
export type { RestoreJob } from './shared/job';
// Restore job context
export { localRestoreJob } from './shared/job';
export type { LambdaCheckAnswer, LambdaCheckPayload } from './shared/lambda-check';
// The `lambda` check kind's contract (any language)
export {
  buildLambdaCheckPayload,
  interpretInvokeResponse,
  LAMBDA_CHECK_PAYLOAD_VERSION,
  lambdaCheckAnswerSchema,
} from './shared/lambda-check';
// Local loop (`restore-validation check`)
export type { LocalTarget, TargetOption } from './shared/local';
export { RestoreMetadata } from './shared/metadata';
export type { ResourceType } from './shared/resource-types';
export { RESOURCE_TYPES } from './shared/resource-types';
export type { RetryOptions } from './shared/retry';
export { withRetry } from './shared/retry';
export type { QueryOptions, QueryResult, SqlEngine, SqlPool, SqlRow } from './shared/sql/index';
export { quoteIdentifier, quoteTable, SqlSession, SqlStatementError } from './shared/sql/index';
export type {
  ContextInput,
  RunValidatorOptions,
  ValidationContext,
  ValidationRun,
  ValidatorDefinition,
} from './shared/validator';
// Validators
export { DeferredValidation, defineValidator, runValidator } from './shared/validator';
export type { Verdict } from './shared/verdict';
// Verdicts and evidence
export { decideVerdict } from './shared/verdict';

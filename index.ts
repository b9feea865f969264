// biome-ignore-all assist/source/organizeImports: exports are grouped by topic for readers of the API
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

// Checks
export { defineCheck, errored, fail, pass, runChecks, skip } from './shared/checks';
export type {
  CheckDefinition,
  CheckOutcome,
  CheckResult,
  CheckRunContext,
  CheckStatus,
  RunChecksOptions,
} from './shared/checks';

// Validators
export { DeferredValidation, defineValidator, runValidator } from './shared/validator';
export type {
  ContextInput,
  RunValidatorOptions,
  ValidationContext,
  ValidationRun,
  ValidatorDefinition,
} from './shared/validator';
export { createValidatorHandler } from './shared/handler';

// A validator's settings: the variables of its function's environment, declared once and typed
export { defineSettings, setting } from './shared/env';
export type { Setting, Settings, SettingsOf } from './shared/env';

// Check kinds: the config vocabulary (schema) and generic implementations
export { checkBase, checkKind, checkKinds, registerCheckKind } from './shared/config/kinds/registry';
export type { CheckConfig, CheckKind } from './shared/config/kinds/registry';
export { checkImplementation, registerCheckImplementation } from './shared/check-implementations';
export type { CheckFactory } from './shared/check-implementations';

// The `lambda` check kind's contract (any language)
export {
  LAMBDA_CHECK_PAYLOAD_VERSION,
  buildLambdaCheckPayload,
  interpretInvokeResponse,
  lambdaCheckAnswerSchema,
} from './shared/lambda-check';
export type { LambdaCheckAnswer, LambdaCheckPayload } from './shared/lambda-check';

// Config
export {
  emptyConfig,
  loadConfigFile,
  matchProfile,
  parseConfig,
  parseConfigText,
  profileByName,
} from './shared/config/index';
export type { Config, Connection, Defaults, Match, Profile } from './shared/config/index';

// Restore job context
export { localRestoreJob } from './shared/job';
export type { RestoreJob } from './shared/job';
export { RestoreMetadata } from './shared/metadata';
export { parseArn } from './shared/arn';
export type { ParsedArn } from './shared/arn';
export { RESOURCE_TYPES } from './shared/resource-types';
export type { ResourceType } from './shared/resource-types';

// Local loop (`restore-validation check --validator FILE --extension FILE`)
export type { LocalTarget, TargetOption } from './shared/local';
export { loadCheckExtensions, loadValidatorModule } from './shared/extend';
export type { ValidatorModule } from './shared/extend';

// SQL: what a custom check over the RDS/Aurora validators' database session needs
export type { SqlFacts } from './shared/extend';
export { SqlSession, SqlStatementError, quoteIdentifier, quoteTable } from './shared/sql/index';
export type { QueryOptions, QueryResult, SqlEngine, SqlPool, SqlRow } from './shared/sql/index';

// Safety, errors, retries, clients
export {
  CREATED_BY_TAG,
  RESTORE_TEST_TAG,
  assertCreatedByUs,
  assertRestoreTestResource,
  isRestoreTestResource,
} from './shared/guard';
export {
  ConfigError,
  ResourceStateError,
  RestoreValidationError,
  SafetyGuardError,
  reasonOf,
} from './shared/errors';
export { withRetry } from './shared/retry';
export type { RetryOptions } from './shared/retry';
export { compileGlob, compileRegex, RegexSyntaxError } from './shared/regex';
export type { LinearRegex } from './shared/regex';
export { createClients, registerClients, sdkClientConfig } from './shared/clients';
export type { ClientOptions, Clients } from './shared/clients';

// Verdicts and evidence
export { decideVerdict } from './shared/verdict/index';
export type { Verdict } from './shared/verdict/index';
export type { EvidenceRecord } from './shared/evidence';

/**
 * The zod instance the config schemas are built with. Build custom kind schemas with this one, so
 * their types and runtime match the registry's (zod 4).
 */
export { z } from 'zod';

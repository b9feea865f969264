/**
 * What `import ... from 'restore-validation'` means inside a check extension layer (addCheck): the
 * API of the validator that loaded it (shared/extension-host.ts), published by loadCheckExtensions.
 * A layer must not carry its own copy: the kinds it registers have to land in the registry that
 * validates the config. Every name of index.ts is declared here (test/extend/public-api.test.ts);
 * those the host does not publish are undefined in a layer.
 */
const api = (globalThis as Record<symbol, Record<string, unknown> | undefined>)[
  Symbol.for('restore-validation.api')
];
if (!api) {
  throw new Error(
    'this check extension was loaded outside a restore-validation validator: load it with loadCheckExtensions (RESTORE_VALIDATION_EXTENSIONS)',
  );
}
const get = <T = never>(name: string): T => api[name] as T;

// biome-ignore-start lint/suspicious/noExplicitAny: re-exported as the host typed them (index.ts)
export const defineCheck = get<any>('defineCheck');
export const errored = get<any>('errored');
export const fail = get<any>('fail');
export const pass = get<any>('pass');
export const runChecks = get<any>('runChecks');
export const skip = get<any>('skip');
export const DeferredValidation = get<any>('DeferredValidation');
export const defineValidator = get<any>('defineValidator');
export const runValidator = get<any>('runValidator');
export const defineSettings = get<any>('defineSettings');
export const setting = get<any>('setting');
export const createValidatorHandler = get<any>('createValidatorHandler');
export const checkBase = get<any>('checkBase');
export const checkKind = get<any>('checkKind');
export const checkKinds = get<any>('checkKinds');
export const registerCheckKind = get<any>('registerCheckKind');
export const checkImplementation = get<any>('checkImplementation');
export const registerCheckImplementation = get<any>('registerCheckImplementation');
export const LAMBDA_CHECK_PAYLOAD_VERSION = get<any>('LAMBDA_CHECK_PAYLOAD_VERSION');
export const buildLambdaCheckPayload = get<any>('buildLambdaCheckPayload');
export const interpretInvokeResponse = get<any>('interpretInvokeResponse');
export const lambdaCheckAnswerSchema = get<any>('lambdaCheckAnswerSchema');
export const emptyConfig = get<any>('emptyConfig');
export const loadConfigFile = get<any>('loadConfigFile');
export const matchProfile = get<any>('matchProfile');
export const parseConfig = get<any>('parseConfig');
export const parseConfigText = get<any>('parseConfigText');
export const profileByName = get<any>('profileByName');
export const localRestoreJob = get<any>('localRestoreJob');
export const RestoreMetadata = get<any>('RestoreMetadata');
export const parseArn = get<any>('parseArn');
export const RESOURCE_TYPES = get<any>('RESOURCE_TYPES');
export const loadValidatorModule = get<any>('loadValidatorModule');
export const loadCheckExtensions = get<any>('loadCheckExtensions');
export const SqlSession = get<any>('SqlSession');
export const SqlStatementError = get<any>('SqlStatementError');
export const quoteIdentifier = get<any>('quoteIdentifier');
export const quoteTable = get<any>('quoteTable');
export const assertCreatedByUs = get<any>('assertCreatedByUs');
export const assertRestoreTestResource = get<any>('assertRestoreTestResource');
export const isRestoreTestResource = get<any>('isRestoreTestResource');
export const CREATED_BY_TAG = get<any>('CREATED_BY_TAG');
export const RESTORE_TEST_TAG = get<any>('RESTORE_TEST_TAG');
export const ConfigError = get<any>('ConfigError');
export const ResourceStateError = get<any>('ResourceStateError');
export const RestoreValidationError = get<any>('RestoreValidationError');
export const SafetyGuardError = get<any>('SafetyGuardError');
export const reasonOf = get<any>('reasonOf');
export const withRetry = get<any>('withRetry');
export const createClients = get<any>('createClients');
export const registerClients = get<any>('registerClients');
export const sdkClientConfig = get<any>('sdkClientConfig');
export const compileRegex = get<any>('compileRegex');
export const compileGlob = get<any>('compileGlob');
export const RegexSyntaxError = get<any>('RegexSyntaxError');
export const decideVerdict = get<any>('decideVerdict');
export const z = get<any>('z');
// biome-ignore-end lint/suspicious/noExplicitAny: re-exported as the host typed them (index.ts)

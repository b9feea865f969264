/**
 * The restore lifecycle: from a `Restore Job State Change` event to exactly one verdict.
 *
 *   restoreLifecycle (middy middleware), before: parse event · ignore what is not ours · config ·
 *     idempotency per restore job (a duplicate or a replayed result returns early)
 *   validateRestoreJob (the handler body): DescribeRestoreJob + GetRestoreJobMetadata · pick profile ·
 *     VALIDATING · run the validator under a deadline · finishValidation: PutRestoreValidationResult,
 *     evidence, metrics, notification · FAILED on any error
 *   restoreLifecycle, after / onError: the idempotency record completed (or released for the retry),
 *     the invocation's log keys removed
 *
 * An early return skips every `after` of the stack, so it first runs the Powertools middlewares'
 * clean-up itself (the logger's key reset), as Powertools' own idempotency middleware does.
 * `processRestoreEvent` runs the same middleware and handler without the logger (the CLI, tests).
 * A verdict is immutable: transient errors are retried before deciding, a job that already has a final
 * status is never posted again, and duplicate deliveries of one event are absorbed by Powertools
 * idempotency (DynamoDB) keyed on the restore job id.
 */
import { cleanupMiddlewares } from '@aws-lambda-powertools/commons';
import { IdempotencyAlreadyInProgressError, IdempotencyConfig } from '@aws-lambda-powertools/idempotency';
import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import { makeHandlerIdempotent } from '@aws-lambda-powertools/idempotency/middleware';
import type { BasePersistenceLayer } from '@aws-lambda-powertools/idempotency/persistence';
import {
  BackupClient,
  DescribeRestoreJobCommand,
  type DescribeRestoreJobCommandOutput,
} from '@aws-sdk/client-backup';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import middy, { type MiddlewareObj, type Request } from '@middy/core';
import type { Context } from 'aws-lambda';
import { type Clients, clients as defaultClients, registerClients } from './clients';
import { emptyConfig, loadJsonConfigFile } from './config/load';
import { matchProfile } from './config/match';
import type { Config } from './config/schema';
import { type RuntimeSettings, runtimeSettings } from './env';
import { EventParseError, reasonOf } from './errors';
import { isRestoreJobEvent, parseRestoreJobEvent, type RestoreJobEvent, restoreJobIdOf } from './event';
import type { EvidenceRecord, EvidenceSink } from './evidence';
import { claimedElsewhere, prepareExtensions } from './extend';
import { hasFinalVerdict, loadRestoreJob, type RestoreJob } from './job';
import { logger as defaultLogger, type Logger } from './logger';
import { RESOURCE_TYPES_BY_VALIDATOR, validatorTypeFor } from './resource-types';
import { isRetryableError } from './retry';
// The validator's records go to the stack's sinks (evidence store, metrics, notification).
import './sinks';
import {
  DEFAULT_CLEANUP_TIMEOUT_MS,
  runValidator,
  type ValidationRun,
  type ValidatorDefinition,
} from './validator';
import {
  type EvidenceSource,
  type FinishInput,
  finishValidation,
  fitMessage,
  postVerdict,
} from './verdict/index';

registerClients({ backup: BackupClient, dynamodb: DynamoDBClient });

export type LifecycleOutcome =
  | 'reported' // a final verdict was posted
  | 'dry-run' // a verdict was decided but not posted (replay --dry-run)
  | 'deferred' // handed to Step Functions, which will post the verdict
  | 'already-final' // the job had a final verdict already: nothing posted
  | 'duplicate' // another invocation is validating this job right now
  | 'ignored' // not an event we validate (not COMPLETED, not a restore test)
  | 'rejected'; // the event is malformed: no job can be named, nothing posted

export interface LifecycleResult {
  readonly outcome: LifecycleOutcome;
  readonly restoreJobId?: string;
  readonly verdict?: 'SUCCESSFUL' | 'FAILED';
  readonly message: string;
  readonly evidence?: EvidenceRecord;
}

export interface LifecycleOptions {
  // biome-ignore lint/suspicious/noExplicitAny: validators have their own facts and settings types
  readonly validator: ValidatorDefinition<any, any>;
  /** Config; default: the file named by RESTORE_VALIDATION_CONFIG (loaded once per cold start), or none. */
  readonly config?: Config;
  readonly clients?: Clients;
  readonly settings?: RuntimeSettings;
  readonly logger?: Logger;
  /** Idempotency store; default DynamoDB on IDEMPOTENCY_TABLE_NAME when set, else none. `false` disables it. */
  readonly persistenceStore?: BasePersistenceLayer | false;
  /** Evidence sinks; default: the stack's evidence store, metrics and notifications when configured. */
  readonly sinks?: readonly EvidenceSink[];
  /** Decide but do not post anything to AWS Backup (replay --dry-run). @default settings.dryRun */
  readonly dryRun?: boolean;
}

/** Time kept back from the Lambda's end: AWS Backup calls are aborted this long before it. */
const LAMBDA_END_MARGIN_MS = 500;
const NO_LAMBDA_BUDGET_MS = 15 * 60_000;

let cachedConfig: { path: string | undefined; config?: Config; error?: unknown } | undefined;

/**
 * The runtime config, loaded once per process; a broken file is remembered as an error, not thrown at
 * import. It is the JSON the stack converted from validation.config.yaml at synth.
 */
function runtimeConfig(settings: RuntimeSettings): Config {
  if (!cachedConfig || cachedConfig.path !== settings.configPath) {
    try {
      cachedConfig = {
        path: settings.configPath,
        config: settings.configPath ? loadJsonConfigFile(settings.configPath) : emptyConfig(),
      };
    } catch (error) {
      cachedConfig = { path: settings.configPath, error };
    }
  }
  if (cachedConfig.error) throw cachedConfig.error;
  return cachedConfig.config as Config;
}

const IDEMPOTENCY_EXPIRY_SECONDS = 8 * 24 * 3600; // longer than the longest validation window (168 h)

async function defaultPersistence(
  settings: RuntimeSettings,
  clients: Clients,
): Promise<BasePersistenceLayer | undefined> {
  if (!settings.idempotencyTable) return undefined;
  return new DynamoDBPersistenceLayer({
    tableName: settings.idempotencyTable,
    awsSdkV3Client: clients.dynamodb,
  });
}

const result = (
  outcome: LifecycleOutcome,
  message: string,
  extra: Partial<LifecycleResult> = {},
): LifecycleResult => ({
  outcome,
  message,
  ...extra,
});

/**
 * A restore job to validate, as the lifecycle middleware hands it to the handler (it replaces the
 * event): the parsed event, the config, and everything the validation runs with.
 */
export class RestoreValidation {
  constructor(
    readonly jobId: string,
    readonly event: RestoreJobEvent,
    readonly config: Config,
    // biome-ignore lint/suspicious/noExplicitAny: validators have their own facts and settings types
    readonly validator: ValidatorDefinition<any, any>,
    /** The validator's own settings, as it declared them. */
    readonly validatorSettings: object,
    readonly settings: RuntimeSettings,
    readonly clients: Clients,
    readonly logger: Logger,
    readonly dryRun: boolean,
    readonly sinks: readonly EvidenceSink[] | undefined,
    /** Lambda time left when the invocation started, and the signal that ends AWS Backup calls before it. */
    readonly time: { readonly remaining: number; readonly abortSignal: AbortSignal },
  ) {}

  /** Posts FAILED with the reason (no record: nothing was validated) and says what became of it. */
  async fail(message: string, knownValidationStatus?: string): Promise<LifecycleResult> {
    const { posted } = await this.finish({
      verdict: { verdict: 'FAILED', message },
      ...(knownValidationStatus !== undefined ? { knownValidationStatus } : {}),
    });
    return result(outcomeOf(posted), message, { restoreJobId: this.jobId, verdict: 'FAILED' });
  }

  finish(
    input: Omit<FinishInput, 'restoreJobId' | 'dryRun' | 'abortSignal'> & { evidence?: EvidenceSource },
  ) {
    return finishValidation(
      { ...input, restoreJobId: this.jobId, dryRun: this.dryRun, abortSignal: this.time.abortSignal },
      {
        clients: this.clients,
        settings: this.settings,
        logger: this.logger,
        ...(this.sinks ? { sinks: this.sinks } : {}),
      },
    );
  }
}

const outcomeOf = (posted: 'posted' | 'already-final' | 'dry-run' | undefined): LifecycleOutcome =>
  posted === 'posted' || posted === undefined ? 'reported' : posted;

/** The lifecycle middleware's state in `request.internal`. */
const STATE_KEY = 'restoreValidation.lifecycle';
const LOG_KEYS = ['restoreJobId', 'resourceType', 'validator'];

interface LifecycleState {
  readonly logger: Logger;
  /** The idempotency middleware this invocation runs, on a request keyed by the restore job id. */
  idempotency?: { readonly middleware: MiddlewareObj; readonly request: Request };
}

type LifecycleRequest = Request<unknown, LifecycleResult, Error, Context>;

const stateOf = (request: LifecycleRequest) =>
  (request.internal as Record<string, unknown>)[STATE_KEY] as LifecycleState | undefined;

/** Ends the invocation with `response` from `before`: middy then skips every `after`, so clean up first. */
async function returnEarly(request: LifecycleRequest, response: LifecycleResult): Promise<LifecycleResult> {
  stateOf(request)?.logger.removeKeys(LOG_KEYS);
  await cleanupMiddlewares(request);
  return response;
}

/**
 * The middy middleware for a validator Lambda. `before` answers what needs no validation (an event
 * that is not ours, a configuration error, a duplicate delivery) by returning early, and hands the
 * rest to the handler as a {@link RestoreValidation}; `after` and `onError` complete or release the
 * idempotency record. Errors stand: the one thrown is AWS Backup unreachable for the verdict itself,
 * which Lambda retries (and then the DLQ consumer decides).
 */
export function restoreLifecycle(
  options: LifecycleOptions,
): MiddlewareObj<unknown, LifecycleResult, Error, Context> {
  return {
    before: async (request) => {
      const state: LifecycleState = { logger: options.logger ?? defaultLogger };
      (request.internal as Record<string, unknown>)[STATE_KEY] = state;
      const prepared = await prepare(request.event, request.context, options);
      if (!(prepared instanceof RestoreValidation)) return returnEarly(request, prepared);
      const persistence =
        options.persistenceStore === false
          ? undefined
          : (options.persistenceStore ?? (await defaultPersistence(prepared.settings, prepared.clients)));
      if (persistence && !prepared.dryRun) {
        const answer = await claimJob(request, state, persistence, prepared);
        if (answer) return answer;
      }
      request.event = prepared;
      return undefined;
    },
    after: async (request) => {
      const state = stateOf(request);
      const idempotency = state?.idempotency;
      if (idempotency) {
        // The record keeps a compact result (DynamoDB items are small, and JSON has no undefined);
        // this invocation answers with the full one, evidence included.
        const compact = JSON.parse(JSON.stringify({ ...request.response, evidence: undefined }));
        await idempotency.middleware.after?.({ ...idempotency.request, response: compact });
      }
      state?.logger.removeKeys(LOG_KEYS);
    },
    onError: async (request) => {
      const state = stateOf(request);
      // The retry must validate again, not find this invocation's job in progress.
      await state?.idempotency?.middleware.onError?.(state.idempotency.request);
      state?.logger.removeKeys(LOG_KEYS);
    },
  };
}

/**
 * Claims the job in the idempotency store (Powertools' idempotency middleware, keyed on the restore
 * job id). Returns the answer when another invocation has it: running (a duplicate) or done (its
 * stored result).
 */
async function claimJob(
  request: LifecycleRequest,
  state: LifecycleState,
  persistence: BasePersistenceLayer,
  prepared: RestoreValidation,
): Promise<LifecycleResult | undefined> {
  const config = new IdempotencyConfig({
    eventKeyJmesPath: 'restoreJobId',
    expiresAfterSeconds: IDEMPOTENCY_EXPIRY_SECONDS,
  });
  const middleware = makeHandlerIdempotent({ persistenceStore: persistence, config }) as MiddlewareObj;
  const context = request.context as Partial<Context> | undefined;
  const keyed: Request = {
    event: { restoreJobId: prepared.jobId },
    // Only a real Lambda context bounds the in-progress record by the invocation's remaining time.
    context: (context && 'functionName' in context ? context : undefined) as Context,
    response: undefined,
    error: null,
    internal: request.internal,
  };
  try {
    // A completed record answers with its stored result; Powertools has run the clean-up already.
    const stored = await middleware.before?.(keyed);
    if (stored !== undefined) {
      state.logger.removeKeys(LOG_KEYS);
      return stored as LifecycleResult;
    }
  } catch (err) {
    if (err instanceof IdempotencyAlreadyInProgressError) {
      state.logger.info('duplicate event: this restore job is being validated by another invocation');
      return returnEarly(
        request,
        result('duplicate', 'another invocation is validating this restore job', {
          restoreJobId: prepared.jobId,
        }),
      );
    }
    throw err;
  }
  state.idempotency = { middleware, request: keyed };
  return undefined;
}

/** Everything `before` decides: a result for an event that needs no validation, or the validation. */
async function prepare(
  raw: unknown,
  lambdaContext: Partial<Pick<Context, 'getRemainingTimeInMillis'>> | undefined,
  options: LifecycleOptions,
): Promise<LifecycleResult | RestoreValidation> {
  const settings = options.settings ?? runtimeSettings();
  const clients = options.clients ?? defaultClients();
  const log = options.logger ?? defaultLogger;
  const dryRun = options.dryRun ?? settings.dryRun;
  const validator = options.validator;

  // Every AWS Backup call of this invocation ends before the Lambda does, retries included.
  const remaining = lambdaContext?.getRemainingTimeInMillis?.() ?? NO_LAMBDA_BUDGET_MS;
  const abortSignal = AbortSignal.timeout(Math.max(1, remaining - LAMBDA_END_MARGIN_MS));

  let event: RestoreJobEvent;
  try {
    event = parseRestoreJobEvent(raw);
  } catch (err) {
    const reason = reasonOf(err);
    const restoreJobId = restoreJobIdOf(raw);
    log.error('event rejected', {
      reason,
      field: err instanceof EventParseError ? err.field : undefined,
      restoreJobId,
    });
    // A restore job event that names its job gets a verdict naming the field, not a silent timeout.
    if (restoreJobId && isRestoreJobEvent(raw) && !dryRun)
      return failMalformedJob(clients, settings, restoreJobId, reason, abortSignal, log);
    return result('rejected', reason, restoreJobId ? { restoreJobId } : {});
  }
  const detail = event.detail;
  const jobId = detail.restoreJobId;
  log.appendKeys({ restoreJobId: jobId, resourceType: detail.resourceType, validator: validator.name });

  if (detail.status !== 'COMPLETED') {
    log.info('event ignored: restore job not completed', { status: detail.status });
    return result('ignored', `restore job status is ${detail.status}, not COMPLETED`, {
      restoreJobId: jobId,
    });
  }
  // A custom validator added with addValidator claims its jobs; the built-in one stands aside.
  const claimedBy = claimedElsewhere(validator.name, settings, detail);
  if (claimedBy) {
    log.info('event ignored: restore job belongs to another validator', { reason: claimedBy });
    return result('ignored', claimedBy, { restoreJobId: jobId });
  }
  const validation = (config: Config, validatorSettings: object) =>
    new RestoreValidation(
      jobId,
      event,
      config,
      validator,
      validatorSettings,
      settings,
      clients,
      log,
      dryRun,
      options.sinks,
      { remaining, abortSignal },
    );

  let config: Config;
  let validatorSettings: object;
  try {
    // Check kinds added with addCheck register before the config that uses them is read.
    await prepareExtensions(settings.extensionFiles);
    config = options.config ?? runtimeConfig(settings);
    validatorSettings = validator.settings?.() ?? {};
  } catch (err) {
    // A config that passed synth but fails here (edited by hand, missing file): never a silent timeout.
    const message = fitMessage(`restore-validation configuration error: ${reasonOf(err)}`);
    log.error('configuration error', { reason: message });
    if (!detail.restoreTestingPlanArn) return result('ignored', message, { restoreJobId: jobId });
    return validation(emptyConfig(), {}).fail(message);
  }

  if (!detail.restoreTestingPlanArn && !config.defaults.validateManualRestores) {
    log.info(
      'event ignored: not a restore test (set defaults.validateManualRestores to validate manual restores)',
    );
    return result('ignored', 'not a restore testing job', { restoreJobId: jobId });
  }

  const servedType = validatorTypeFor(detail.resourceType);
  if (
    !servedType ||
    !RESOURCE_TYPES_BY_VALIDATOR[servedType].some((t) => validator.resourceTypes.includes(t))
  ) {
    const message = servedType
      ? `resource type ${detail.resourceType} was routed to the ${validator.name} validator, which does not serve it: check the EventBridge rules`
      : `unknown resource type ${JSON.stringify(detail.resourceType)}: restore-validation has no validator for it`;
    log.error('resource type not served', { reason: message });
    return validation(config, validatorSettings).fail(message);
  }
  return validation(config, validatorSettings);
}

/**
 * The handler body of a validator Lambda: validates the job the lifecycle middleware prepared and
 * finishes it (verdict, evidence, sinks). Throws only when AWS Backup cannot be reached to read the
 * job or post the verdict, so that Lambda's async retry (and then the DLQ consumer) tries again.
 */
export async function validateRestoreJob(validation: unknown): Promise<LifecycleResult> {
  if (!(validation instanceof RestoreValidation))
    throw new TypeError(
      'validateRestoreJob runs behind the restoreLifecycle middleware, which prepares its job',
    );
  const { jobId, event, config, validator, clients, logger: log, time } = validation;
  let job: RestoreJob;
  try {
    job = await loadRestoreJob(clients.backup, jobId, event, { abortSignal: time.abortSignal });
  } catch (err) {
    // Retry before a verdict: throttling or an outage that outlasted the client's retries is not a
    // fact about the restore. Throw, so Lambda retries the event (and then the DLQ consumer decides).
    if (isRetryableError(err) || time.abortSignal.aborted) {
      log.error('restore job unreadable for now; the event will be retried', { reason: reasonOf(err) });
      throw err;
    }
    const message = fitMessage(`could not read the restore job from AWS Backup: ${reasonOf(err)}`);
    log.error('restore job unreadable', { reason: message });
    // The job's current status is unknowable here; a refusal because it is final is still absorbed.
    return validation.fail(message, '');
  }
  if (hasFinalVerdict(job)) {
    log.info('restore job already has a final verdict; nothing to do', {
      validationStatus: job.validationStatus,
    });
    return result('already-final', `restore job already has validation status ${job.validationStatus}`, {
      restoreJobId: jobId,
    });
  }

  const profile = matchProfile(config, {
    resourceType: job.resourceType,
    sourceResourceArn: job.sourceResourceArn,
    createdResourceArn: job.createdResourceArn,
    restoreTestingPlanName: job.restoreTestingPlanName,
  });
  log.info('validation started', { profile: profile?.name ?? '(none: built-in checks only)' });

  if ((profile?.reportValidating ?? config.defaults.reportValidating) && !validation.dryRun) {
    try {
      // Not a verdict: the job says it is being checked (postVerdict never writes over a final one).
      await postVerdict(
        clients.backup,
        jobId,
        'VALIDATING',
        `restore-validation ${validator.name} validator is checking the restored resource`,
        { abortSignal: time.abortSignal, knownValidationStatus: job.validationStatus ?? '' },
      );
    } catch (err) {
      log.warn('could not post VALIDATING', { reason: reasonOf(err) });
    }
  }

  const reserveMs = config.defaults.reserveSeconds * 1000;
  // Checks end `reserveMs` before the Lambda (at least 1 s of checks), never after its calls are aborted.
  const deadline =
    Date.now() + Math.min(time.remaining - LAMBDA_END_MARGIN_MS, Math.max(1_000, time.remaining - reserveMs));
  let run: ValidationRun;
  try {
    run = await runValidator(
      validator,
      {
        job,
        profile,
        config,
        logger: log,
        clients,
        deadline,
        mode: 'lambda',
        target: {},
        settings: validation.validatorSettings,
        // Validators that hand off to Step Functions must know a dry run posts nothing.
        dryRun: validation.dryRun,
      },
      // Clean-up may run after the deadline: half the reserve, the other half is for the verdict.
      { cleanupTimeoutMs: Math.max(1_000, Math.min(DEFAULT_CLEANUP_TIMEOUT_MS, reserveMs / 2)) },
    );
  } catch (err) {
    // runValidator turns failures into results; reaching here is a bug, still a verdict.
    const message = fitMessage(`validator crashed: ${reasonOf(err)}`);
    log.error('validator crashed', { reason: message });
    return validation.fail(message);
  }

  for (const r of run.results)
    log.info('check finished', { checkId: r.id, status: r.status, durationMs: r.durationMs });
  if (run.deferredTo) log.info('validation handed to Step Functions', { executionArn: run.deferredTo });

  // A hand-off posts nothing now: the execution posts the verdict; the record says DEFERRED.
  const { posted, evidence } = await validation.finish({
    ...(run.deferredTo ? {} : { verdict: run.verdict }),
    evidence: { kind: 'run', job, run, validator: validator.name, profile: profile?.name },
  });
  if (!run.deferredTo) log.info('verdict', { verdict: run.verdict.verdict, posted });
  return result(
    run.deferredTo ? 'deferred' : outcomeOf(posted),
    run.deferredTo ? `handed to ${run.deferredTo}` : run.verdict.message,
    {
      restoreJobId: jobId,
      verdict: run.deferredTo ? undefined : run.verdict.verdict,
      evidence,
    },
  );
}

/**
 * A restore job event with a field of the wrong type: the job itself is read from AWS Backup, and a
 * completed restore test that has no final verdict yet gets FAILED with the event's problem.
 */
async function failMalformedJob(
  clients: Clients,
  settings: RuntimeSettings,
  restoreJobId: string,
  reason: string,
  abortSignal: AbortSignal,
  log: Logger,
): Promise<LifecycleResult> {
  let described: DescribeRestoreJobCommandOutput;
  try {
    described = await clients.backup.send(new DescribeRestoreJobCommand({ RestoreJobId: restoreJobId }), {
      abortSignal,
    });
  } catch (err) {
    if (isRetryableError(err) || abortSignal.aborted) throw err;
    // No such job (or not ours to read): nothing can be posted for it.
    log.warn('malformed event names a job AWS Backup does not return', { reason: reasonOf(err) });
    return result('rejected', reason, { restoreJobId });
  }
  const isRestoreTest = Boolean(described.CreatedBy?.RestoreTestingPlanArn);
  if ((described.Status ?? '').toUpperCase() !== 'COMPLETED' || !isRestoreTest)
    return result('rejected', reason, { restoreJobId });
  const message = fitMessage(`restore-validation could not validate this restore job: ${reason}`);
  const { posted } = await finishValidation(
    {
      restoreJobId,
      verdict: { verdict: 'FAILED', message },
      dryRun: false,
      abortSignal,
      knownValidationStatus: described.ValidationStatus ?? '',
    },
    { clients, settings, logger: log },
  );
  log.info('verdict for a malformed event', { restoreJobId, posted });
  return result(outcomeOf(posted), message, { restoreJobId, verdict: 'FAILED' });
}

/**
 * Runs the whole lifecycle for one event: the lifecycle middleware and the validation, without a
 * logger middleware (the CLI's replay, the demo, tests). Resolves with what happened; it throws only
 * when AWS Backup itself cannot be reached, as the Lambda does.
 */
export function processRestoreEvent(
  raw: unknown,
  lambdaContext: Pick<Context, 'getRemainingTimeInMillis'> | undefined,
  options: LifecycleOptions,
): Promise<LifecycleResult> {
  // No middy time-out of its own: outside Lambda nothing ends the run but the lifecycle's deadlines.
  const run = middy<unknown, LifecycleResult, Error, Context>({ timeoutEarlyInMillis: 0 })
    .use(restoreLifecycle(options))
    .handler(validateRestoreJob);
  return run(raw, (lambdaContext ?? {}) as Context);
}

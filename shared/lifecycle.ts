/**
 * The restore lifecycle: from a `Restore Job State Change` event to exactly one verdict.
 *
 *   parse event · ignore what is not ours · idempotency per restore job · DescribeRestoreJob +
 *   GetRestoreJobMetadata · pick profile · VALIDATING · run the validator under a deadline ·
 *   PutRestoreValidationResult · evidence, metrics, notification · FAILED on any error
 *
 * `processRestoreEvent` is the plain function; `restoreLifecycle` is the middy middleware that runs it
 * for a validator Lambda. A verdict is immutable: transient errors are retried before deciding, a job
 * that already has a final status is never posted again, and duplicate deliveries of one event are
 * absorbed by Powertools idempotency (DynamoDB) keyed on the restore job id.
 */
import {
  IdempotencyAlreadyInProgressError,
  IdempotencyConfig,
  makeIdempotent,
} from '@aws-lambda-powertools/idempotency';
import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import type { BasePersistenceLayer } from '@aws-lambda-powertools/idempotency/persistence';
import {
  BackupClient,
  DescribeRestoreJobCommand,
  type DescribeRestoreJobCommandOutput,
} from '@aws-sdk/client-backup';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { MiddlewareObj } from '@middy/core';
import type { Context } from 'aws-lambda';
import { type Clients, clients as defaultClients, registerClients } from './clients';
import { emptyConfig, loadJsonConfigFile } from './config/load';
import { matchProfile } from './config/match';
import type { Config } from './config/schema';
import { type RuntimeSettings, runtimeSettings } from './env';
import { EventParseError, reasonOf } from './errors';
import { isRestoreJobEvent, parseRestoreJobEvent, type RestoreJobEvent, restoreJobIdOf } from './event';
import { buildEvidence, type EvidenceRecord } from './evidence';
import { claimedElsewhere, prepareExtensions } from './extend';
import { hasFinalVerdict, loadRestoreJob, type RestoreJob } from './job';
import { logger as defaultLogger, type Logger } from './logger';
import { postVerdict } from './report';
import { RESOURCE_TYPES_BY_VALIDATOR, validatorTypeFor } from './resource-types';
import { isRetryableError } from './retry';
import { defaultEvidenceSinks } from './sinks';
import {
  DEFAULT_CLEANUP_TIMEOUT_MS,
  runValidator,
  type ValidationRun,
  type ValidatorDefinition,
} from './validator';
import { fitMessage } from './verdict';

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

/** Receives the evidence record after a verdict (evidence store, metrics, notifications). */
export type EvidenceSink = (
  record: EvidenceRecord,
  deps: { clients: Clients; settings: RuntimeSettings },
) => Promise<void>;

export interface LifecycleOptions {
  // biome-ignore lint/suspicious/noExplicitAny: validators have their own facts types
  readonly validator: ValidatorDefinition<any>;
  /** Config; default: the file named by RESTORE_VALIDATION_CONFIG (loaded once per cold start), or none. */
  readonly config?: Config;
  readonly clients?: Clients;
  readonly settings?: RuntimeSettings;
  readonly logger?: Logger;
  /** Idempotency store; default DynamoDB on IDEMPOTENCY_TABLE_NAME when set, else none. `false` disables it. */
  readonly persistenceStore?: BasePersistenceLayer | false;
  /** Evidence sinks; default: the stack's evidence store, metrics and notifications when configured. */
  readonly sinks?: readonly EvidenceSink[];
  /** Decide but do not post anything to AWS Backup (replay --dry-run). */
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
 * Runs the whole lifecycle for one event. Resolves with what happened; it throws only when AWS Backup
 * itself cannot be reached to post a verdict, so that Lambda's async retry (and then the DLQ consumer)
 * tries again.
 */
export async function processRestoreEvent(
  raw: unknown,
  lambdaContext: Pick<Context, 'getRemainingTimeInMillis'> | undefined,
  options: LifecycleOptions,
): Promise<LifecycleResult> {
  const settings = options.settings ?? runtimeSettings();
  const clients = options.clients ?? defaultClients();
  const log = options.logger ?? defaultLogger;
  const dryRun = options.dryRun ?? settings.dryRun;
  const validator = options.validator;

  // Every AWS Backup call of this invocation ends before the Lambda does, retries included.
  const remaining = lambdaContext?.getRemainingTimeInMillis() ?? NO_LAMBDA_BUDGET_MS;
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
      return failMalformedJob(clients, restoreJobId, reason, abortSignal, log);
    return result('rejected', reason, restoreJobId ? { restoreJobId } : {});
  }
  const detail = event.detail;
  const jobId = detail.restoreJobId;
  log.appendKeys({ restoreJobId: jobId, resourceType: detail.resourceType, validator: validator.name });

  try {
    if (detail.status !== 'COMPLETED') {
      log.info('event ignored: restore job not completed', { status: detail.status });
      return result('ignored', `restore job status is ${detail.status}, not COMPLETED`, {
        restoreJobId: jobId,
      });
    }
    // A custom validator added with addValidator claims its jobs; the built-in one stands aside.
    const claimedBy = claimedElsewhere(validator.name, settings.raw, detail);
    if (claimedBy) {
      log.info('event ignored: restore job belongs to another validator', { reason: claimedBy });
      return result('ignored', claimedBy, { restoreJobId: jobId });
    }
    const post = async (
      status: 'SUCCESSFUL' | 'FAILED' | 'VALIDATING',
      message: string,
      knownValidationStatus?: string,
    ) =>
      dryRun
        ? ('dry-run' as const)
        : postVerdict(clients.backup, jobId, status, message, { abortSignal, knownValidationStatus });

    let config: Config;
    try {
      // Check kinds added with addCheck register before the config that uses them is read.
      await prepareExtensions(settings.raw);
      config = options.config ?? runtimeConfig(settings);
    } catch (err) {
      // A config that passed synth but fails here (edited by hand, missing file): never a silent timeout.
      const message = fitMessage(`restore-validation configuration error: ${reasonOf(err)}`);
      log.error('configuration error', { reason: message });
      if (!detail.restoreTestingPlanArn) return result('ignored', message, { restoreJobId: jobId });
      const posted = await post('FAILED', message);
      return result(posted === 'posted' ? 'reported' : posted, message, {
        restoreJobId: jobId,
        verdict: 'FAILED',
      });
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
      const posted = await post('FAILED', message);
      return result(posted === 'posted' ? 'reported' : posted, message, {
        restoreJobId: jobId,
        verdict: 'FAILED',
      });
    }

    const validateJob = async (input: { restoreJobId: string }): Promise<LifecycleResult> =>
      validateOnce(
        input.restoreJobId,
        event,
        config,
        { ...options, settings, clients, logger: log, dryRun },
        { remaining, abortSignal },
        post,
      );

    const persistence =
      options.persistenceStore === false
        ? undefined
        : (options.persistenceStore ?? (await defaultPersistence(settings, clients)));
    if (!persistence || dryRun) return await validateJob({ restoreJobId: jobId });
    const idempotencyConfig = new IdempotencyConfig({
      eventKeyJmesPath: 'restoreJobId',
      expiresAfterSeconds: IDEMPOTENCY_EXPIRY_SECONDS,
    });
    if (lambdaContext && 'functionName' in lambdaContext)
      idempotencyConfig.registerLambdaContext(lambdaContext as Context);
    // The idempotency record keeps a compact result (DynamoDB items are small, and JSON has no undefined);
    // the invocation that really ran returns the full result with its evidence.
    let full: LifecycleResult | undefined;
    const once = makeIdempotent(
      async (input: { restoreJobId: string }) => {
        full = await validateJob(input);
        return JSON.parse(JSON.stringify({ ...full, evidence: undefined })) as LifecycleResult;
      },
      { persistenceStore: persistence, config: idempotencyConfig },
    );
    try {
      const stored = await once({ restoreJobId: jobId });
      return full ?? stored;
    } catch (err) {
      if (err instanceof IdempotencyAlreadyInProgressError) {
        log.info('duplicate event: this restore job is being validated by another invocation');
        return result('duplicate', 'another invocation is validating this restore job', {
          restoreJobId: jobId,
        });
      }
      throw err;
    }
  } finally {
    log.removeKeys(['restoreJobId', 'resourceType', 'validator']);
  }
}

type Post = (
  status: 'SUCCESSFUL' | 'FAILED' | 'VALIDATING',
  message: string,
  known?: string,
) => Promise<'posted' | 'already-final' | 'dry-run'>;

async function validateOnce(
  jobId: string,
  event: RestoreJobEvent,
  config: Config,
  options: LifecycleOptions & {
    settings: RuntimeSettings;
    clients: Clients;
    logger: Logger;
    dryRun: boolean;
  },
  time: { remaining: number; abortSignal: AbortSignal },
  post: Post,
): Promise<LifecycleResult> {
  const { settings, clients, logger: log, validator } = options;
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
    const posted = await post('FAILED', message, '');
    return result(posted === 'posted' ? 'reported' : posted, message, {
      restoreJobId: jobId,
      verdict: 'FAILED',
    });
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

  if (profile?.reportValidating ?? config.defaults.reportValidating) {
    try {
      await post(
        'VALIDATING',
        `restore-validation ${validator.name} validator is checking the restored resource`,
        job.validationStatus ?? '',
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
        // Validators that hand off to Step Functions must know a dry run posts nothing.
        settings: options.dryRun ? { ...settings.raw, RESTORE_VALIDATION_DRY_RUN: 'true' } : settings.raw,
      },
      // Clean-up may run after the deadline: half the reserve, the other half is for the verdict.
      { cleanupTimeoutMs: Math.max(1_000, Math.min(DEFAULT_CLEANUP_TIMEOUT_MS, reserveMs / 2)) },
    );
  } catch (err) {
    // runValidator turns failures into results; reaching here is a bug, still a verdict.
    const message = fitMessage(`validator crashed: ${reasonOf(err)}`);
    log.error('validator crashed', { reason: message });
    const posted = await post('FAILED', message);
    return result(posted === 'posted' ? 'reported' : posted, message, {
      restoreJobId: jobId,
      verdict: 'FAILED',
    });
  }

  for (const r of run.results)
    log.info('check finished', { checkId: r.id, status: r.status, durationMs: r.durationMs });

  let reported = false;
  let outcome: LifecycleOutcome;
  if (run.deferredTo) {
    outcome = 'deferred';
    log.info('validation handed to Step Functions', { executionArn: run.deferredTo });
  } else {
    const posted = await post(run.verdict.verdict, run.verdict.message);
    reported = posted === 'posted';
    outcome = posted === 'posted' ? 'reported' : posted;
    log.info('verdict', { verdict: run.verdict.verdict, posted });
  }

  const evidence = buildEvidence({
    job,
    run,
    validator: validator.name,
    profile: profile?.name,
    reported,
    mode: options.dryRun ? 'dry-run' : 'lambda',
    codeVersion: settings.codeVersion,
  });
  const sinks = options.sinks ?? defaultEvidenceSinks();
  for (const sink of sinks) {
    try {
      await sink(evidence, { clients, settings });
    } catch (err) {
      log.warn('evidence sink failed', { reason: reasonOf(err) });
    }
  }
  return result(outcome, run.deferredTo ? `handed to ${run.deferredTo}` : run.verdict.message, {
    restoreJobId: jobId,
    verdict: run.deferredTo ? undefined : run.verdict.verdict,
    evidence,
  });
}

/**
 * A restore job event with a field of the wrong type: the job itself is read from AWS Backup, and a
 * completed restore test that has no final verdict yet gets FAILED with the event's problem.
 */
async function failMalformedJob(
  clients: Clients,
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
  const posted = await postVerdict(clients.backup, restoreJobId, 'FAILED', message, {
    abortSignal,
    knownValidationStatus: described.ValidationStatus ?? '',
  });
  log.info('verdict for a malformed event', { restoreJobId, posted });
  return result(posted === 'posted' ? 'reported' : posted, message, { restoreJobId, verdict: 'FAILED' });
}

const INTERNAL_KEY = 'restoreValidation';

/**
 * The middy middleware for a validator Lambda: it runs the whole lifecycle in `before` and returns the
 * outcome as the response, so the base handler never runs for a restore event. Its `onError` turns any
 * unexpected error into a logged response, unless it is the one case we want Lambda to retry (AWS
 * Backup unreachable for the verdict itself).
 */
export function restoreLifecycle(
  options: LifecycleOptions,
): MiddlewareObj<unknown, LifecycleResult, Error, Context> {
  return {
    before: async (request) => {
      const outcome = await processRestoreEvent(request.event, request.context, options);
      (request.internal as Record<string, unknown>)[INTERNAL_KEY] = outcome;
      return outcome;
    },
  };
}

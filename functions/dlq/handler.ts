/**
 * DLQ consumer: every message in the dead-letter queue is a restore job whose validation event was
 * not delivered (EventBridge target DLQ) or whose validator failed every async attempt (Lambda
 * on-failure destination). Leaving such a job alone ends as TIMED_OUT hours later with no reason;
 * posting FAILED now says why. Jobs that already have a final verdict are left alone.
 *
 * Message bodies:
 * - EventBridge DLQ: the original `Restore Job State Change` event; attributes ERROR_CODE/ERROR_MESSAGE.
 * - Lambda on-failure destination: `{ requestContext: { condition, approximateInvokeCount },
 *   requestPayload: <event>, responsePayload: { errorType, errorMessage } }`.
 * @see https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-rule-dlq.html
 * @see https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-retain-records.html
 */
import {
  BackupClient,
  DescribeRestoreJobCommand,
  type DescribeRestoreJobCommandOutput,
} from '@aws-sdk/client-backup';
import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { createClients, sdkClientConfig } from '../../shared/clients';
import { runtimeSettings } from '../../shared/env';
import { isNotFoundError, reasonOf } from '../../shared/errors';
import { logger as defaultLogger, type Logger } from '../../shared/logger';
import { finishValidation, isFinalValidationStatus } from '../../shared/verdict/index';

/** What one DLQ message says: the job and why it was not validated. */
export type DlqMessage =
  | {
      readonly ok: true;
      readonly restoreJobId: string;
      readonly reason: string;
      readonly isRestoreTest: boolean | undefined;
    }
  | { readonly ok: false; readonly problem: string };

function attribute(record: SQSRecord, name: string): string | undefined {
  const value = record.messageAttributes?.[name]?.stringValue;
  return value ? value.replace(/\s+/g, ' ').slice(0, 300) : undefined;
}

/** Parses one SQS record into the restore job it names and the reason for FAILED. Never throws. */
export function parseDlqRecord(record: SQSRecord): DlqMessage {
  if (typeof record.body !== 'string' || record.body.trim() === '')
    return { ok: false, problem: 'record has no body' };
  let body: unknown;
  try {
    body = JSON.parse(record.body);
  } catch {
    return { ok: false, problem: 'body is not JSON' };
  }
  if (!body || typeof body !== 'object') return { ok: false, problem: 'body is not a JSON object' };
  const wrapped = body as {
    requestPayload?: unknown;
    requestContext?: { condition?: string; approximateInvokeCount?: number };
    responsePayload?: { errorType?: string; errorMessage?: string } | null;
  };
  if ('requestPayload' in wrapped) {
    const restoreJobId = restoreJobIdOf(wrapped.requestPayload);
    if (!restoreJobId)
      return {
        ok: false,
        problem: 'Lambda failure record whose requestPayload names no detail.restoreJobId',
      };
    const condition = wrapped.requestContext?.condition ?? 'unknown condition';
    const attempts = wrapped.requestContext?.approximateInvokeCount;
    const error = wrapped.responsePayload?.errorType
      ? `${wrapped.responsePayload.errorType}: ${wrapped.responsePayload.errorMessage ?? ''}`.trim()
      : wrapped.responsePayload?.errorMessage;
    const why =
      condition === 'EventAgeExceeded'
        ? 'the validation event expired before the validator could run it (EventAgeExceeded)'
        : `the validator failed${attempts ? ` after ${attempts} attempts` : ''} (${condition})`;
    return {
      ok: true,
      restoreJobId,
      reason: `restore-validation could not validate this restore job: ${why}${error ? `: ${error.replace(/\s+/g, ' ').slice(0, 400)}` : ''}`,
      isRestoreTest: hasPlan(wrapped.requestPayload),
    };
  }
  const restoreJobId = restoreJobIdOf(body);
  if (!restoreJobId)
    return {
      ok: false,
      problem:
        'neither an EventBridge restore job event nor a Lambda failure record (no detail.restoreJobId)',
    };
  const code = attribute(record, 'ERROR_CODE');
  const message = attribute(record, 'ERROR_MESSAGE');
  return {
    ok: true,
    restoreJobId,
    reason: `restore-validation could not validate this restore job: EventBridge could not deliver the event to the validator${code ? ` (${code}${message ? `: ${message}` : ''})` : ''}`,
    isRestoreTest: hasPlan(body),
  };
}

/**
 * The restore job id an event names. Not shared/event's parser on purpose: that pulls zod and yaml
 * into this bundle, and a DLQ message only needs the id (the job itself is read from AWS Backup).
 */
export function restoreJobIdOf(raw: unknown): string | undefined {
  const id = (raw as { detail?: { restoreJobId?: unknown } } | undefined)?.detail?.restoreJobId;
  return typeof id === 'string' && id.trim().length > 0 ? id.trim() : undefined;
}

function hasPlan(event: unknown): boolean | undefined {
  const detail = (event as { detail?: { restoreTestingPlanArn?: unknown } } | undefined)?.detail;
  if (!detail) return undefined;
  return typeof detail.restoreTestingPlanArn === 'string' && detail.restoreTestingPlanArn.length > 0;
}

export interface DlqHandlerDeps {
  /** Retries transient errors itself (build it with shared/clients `sdkClientConfig`). */
  readonly backup: BackupClient;
  readonly logger?: Logger;
  /** Log what would be posted instead of posting. */
  readonly dryRun?: boolean;
}

/** What happened to one record (returned for tests; the Lambda returns only the batch failures). */
export type RecordOutcome =
  | 'posted'
  | 'already-final'
  | 'not-a-restore-test'
  | 'unknown-job'
  | 'dropped'
  | 'dry-run'
  | 'retry';

/** Builds the SQS handler. Each record is independent: one failure never fails the batch. */
export function createDlqHandler(deps: DlqHandlerDeps) {
  const log = deps.logger ?? defaultLogger;
  const clients = createClients({}, { backup: deps.backup });

  async function handleRecord(record: SQSRecord): Promise<RecordOutcome> {
    const parsed = parseDlqRecord(record);
    if (!parsed.ok) {
      // Retrying cannot make it parseable: report it and drop it (the DLQ alarm has fired already).
      log.error('dlq message dropped: cannot tell which restore job it is about', {
        messageId: record.messageId,
        problem: parsed.problem,
        bodyBytes: typeof record.body === 'string' ? record.body.length : 0,
      });
      return 'dropped';
    }
    const { restoreJobId, reason } = parsed;
    let job: DescribeRestoreJobCommandOutput;
    try {
      job = await deps.backup.send(new DescribeRestoreJobCommand({ RestoreJobId: restoreJobId }));
    } catch (err) {
      // A job AWS Backup does not know will not appear by retrying: drop it instead of looping.
      if (!isNotFoundError(err)) throw err;
      log.error('dlq message dropped: AWS Backup has no such restore job', {
        messageId: record.messageId,
        restoreJobId,
        reason: reasonOf(err),
      });
      return 'unknown-job';
    }
    const current = job.ValidationStatus;
    if (isFinalValidationStatus(current)) {
      log.info('dlq message skipped: job already has a final verdict', {
        restoreJobId,
        validationStatus: current,
      });
      return 'already-final';
    }
    const isRestoreTest = Boolean(job.CreatedBy?.RestoreTestingPlanArn) || parsed.isRestoreTest === true;
    if (!isRestoreTest) {
      log.info('dlq message skipped: not a restore testing job', { restoreJobId });
      return 'not-a-restore-test';
    }
    // A verdict without a record: nothing was validated, and the job is read, not judged.
    const { posted = 'dry-run' } = await finishValidation(
      {
        restoreJobId,
        verdict: { verdict: 'FAILED', message: reason },
        dryRun: deps.dryRun ?? false,
        knownValidationStatus: current ?? '',
      },
      { clients, logger: log },
    );
    if (posted === 'dry-run') log.info('dry run: would post FAILED', { restoreJobId, reason });
    else log.info('dlq verdict', { restoreJobId, result: posted });
    return posted;
  }

  async function handler(event: SQSEvent): Promise<SQSBatchResponse & { outcomes: RecordOutcome[] }> {
    const batchItemFailures: SQSBatchResponse['batchItemFailures'] = [];
    const outcomes: RecordOutcome[] = [];
    for (const record of event.Records ?? []) {
      try {
        outcomes.push(await handleRecord(record));
      } catch (err) {
        // Transient or unknown: let SQS redeliver this one; after maxReceiveCount it is parked (alarmed).
        log.error('dlq message failed; will be retried', {
          messageId: record.messageId,
          reason: reasonOf(err),
        });
        batchItemFailures.push({ itemIdentifier: record.messageId });
        outcomes.push('retry');
      }
    }
    return { batchItemFailures, outcomes };
  }
  return handler;
}

let lambdaHandler: ReturnType<typeof createDlqHandler> | undefined;

/** The Lambda entry (SQS event source with ReportBatchItemFailures). */
export async function handler(event: SQSEvent): Promise<SQSBatchResponse> {
  if (!lambdaHandler) {
    const settings = runtimeSettings();
    lambdaHandler = createDlqHandler({
      backup: new BackupClient(sdkClientConfig({ region: settings.region })),
      dryRun: settings.dryRun,
    });
  }
  const { batchItemFailures } = await lambdaHandler(event);
  return { batchItemFailures };
}

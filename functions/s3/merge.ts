/**
 * The Distributed Map's final step: reads the map's results (written to S3 by its ResultWriter),
 * merges the counts of every range, folds in the checks run before the hand-off, decides the verdict
 * and posts it with PutRestoreValidationResult. A range that failed, or a map that failed, makes the
 * comparison an error, never a pass.
 * @see https://docs.aws.amazon.com/step-functions/latest/dg/input-output-resultwriter.html
 */
import { BackupClient } from '@aws-sdk/client-backup';
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { CheckResult } from '../../shared/checks';
import { type Clients, clients as defaultClients, registerClients } from '../../shared/clients';
import { type RuntimeSettings, runtimeSettings } from '../../shared/env';
import { reasonOf } from '../../shared/errors';
import type { EvidenceSink } from '../../shared/evidence';
import { logger } from '../../shared/logger';
// The final record goes to the stack's sinks (evidence store, metrics, notification).
import '../../shared/sinks';
import { decideVerdict, finishValidation, type Verdict } from '../../shared/verdict/index';
import { createS3Client } from './client';
import { outcomeOf } from './compare-check';
import type { ExecutionInput } from './distributed';
import { mergeResults } from './engine';
import type { RangeResult, WorkerOutput } from './worker';

registerClients({ backup: BackupClient });

export interface MergeEvent extends ExecutionInput {
  /** The Map state's output with a ResultWriter: where the results manifest is. */
  readonly map?: { readonly ResultWriterDetails?: { readonly Bucket?: string; readonly Key?: string } };
  /** Set by the Map state's Catch. */
  readonly mapError?: { readonly Error?: string; readonly Cause?: string };
}

interface ResultManifest {
  readonly ResultFiles?: Partial<Record<'SUCCEEDED' | 'FAILED' | 'PENDING', { Key?: string }[]>>;
}

interface ChildResult {
  readonly Status?: string;
  readonly Output?: string;
  readonly Error?: string;
  readonly Cause?: string;
}

async function readJson<T>(s3: S3Client, bucket: string, key: string): Promise<T> {
  const out = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return JSON.parse((await out.Body?.transformToString('utf8')) ?? 'null') as T;
}

export interface MergedRanges {
  readonly ranges: RangeResult[];
  readonly failed: number;
  readonly firstFailure?: string;
}

/** Reads every child execution's output listed in the ResultWriter manifest. */
export async function readMapResults(
  s3: S3Client,
  bucket: string,
  manifestKey: string,
): Promise<MergedRanges> {
  const manifest = await readJson<ResultManifest>(s3, bucket, manifestKey);
  const ranges: RangeResult[] = [];
  let failed = 0;
  let firstFailure: string | undefined;
  for (const status of ['SUCCEEDED', 'FAILED', 'PENDING'] as const) {
    for (const file of manifest.ResultFiles?.[status] ?? []) {
      if (!file.Key) continue;
      const children = await readJson<ChildResult[]>(s3, bucket, file.Key);
      for (const child of children ?? []) {
        const output =
          child.Status === 'SUCCEEDED' && child.Output
            ? (JSON.parse(child.Output) as WorkerOutput)
            : undefined;
        if (output?.done && output.acc) ranges.push(output.acc);
        else {
          failed++;
          firstFailure ??= child.Error
            ? `${child.Error}: ${child.Cause ?? ''}`.slice(0, 200)
            : `child execution ${child.Status ?? 'unknown'}`;
        }
      }
    }
  }
  return { ranges, failed, firstFailure };
}

/** Decides the verdict from the merged ranges and the checks run before the hand-off. */
export function decide(
  event: MergeEvent,
  merged: MergedRanges | undefined,
  durationMs: number,
): { verdict: Verdict; compare: CheckResult } {
  let compare: CheckResult;
  if (!merged) {
    compare = {
      id: event.checkId,
      status: 'error',
      detail: `the distributed comparison failed: ${event.mapError?.Error ?? 'no results'}${event.mapError?.Cause ? ` (${event.mapError.Cause.slice(0, 200)})` : ''}`,
      durationMs,
    };
  } else {
    const total = mergeResults(merged.ranges);
    const outcome = outcomeOf({ ...total, complete: merged.failed === 0 }, event.options, event.reference, {
      ranges: merged.ranges.length,
      failedRanges: merged.failed,
    });
    compare =
      merged.failed > 0
        ? {
            ...outcome,
            id: event.checkId,
            status: 'error',
            detail: `${merged.failed} key ranges failed (${merged.firstFailure ?? 'unknown'}); ${outcome.detail}`,
            durationMs,
          }
        : { ...outcome, id: event.checkId, durationMs };
  }
  const verdict = decideVerdict([...event.priorResults, compare], {
    failWhenNothingChecked: event.failWhenNothingChecked,
  });
  return { verdict, compare };
}

export interface MergeDeps {
  readonly clients: Clients;
  readonly settings: RuntimeSettings;
  /** Reads the map results. @default createS3Client() */
  readonly resultsS3?: S3Client;
  /** @default the stack's sinks (evidence store, metrics, notification) */
  readonly sinks?: readonly EvidenceSink[];
}

/** Merges, decides, posts, and records the evidence of the final verdict. */
export async function mergeAndReport(
  event: MergeEvent,
  deps: MergeDeps,
): Promise<{ verdict: string; message: string; posted: string }> {
  const started = new Date();
  const { clients, settings } = deps;
  let merged: MergedRanges | undefined;
  const where = event.map?.ResultWriterDetails;
  if (!event.mapError && where?.Bucket && where.Key) {
    try {
      merged = await readMapResults(deps.resultsS3 ?? createS3Client(), where.Bucket, where.Key);
    } catch (err) {
      logger.error('map results unreadable', { reason: reasonOf(err) });
    }
  }
  const { verdict, compare } = decide(event, merged, 0);
  // The lifecycle stored a DEFERRED record at the hand-off; this one replaces it with the verdict.
  // A dry run says so in the execution input (absent in executions started before it did); this
  // function's own dry-run setting holds as well.
  const { posted = 'dry-run' } = await finishValidation(
    {
      restoreJobId: event.restoreJobId,
      verdict,
      dryRun: event.dryRun === true || settings.dryRun,
      evidence: {
        kind: 'hand-off',
        validator: 's3',
        startedAt: started,
        notes: { [`compare:${compare.id}`]: compare.data ?? {} },
        ...(event.objectives ? { objectives: event.objectives } : {}),
      },
    },
    { clients, settings, ...(deps.sinks ? { sinks: deps.sinks } : {}) },
  );
  logger.info('distributed comparison decided', {
    restoreJobId: event.restoreJobId,
    verdict: verdict.verdict,
    posted,
  });
  return { verdict: verdict.verdict, message: verdict.message, posted };
}

/** Lambda entry point of the merge step. */
export const handler = (event: MergeEvent) =>
  mergeAndReport(event, { clients: defaultClients(), settings: runtimeSettings() });

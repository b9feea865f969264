/**
 * The Distributed Map's worker: compares one key range of the two buckets. It stops before its own
 * Lambda deadline and returns a cursor; the map's item processor loops back into it until `done`,
 * carrying the accumulated counts, so a range of any size finishes without re-planning.
 */

import type { S3Client } from '@aws-sdk/client-s3';
import type { Context } from 'aws-lambda';
import { logger } from '../../shared/logger';
import { createS3Client } from './client';
import type { ComparisonParams } from './comparison';
import { runComparison } from './comparison';
import { type CompareResult, mergeResults } from './engine';
import type { KeyRange } from './keys';

/** Accumulated result of a range: counts, proofs, first keys (small: it travels in the state). */
export type RangeResult = Pick<CompareResult, 'counts' | 'provenBy' | 'first'>;

export interface WorkerEvent {
  readonly params: ComparisonParams;
  readonly range: KeyRange;
  /** Index of the range in the plan (varies the sample seed per range). */
  readonly index?: number;
  /** Last key compared by an earlier invocation for this range. */
  readonly cursor?: string;
  readonly acc?: RangeResult;
  readonly invocations?: number;
}

export interface WorkerOutput extends WorkerEvent {
  readonly done: boolean;
  readonly acc: RangeResult;
  readonly invocations: number;
}

/** Time kept back to return the state before Lambda stops the invocation. */
const RESERVE_MS = 15_000;

let client: S3Client | undefined;

export async function compareRange(
  event: WorkerEvent,
  remainingMs: number,
  s3: S3Client,
): Promise<WorkerOutput> {
  const range: KeyRange = {
    ...(event.cursor !== undefined
      ? { after: event.cursor }
      : event.range.after !== undefined
        ? { after: event.range.after }
        : {}),
    ...(event.range.upTo !== undefined ? { upTo: event.range.upTo } : {}),
  };
  const params =
    event.params.seed !== undefined
      ? { ...event.params, seed: event.params.seed + (event.index ?? 0) }
      : event.params;
  const result = await runComparison(s3, params, {
    range,
    stopAt: Date.now() + Math.max(1_000, remainingMs - RESERVE_MS),
  });
  if (!result.complete && (result.cursor === undefined || result.cursor === event.cursor)) {
    // A loop that makes no progress would spin until the execution's own timeout: fail the range instead.
    throw new Error(
      `range made no progress before the Lambda deadline (cursor ${event.cursor ?? '(start)'})`,
    );
  }
  const acc = mergeResults(event.acc ? [event.acc, result] : [result]);
  const invocations = (event.invocations ?? 0) + 1;
  logger.info('range compared', {
    index: event.index,
    complete: result.complete,
    reference: result.counts.reference,
    invocations,
  });
  return {
    params: event.params,
    range: event.range,
    ...(event.index !== undefined ? { index: event.index } : {}),
    ...(result.complete
      ? {}
      : result.cursor !== undefined
        ? { cursor: result.cursor }
        : event.cursor !== undefined
          ? { cursor: event.cursor }
          : {}),
    done: result.complete,
    acc,
    invocations,
  };
}

/** Lambda entry point of the worker. */
export async function handler(
  event: WorkerEvent,
  context: Pick<Context, 'getRemainingTimeInMillis'>,
): Promise<WorkerOutput> {
  client ??= createS3Client();
  return compareRange(event, context.getRemainingTimeInMillis(), client);
}

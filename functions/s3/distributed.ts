/**
 * The hand-off of a comparison too large for one Lambda to a Step Functions Distributed Map
 * (infra/constructs/s3-distributed-map.ts). The validator estimates the work, plans key ranges,
 * runs the cheap checks itself, and starts one execution whose input carries everything the
 * workers and the final merge step need; the merge step posts the verdict.
 * @see https://docs.aws.amazon.com/step-functions/latest/dg/state-map-distributed.html
 */
import { SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import type { CheckResult, runChecks } from '../../shared/checks';
import { registerClients } from '../../shared/clients';
import type { CheckConfig } from '../../shared/config/index';
import { type Objectives, objectivesAtHandOff } from '../../shared/objectives';
import { DeferredValidation, type ValidationContext } from '../../shared/validator';
import { type CompareOptions, compareOptionsOf, comparisonParams, describeReference } from './compare-check';
import type { ComparisonParams } from './comparison';
import type { KeyRange } from './keys';
import { listObjects } from './listing';
import { planRanges } from './plan';
import type { S3Facts } from './validator';

registerClients({ sfn: SFNClient });

/** The variable naming the state machine (declared with the validator's settings). */
export { STATE_MACHINE_SETTING } from './settings';

import type { S3Settings } from './settings';

/** The throughput model behind the estimate; conservative so a comparison that starts also finishes. */
export const MODEL = {
  /** ListObjectsV2 page (1,000 keys) round trip, when not measured. */
  listPageMs: 80,
  /** Two HeadObject calls (reference and restored) per object whose listing does not decide it. */
  headPairMs: 40,
  /** Streaming throughput of one Lambda when objects must be hashed, bytes/s. */
  streamBytesPerSecond: 80 * 1024 * 1024,
  /** Share of the remaining time a comparison may plan to use. */
  budgetShare: 0.5,
  /** Keys counted before extrapolating (5 pages). */
  probeObjects: 5_000,
} as const;

export interface Estimate {
  readonly objects: number;
  /** True when the probe listed every reference object. */
  readonly exact: boolean;
  readonly bytes: number;
  readonly seconds: number;
  readonly budgetSeconds: number;
  readonly fits: boolean;
  readonly basis: string;
}

/**
 * Estimates a full comparison's time: listing pages (two buckets, in parallel) plus, in the worst
 * case, two HeadObject per object at the check's concurrency. Streaming is not modelled per object
 * (its share is unknown up front); the budget share leaves room for it.
 */
export function estimateSeconds(
  objects: number,
  concurrency: number,
  listPageMs: number = MODEL.listPageMs,
): number {
  const listing = (objects / 1000) * listPageMs;
  const proofs = (objects * MODEL.headPairMs) / Math.max(1, concurrency);
  return (listing + proofs) / 1000;
}

export async function estimateComparison(
  ctx: ValidationContext,
  facts: S3Facts,
  params: ComparisonParams,
): Promise<Estimate> {
  const budgetSeconds = (ctx.remainingMs() / 1000) * MODEL.budgetShare;
  if (params.reference.with !== 'source') {
    return {
      objects: 0,
      exact: false,
      bytes: 0,
      seconds: 0,
      budgetSeconds,
      fits: true,
      basis: 'manifest comparisons run in the Lambda',
    };
  }
  const started = Date.now();
  let objects = 0;
  let bytes = 0;
  for await (const o of listObjects(facts.s3, params.reference.bucket, {
    filter: params.filter,
    retry: facts.retry,
    signal: ctx.signal,
  })) {
    objects++;
    bytes += o.size;
    if (objects >= MODEL.probeObjects) break;
  }
  const pageMs = Math.max(1, (Date.now() - started) / Math.max(1, Math.ceil(objects / 1000)));
  const exact = objects < MODEL.probeObjects;
  const concurrency = params.concurrency ?? 32;
  if (exact) {
    const seconds = estimateSeconds(objects, concurrency, pageMs);
    return {
      objects,
      exact,
      bytes,
      seconds,
      budgetSeconds,
      fits: seconds <= budgetSeconds,
      basis: `listed all ${objects} reference objects`,
    };
  }
  // Extrapolate the object count from the backup size and the average size seen; without a size, assume it is large.
  const avg = bytes / objects || 1;
  const backupBytes = ctx.job.backupSizeInBytes;
  const estimated = backupBytes ? Math.max(objects, Math.round(backupBytes / avg)) : Number.POSITIVE_INFINITY;
  const seconds = estimateSeconds(estimated, concurrency, pageMs);
  return {
    objects: estimated,
    exact,
    bytes: backupBytes ?? bytes,
    seconds,
    budgetSeconds,
    fits: seconds <= budgetSeconds,
    basis: backupBytes
      ? `backup size ${backupBytes} B / average object ${Math.round(avg)} B over the first ${objects} keys`
      : `more than ${objects} objects and no backup size to extrapolate from`,
  };
}

/** What the state machine receives. The map iterates `ranges`; every item also gets `params`. */
export interface ExecutionInput {
  readonly restoreJobId: string;
  readonly checkId: string;
  readonly options: Pick<CompareOptions, 'extra' | 'allowEmpty'>;
  readonly reference: string;
  readonly params: ComparisonParams;
  readonly ranges: readonly KeyRange[];
  /** Results of the checks run before the hand-off; the merge folds them into the verdict. */
  readonly priorResults: readonly CheckResult[];
  readonly failWhenNothingChecked: boolean;
  /**
   * The profile's recovery objectives, for the final evidence record (their onMiss: fail results are
   * in priorResults); null, never absent, because the state machine's JSONPath fails on a missing key.
   */
  readonly objectives: Objectives | null;
  /** A dry run (replay --dry-run, a dry-run deployment): the merge step posts nothing either. */
  readonly dryRun: boolean;
}

/** Step Functions input is limited to 256 KiB; ranges are merged pairwise until the input fits. */
const MAX_INPUT_BYTES = 200 * 1024;

export function fitRanges(ranges: readonly KeyRange[], fixedBytes: number): KeyRange[] {
  let out = [...ranges];
  while (out.length > 1 && JSON.stringify(out).length + fixedBytes > MAX_INPUT_BYTES) {
    const merged: KeyRange[] = [];
    for (let i = 0; i < out.length; i += 2) {
      const a = out[i] as KeyRange;
      const b = out[i + 1];
      merged.push(
        b
          ? {
              ...(a.after !== undefined ? { after: a.after } : {}),
              ...(b.upTo !== undefined ? { upTo: b.upTo } : {}),
            }
          : a,
      );
    }
    out = merged;
  }
  return out;
}

/**
 * Called from gather: when the first full `compare` with the source will not fit in this Lambda and a
 * state machine is configured, hands it to Step Functions and throws DeferredValidation.
 */
export async function planCompare(
  ctx: ValidationContext<S3Settings>,
  facts: S3Facts,
  otherChecks: (
    ctx: ValidationContext,
    facts: S3Facts,
    except: string,
  ) => ReturnType<typeof runChecks<S3Facts>>,
): Promise<void> {
  if (ctx.mode !== 'lambda') return;
  const check = (ctx.profile?.checks ?? []).find(
    (c: CheckConfig) =>
      c.kind === 'compare' &&
      compareOptionsOf(c).with === 'source' &&
      compareOptionsOf(c).distributed !== 'never',
  );
  if (!check) return;
  const opts = compareOptionsOf(check);
  let params: ComparisonParams;
  try {
    params = await comparisonParams(ctx, facts, opts);
  } catch {
    return; // the check itself reports why it cannot run
  }
  // A sample still lists every key, so it is estimated like a full comparison.
  const estimate = await estimateComparison(ctx, facts, params);
  ctx.note('s3Estimate', estimate);
  if (estimate.fits && opts.distributed !== 'always') return;
  const stateMachineArn = ctx.settings.compareStateMachineArn;
  if (!stateMachineArn) {
    ctx.logger.warn('comparison may not fit the Lambda and no state machine is configured', {
      checkId: check.id,
      seconds: estimate.seconds,
    });
    return;
  }
  const reference = params.reference.with === 'source' ? params.reference.bucket : facts.bucket;
  const planned = await planRanges(facts.s3, reference, {
    filter: params.filter,
    retry: facts.retry,
    signal: ctx.signal,
  });
  const objectives = objectivesAtHandOff(ctx.config, ctx.profile, ctx.job);
  const priorResults = [...(await otherChecks(ctx, facts, check.id)), ...objectives.results];
  const base = {
    restoreJobId: ctx.job.restoreJobId,
    checkId: check.id,
    options: { extra: opts.extra, allowEmpty: opts.allowEmpty },
    reference: describeReference(params),
    params:
      params.mode === 'sample'
        ? { ...params, sample: Math.max(1, Math.ceil((params.sample ?? 500) / planned.length)) }
        : params,
    priorResults,
    failWhenNothingChecked: ctx.profile?.failWhenNothingChecked ?? ctx.config.defaults.failWhenNothingChecked,
    objectives: objectives.objectives ?? null,
    dryRun: ctx.dryRun,
  };
  const ranges = fitRanges(
    planned.map((r) => ({
      ...(r.after !== undefined ? { after: r.after } : {}),
      ...(r.upTo !== undefined ? { upTo: r.upTo } : {}),
    })),
    JSON.stringify(base).length,
  );
  const input: ExecutionInput = { ...base, ranges };
  const safeId = `s3-${ctx.job.restoreJobId}`.replace(/[^A-Za-z0-9_-]/g, '-').slice(0, 60);
  const name = `${safeId}-${Date.now().toString(36)}`;
  const out = await ctx.clients.sfn.send(
    new StartExecutionCommand({ stateMachineArn, name, input: JSON.stringify(input) }),
  );
  const executionArn =
    out.executionArn ?? `${stateMachineArn.replace(':stateMachine:', ':execution:')}:${name}`;
  ctx.note('s3Distributed', { executionArn, ranges: ranges.length, estimatedObjects: estimate.objects });
  ctx.logger.info('comparison handed to Step Functions', { checkId: check.id, ranges: ranges.length });
  throw new DeferredValidation(
    executionArn,
    `comparison of about ${estimate.objects} objects continues in Step Functions over ${ranges.length} key ranges`,
  );
}

/**
 * The `compare` check for S3: builds the comparison from the profile and the job, runs it within the
 * check's time, and turns the counts into a result whose detail names the first keys of each class.
 * Verdict: missing, mismatched and unproven objects fail (extra ones too with `extra: fail`); drift
 * after the recovery point is reported, never failed; nothing to compare fails unless `allowEmpty`;
 * a comparison the deadline cut short is an error.
 */
import { createRequire } from 'node:module';
import type { SingleBar } from 'cli-progress';
import {
  type CheckDefinition,
  type CheckOutcome,
  defineCheck,
  errored,
  fail,
  pass,
  skip,
} from '../../shared/checks';
import { type CheckConfig, compareKind, optionsOf } from '../../shared/config/index';
import type { ValidationContext } from '../../shared/validator';
import { errorCode } from './bucket';
import type { ComparisonParams } from './comparison';
import { runComparison } from './comparison';
import { type CompareCounts, type CompareResult, OBJECT_CLASSES } from './engine';
import { isVersioned } from './listing';
import type { S3Facts } from './validator';

/** The `compare:` block of a check, as the schema parses it. */
export interface CompareOptions {
  readonly with: 'source' | 'manifest';
  readonly mode: 'full' | 'sample';
  readonly sample?: number;
  readonly seed?: number;
  readonly manifest?: string;
  readonly sourceBucket?: string;
  readonly include?: string[];
  readonly exclude?: string[];
  readonly concurrency?: number;
  readonly streamHash?: 'CRC32C' | 'SHA256';
  readonly trustListingEtags?: boolean;
  readonly extra?: 'report' | 'fail';
  /** An empty reference and restore are expected: nothing compared is then a skip, not a failure. */
  readonly allowEmpty?: boolean;
  readonly distributed?: 'auto' | 'never' | 'always';
}

export const compareOptionsOf = (c: CheckConfig): CompareOptions => optionsOf(compareKind, c).compare;

export const DEFAULT_SAMPLE = 500;
/** Time kept back at the end of a check to stop proofs cleanly and report. */
const STOP_MARGIN_MS = 3_000;

const n = (v: number) => v.toLocaleString('en-US');

/** Resolves the comparison's parameters (reference bucket/manifest, versioning) for this job. */
export async function comparisonParams(
  ctx: ValidationContext,
  facts: S3Facts,
  opts: CompareOptions,
): Promise<ComparisonParams> {
  const filter = { include: opts.include, exclude: opts.exclude };
  const base = {
    restoredBucket: facts.bucket,
    mode: opts.mode,
    sample: opts.sample ?? DEFAULT_SAMPLE,
    // The seed is chosen once and recorded, so a sample can be drawn again.
    seed: opts.seed ?? Math.floor(Math.random() * 2 ** 31),
    filter,
    concurrency: opts.concurrency,
    streamHash: opts.streamHash,
    trustListingEtags: opts.trustListingEtags,
  };
  if (opts.with === 'manifest') {
    const location =
      (ctx.mode === 'local' ? facts.manifestFile : undefined) ?? opts.manifest ?? facts.manifestFile;
    if (!location)
      throw new Error('compare with: manifest needs compare.manifest (s3://bucket/key) or --manifest FILE');
    return { ...base, reference: { with: 'manifest', location } };
  }
  const bucket =
    (ctx.mode === 'local' ? facts.sourceBucket : undefined) ?? opts.sourceBucket ?? facts.sourceBucket;
  if (!bucket)
    throw new Error(
      'no source bucket to compare with: set compare.sourceBucket (or --source-bucket), or use with: manifest',
    );
  if (bucket === facts.bucket)
    throw new Error(`the source bucket is the restored bucket itself (${bucket}): nothing to compare with`);
  let versioned = false;
  try {
    versioned = Boolean(facts.recoveryPointTime) && (await isVersioned(facts.s3, bucket, facts.retry));
  } catch (err) {
    throw new Error(`source bucket ${bucket} cannot be read: ${errorCode(err)}`, { cause: err });
  }
  return {
    ...base,
    reference: { with: 'source', bucket, asOf: facts.recoveryPointTime?.toISOString(), versioned },
  };
}

export function describeReference(p: ComparisonParams): string {
  const r = p.reference;
  if (r.with === 'manifest') return `manifest ${r.location}`;
  return `s3://${r.bucket}${r.asOf ? ` as of ${r.asOf}${r.versioned ? ' (versions)' : ''}` : ' (current objects)'}`;
}

/** Turns counts into the check's outcome. */
export function outcomeOf(
  result: Pick<CompareResult, 'counts' | 'provenBy' | 'first' | 'complete' | 'sample'>,
  opts: Pick<CompareOptions, 'extra' | 'allowEmpty'>,
  reference: string,
  extraData: Record<string, unknown> = {},
): CheckOutcome {
  const c = result.counts;
  const provenBy = Object.entries(result.provenBy)
    .sort((a, b) => b[1] - a[1])
    .map(([m, k]) => `${m} ${n(k)}`)
    .join(', ');
  const summary =
    `${n(c.matched)} matched, ${n(c.missing)} missing, ${n(c.extra)} extra, ${n(c.mismatched)} mismatched, ${n(c.drifted)} drifted, ${n(c.unproven)} unproven` +
    (c.notSampled ? `, ${n(c.notSampled)} not sampled` : '');
  const firsts = OBJECT_CLASSES.filter((cls) => cls !== 'matched' && result.first[cls]?.length)
    .map((cls) => `${cls}: ${result.first[cls]?.join(', ')}`)
    .join('; ');
  const detail = `${summary} vs ${reference}${provenBy ? ` (proven by ${provenBy})` : ''}${firsts ? `; ${firsts}` : ''}`;
  const data = {
    counts: c,
    provenBy: result.provenBy,
    first: result.first,
    reference,
    ...(result.sample ? { sample: result.sample } : {}),
    ...extraData,
  };
  if (!result.complete)
    return errored(`ran out of time after ${n(c.reference)} reference objects: ${detail}`, data);
  const bad = c.missing + c.mismatched + c.unproven + (opts.extra === 'fail' ? c.extra : 0);
  if (bad > 0) return fail(detail, data);
  if (c.reference === 0 && c.restored === 0)
    return opts.allowEmpty
      ? skip(
          `nothing to compare: the reference has no objects, as compare.allowEmpty allows (${reference})`,
          data,
        )
      : fail(
          `nothing compared: the reference and the restored bucket hold no objects (${reference}); set compare.allowEmpty: true if that is expected`,
          data,
        );
  if (c.matched === 0 && c.drifted > 0)
    return fail(
      `no object could be compared: every reference object changed after the recovery point; ${detail}`,
      data,
    );
  return pass(detail, data);
}

/**
 * cli-progress, when installed (the repository's dev dependency; optional for the npm package): loaded
 * at run time, never bundled, so neither Lambda bundles nor package consumers carry it.
 */
function progressBarClass(): typeof SingleBar | undefined {
  try {
    return (createRequire(import.meta.url)('cli-progress') as { SingleBar: typeof SingleBar }).SingleBar;
  } catch {
    return undefined;
  }
}

function progressBar(
  ctx: ValidationContext,
  mode: string,
): { update(handled: number, counts: CompareCounts): void; stop(): void } | undefined {
  if (ctx.mode !== 'local' || mode !== 'full' || !process.stderr.isTTY) return undefined;
  const Bar = progressBarClass();
  if (!Bar) return undefined;
  const bar = new Bar({
    stream: process.stderr,
    format: 'comparing |{bar}| {value} objects | {matched} matched, {bad} not matched | {rate} obj/s',
    hideCursor: true,
    clearOnComplete: true,
  });
  const started = Date.now();
  bar.start(1000, 0, { matched: 0, bad: 0, rate: 0 });
  return {
    update(handled, counts) {
      // The listing is streamed, so the total is unknown: keep the bar a page ahead of the count.
      bar.setTotal(Math.max(1000, Math.ceil((handled + 1) / 1000) * 1000));
      bar.update(handled, {
        matched: counts.matched,
        bad: counts.missing + counts.mismatched + counts.unproven,
        rate: Math.round(handled / Math.max(0.001, (Date.now() - started) / 1000)),
      });
    },
    stop() {
      bar.stop();
    },
  };
}

/** The `compare` check. Its timeout defaults to the time left in the validation, not the per-check default. */
export function compareCheck(c: CheckConfig, ctx: ValidationContext): CheckDefinition<S3Facts> {
  const { compare: opts, description, timeoutSeconds } = optionsOf(compareKind, c);
  const timeoutMs = timeoutSeconds !== undefined ? timeoutSeconds * 1000 : Math.max(1_000, ctx.remainingMs());
  return defineCheck<S3Facts>({
    id: c.id,
    description: description ?? `objects equal to the ${opts.with} (${opts.mode})`,
    timeoutMs,
    async run(facts, { signal }) {
      const started = Date.now();
      const params = await comparisonParams(ctx, facts, opts);
      const reference = describeReference(params);
      const bar = progressBar(ctx, params.mode);
      let result: CompareResult;
      try {
        result = await runComparison(facts.s3, params, {
          stopAt: Math.min(started + timeoutMs, ctx.deadline) - STOP_MARGIN_MS,
          signal,
          retry: facts.retry,
          onProgress: bar ? (h, counts) => bar.update(h, counts) : undefined,
        });
      } finally {
        bar?.stop();
      }
      const seconds = (Date.now() - started) / 1000;
      ctx.note(`compare:${c.id}`, {
        reference,
        mode: params.mode,
        ...(params.mode === 'sample' ? { seed: params.seed } : {}),
        counts: result.counts,
        provenBy: result.provenBy,
        objectsPerSecond: Math.round(result.counts.reference / Math.max(seconds, 0.001)),
      });
      return outcomeOf(result, opts, reference);
    },
  });
}

/**
 * One comparison, as plain serialisable parameters, so the same code runs inside the validator
 * Lambda, inside a Step Functions worker (over one key range) and from the CLI.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import pLimit from 'p-limit';
import type { RetryOptions } from '../../shared/retry';
import {
  type CompareCounts,
  type CompareResult,
  compareStreams,
  type EngineOptions,
  mergeResults,
} from './engine';
import { compareKeys, inRange, type KeyFilter, type KeyRange, listingPrefix } from './keys';
import { type ListedObject, listCommonPrefixes, listObjects, listObjectsAsOf } from './listing';
import { fromArray, loadManifest } from './manifest';
import { type ObjectLocation, type ProofOptions, proveAgainstManifest, proveAgainstObject } from './proof';

export type ReferenceParams =
  | {
      readonly with: 'source';
      readonly bucket: string;
      /** ISO time of the recovery point; objects changed after it are drift. */
      readonly asOf?: string;
      /** Read the version current at `asOf` (ListObjectVersions) instead of the current objects. */
      readonly versioned: boolean;
    }
  | { readonly with: 'manifest'; readonly location: string };

export interface ComparisonParams {
  readonly restoredBucket: string;
  readonly reference: ReferenceParams;
  readonly mode: 'full' | 'sample';
  readonly sample?: number;
  readonly seed?: number;
  readonly filter: KeyFilter;
  readonly concurrency?: number;
  readonly streamHash?: 'CRC32C' | 'SHA256';
  readonly trustListingEtags?: boolean;
}

export interface RunOptions {
  readonly range?: KeyRange;
  readonly stopAt?: number;
  readonly signal?: AbortSignal;
  readonly retry?: RetryOptions;
  readonly onProgress?: (handled: number, counts: CompareCounts) => void;
  readonly pageSize?: number;
  /** Preloaded manifest entries (sorted); otherwise the manifest is loaded here. */
  readonly manifestEntries?: readonly ListedObject[];
}

/** Marks objects changed after `asOf` as drift (unversioned source: their state at `asOf` is unknowable). */
async function* markDrift(
  objects: AsyncIterable<ListedObject>,
  asOf: Date | undefined,
): AsyncGenerator<ListedObject> {
  for await (const o of objects) {
    yield asOf && o.lastModified && o.lastModified.getTime() > asOf.getTime() ? { ...o, drifted: true } : o;
  }
}

/** One slice of the key space listed on its own: keys under `prefix`, or only those directly at it (`delimiter`). */
interface Group {
  readonly prefix?: string;
  readonly delimiter?: string;
}

/** How a bucket is listed: the reference and the restored bucket alike (same filter, range and group). */
const listOptions = (params: ComparisonParams, options: RunOptions, group: Group) => ({
  filter: params.filter,
  range: options.range,
  signal: options.signal,
  retry: options.retry,
  pageSize: options.pageSize,
  ...group,
});

export function referenceStream(
  s3: S3Client,
  params: ComparisonParams,
  options: RunOptions,
  manifest?: readonly ListedObject[],
  group: Group = {},
): AsyncIterable<ListedObject> {
  const list = listOptions(params, options, group);
  const ref = params.reference;
  if (ref.with === 'manifest') {
    const r = options.range;
    return fromArray((manifest ?? []).filter((e) => !r || inRange(e.key, r)));
  }
  const asOf = ref.asOf ? new Date(ref.asOf) : undefined;
  if (ref.versioned && asOf) return listObjectsAsOf(s3, ref.bucket, asOf, list);
  return markDrift(listObjects(s3, ref.bucket, list), asOf);
}

/** Runs the comparison (or the part of it in `options.range`). */
export async function runComparison(
  s3: S3Client,
  params: ComparisonParams,
  options: RunOptions = {},
): Promise<CompareResult> {
  let bytesStreamed = 0;
  const proofOptions: ProofOptions = {
    trustListingEtags: params.trustListingEtags ?? true,
    streamHash: params.streamHash ?? 'CRC32C',
    signal: options.signal,
    retry: options.retry,
    onBytes: (n) => {
      bytesStreamed += n;
    },
  };
  const ref = params.reference;
  let manifest = options.manifestEntries;
  if (ref.with === 'manifest' && !manifest)
    manifest = await loadManifest(ref.location, params.filter, {
      s3,
      retry: options.retry,
      signal: options.signal,
    });
  const restoredLoc = (key: string): ObjectLocation => ({ s3, bucket: params.restoredBucket, key });
  const prove =
    ref.with === 'manifest'
      ? (entry: ListedObject, restored: ListedObject) =>
          proveAgainstManifest(entry, restored, restoredLoc(restored.key), proofOptions)
      : (source: ListedObject, restored: ListedObject) =>
          proveAgainstObject(
            source,
            { s3, bucket: ref.bucket, key: source.key, versionId: source.versionId },
            restored,
            restoredLoc(restored.key),
            proofOptions,
          );
  const engine: EngineOptions = {
    mode: params.mode,
    sample: params.sample,
    seed: params.seed,
    concurrency: params.concurrency,
    stopAt: options.stopAt,
    signal: options.signal,
    onProgress: options.onProgress,
  };
  const compareGroup = (group: Group, groupEngine: EngineOptions) =>
    compareStreams(
      referenceStream(s3, params, options, manifest, group),
      listObjects(s3, params.restoredBucket, listOptions(params, options, group)),
      prove,
      groupEngine,
    );
  const groups =
    ref.with === 'source' && params.mode === 'full' && !options.range
      ? await prefixGroups(s3, params, options)
      : undefined;
  let result: CompareResult;
  if (!groups) {
    result = await compareGroup({}, engine);
  } else {
    // Listing is sequential within a prefix; the "directories" below the listing prefix are listed and
    // compared side by side. Each group holds two pages and its share of the proofs, so memory stays flat.
    const lanes = Math.min(FAN_OUT, groups.length);
    const perLane = Math.max(4, Math.ceil((params.concurrency ?? 32) / lanes));
    const limit = pLimit(lanes);
    let finished = 0;
    const parts = await Promise.all(
      groups.map((g) =>
        limit(async () => {
          const r = await compareGroup(g, {
            ...engine,
            concurrency: perLane,
            onProgress: options.onProgress
              ? (n, counts) => options.onProgress?.(finished + n, counts)
              : undefined,
          });
          finished += r.counts.reference;
          return r;
        }),
      ),
    );
    result = { ...mergeResults(parts), complete: parts.every((p) => p.complete) };
  }
  result.counts.bytesStreamed += bytesStreamed;
  return result;
}

/** Prefix groups listed in parallel (at most this many at once, per bucket). */
const FAN_OUT = 16;
/** More top-level prefixes than this and the listing stays sequential (the prefix list is held in memory). */
const MAX_GROUPS = 10_000;

/** Levels of single "directories" (`data/`, then `data/2026/` …) descended before giving up on fan-out. */
const MAX_DEPTH = 4;

/**
 * Splits a full comparison by the "directories" below the listing prefix (union of both buckets),
 * plus the keys directly at each level. Where a level holds a single directory (`data/`), the split
 * descends into it, so a bucket whose keys all start with one prefix is still listed side by side.
 * S3 serves each listing sequentially, 1,000 keys per request, so listing prefixes side by side
 * multiplies listing throughput. Groups are disjoint and cover every key under the listing prefix.
 * @see https://docs.aws.amazon.com/AmazonS3/latest/userguide/optimizing-performance.html
 */
async function prefixGroups(
  s3: S3Client,
  params: ComparisonParams,
  options: RunOptions,
): Promise<Group[] | undefined> {
  if (params.reference.with !== 'source') return undefined;
  const source = params.reference.bucket;
  const opts = { retry: options.retry, signal: options.signal, max: MAX_GROUPS };
  const levels: Group[] = [];
  let level = listingPrefix(params.filter);
  for (let depth = 0; depth < MAX_DEPTH; depth++) {
    const [a, b] = await Promise.all([
      listCommonPrefixes(s3, source, level, opts),
      listCommonPrefixes(s3, params.restoredBucket, level, opts),
    ]);
    if (!a || !b) return undefined;
    const union = [...new Set([...a, ...b])].sort(compareKeys);
    // The keys directly at this level are one group of their own.
    levels.push({ ...(level ? { prefix: level } : {}), delimiter: '/' });
    if (union.length === 0) return undefined;
    if (union.length > 1) return [...levels, ...union.map((prefix) => ({ prefix }))];
    level = union[0];
  }
  return undefined;
}

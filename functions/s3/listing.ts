/**
 * Paged, streamed listings. Each generator holds one page (≤ 1,000 entries) plus the next page being
 * fetched, so memory does not grow with the bucket. Keys arrive in S3 listing order (see keys.ts).
 * @see https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListObjectsV2.html
 * @see https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListObjectVersions.html
 */
import {
  GetBucketVersioningCommand,
  ListObjectsV2Command,
  type ListObjectsV2CommandOutput,
  ListObjectVersionsCommand,
  type ListObjectVersionsCommandOutput,
  paginateListObjectsV2,
  type S3Client,
} from '@aws-sdk/client-s3';
import { type RetryOptions, withRetry } from '../../shared/retry';
import { compareKeys, type KeyFilter, type KeyRange, keyMatches, listingPrefix } from './keys';

/** One object as a listing shows it. */
export interface ListedObject {
  readonly key: string;
  readonly size: number;
  /** With quotes stripped. */
  readonly etag?: string;
  readonly lastModified?: Date;
  /** Algorithms of the stored additional checksums (ListObjectsV2 `ChecksumAlgorithm`). */
  readonly checksumAlgorithms?: readonly string[];
  /** `FULL_OBJECT` or `COMPOSITE`, where the listing says. */
  readonly checksumType?: string;
  readonly storageClass?: string;
  /** The version to read (versioned reference: the version current at the recovery point). */
  readonly versionId?: string;
  /** Reference only: the object was created or changed after the recovery point (not verified). */
  readonly drifted?: boolean;
  /** Versioned reference only: the key changed after the recovery point; the version verified is the one current then. */
  readonly changedAfter?: boolean;
  /** Manifest only: an expected checksum, `ALGORITHM:base64` or an MD5 hex ETag. */
  readonly checksum?: string;
}

export interface ListOptions {
  readonly filter?: KeyFilter;
  readonly range?: KeyRange;
  readonly signal?: AbortSignal;
  readonly retry?: RetryOptions;
  /** Page size (1–1,000); tests use small pages to exercise paging. */
  readonly pageSize?: number;
  /** List under this prefix instead of the filter's common prefix (the filter still applies). */
  readonly prefix?: string;
  /** With `/`: only the keys directly at the prefix level, none below a further `/`. */
  readonly delimiter?: string;
}

export const unquote = (etag: string | undefined): string | undefined =>
  etag?.replace(/^"+|"+$/g, '') || undefined;

/** Starts a promise early (prefetch) without an unhandled rejection if nobody awaits it. */
function early<T>(p: Promise<T>): Promise<T> {
  p.catch(() => undefined);
  return p;
}

/** Every current object of a bucket, in key order, within the filter and range. */
export async function* listObjects(
  s3: S3Client,
  bucket: string,
  options: ListOptions = {},
): AsyncGenerator<ListedObject> {
  const filter = options.filter ?? {};
  const prefix = options.prefix ?? listingPrefix(filter);
  const range = options.range ?? {};
  // Hand-rolled: it prefetches the next page and sends StartAfter only once; the paginator does neither.
  const fetch = (token?: string) =>
    early(
      withRetry(
        () =>
          s3.send(
            new ListObjectsV2Command({
              Bucket: bucket,
              ...(prefix ? { Prefix: prefix } : {}),
              ...(token
                ? { ContinuationToken: token }
                : range.after !== undefined
                  ? { StartAfter: range.after }
                  : {}),
              ...(options.delimiter ? { Delimiter: options.delimiter } : {}),
              MaxKeys: options.pageSize ?? 1000,
            }),
            { abortSignal: options.signal },
          ),
        options.retry,
      ),
    );
  let next: Promise<ListObjectsV2CommandOutput> | undefined = fetch();
  while (next) {
    const page: ListObjectsV2CommandOutput = await next;
    const contents = page.Contents ?? [];
    const last = contents[contents.length - 1]?.Key;
    const beyond = range.upTo !== undefined && last !== undefined && compareKeys(last, range.upTo) > 0;
    next =
      page.IsTruncated && page.NextContinuationToken && !beyond
        ? fetch(page.NextContinuationToken)
        : undefined;
    for (const o of contents) {
      const key = o.Key;
      if (key === undefined) continue;
      if (range.upTo !== undefined && compareKeys(key, range.upTo) > 0) return;
      if (range.after !== undefined && compareKeys(key, range.after) <= 0) continue;
      if (!keyMatches(key, filter)) continue;
      yield {
        key,
        size: Number(o.Size ?? 0),
        etag: unquote(o.ETag),
        lastModified: o.LastModified,
        checksumAlgorithms: o.ChecksumAlgorithm,
        checksumType: (o as { ChecksumType?: string }).ChecksumType,
        storageClass: o.StorageClass,
      };
    }
  }
}

/** Counts objects, stopping as soon as `stopAt` is reached. */
export async function countObjects(
  s3: S3Client,
  bucket: string,
  options: ListOptions & { stopAt?: number } = {},
): Promise<number> {
  let n = 0;
  for await (const _ of listObjects(s3, bucket, options)) {
    n++;
    if (options.stopAt !== undefined && n >= options.stopAt) break;
  }
  return n;
}

/** Whether the bucket keeps versions (Enabled, or Suspended with older versions still present). */
export async function isVersioned(s3: S3Client, bucket: string, retry?: RetryOptions): Promise<boolean> {
  const v = await withRetry(() => s3.send(new GetBucketVersioningCommand({ Bucket: bucket })), retry);
  return v.Status === 'Enabled' || v.Status === 'Suspended';
}

interface VersionEntry {
  readonly key: string;
  readonly deleteMarker: boolean;
  readonly versionId?: string;
  readonly lastModified: Date;
  readonly isLatest: boolean;
  readonly size: number;
  readonly etag?: string;
  readonly checksumAlgorithms?: readonly string[];
  readonly checksumType?: string;
  readonly storageClass?: string;
}

/**
 * The source as it was at `asOf`: for each key, the newest version (or delete marker) whose
 * LastModified is not after `asOf`. A key whose version at `asOf` was a delete marker, or that did not
 * exist yet, is not in the reference. `drifted` marks keys changed after `asOf` (reported, not failed).
 * Versions of one key may span pages; they are gathered before the key is decided.
 */
export async function* listObjectsAsOf(
  s3: S3Client,
  bucket: string,
  asOf: Date,
  options: ListOptions = {},
): AsyncGenerator<ListedObject> {
  const filter = options.filter ?? {};
  const prefix = options.prefix ?? listingPrefix(filter);
  const range = options.range ?? {};
  // Hand-rolled: client-s3 has no ListObjectVersions paginator (two markers), and this one prefetches.
  const fetch = (keyMarker?: string, versionIdMarker?: string) =>
    early(
      withRetry(
        () =>
          s3.send(
            new ListObjectVersionsCommand({
              Bucket: bucket,
              ...(prefix ? { Prefix: prefix } : {}),
              ...(keyMarker !== undefined ? { KeyMarker: keyMarker } : {}),
              ...(versionIdMarker ? { VersionIdMarker: versionIdMarker } : {}),
              ...(options.delimiter ? { Delimiter: options.delimiter } : {}),
              MaxKeys: options.pageSize ?? 1000,
            }),
            { abortSignal: options.signal },
          ),
        options.retry,
      ),
    );
  let group: VersionEntry[] = [];
  const decide = async (entries: VersionEntry[]): Promise<ListedObject | undefined> => {
    const first = entries[0];
    if (!first) return undefined;
    const atOrBefore = entries.filter((e) => e.lastModified.getTime() <= asOf.getTime());
    const drifted = entries.some((e) => e.lastModified.getTime() > asOf.getTime());
    // Listings give whole seconds. Within the newest second at or before `asOf`, the versions among
    // themselves and the delete markers among themselves keep the listing's order (newest first), and
    // the key's IsLatest entry is the newest of all; which of a version and a delete marker of that
    // second came last, the SDK's two arrays (Versions, DeleteMarkers) do not say: the listing's own
    // order does (newestInListingOrder).
    const top = atOrBefore[0]?.lastModified.getTime();
    const sameSecond = atOrBefore.filter((e) => e.lastModified.getTime() === top);
    const latest = sameSecond.find((e) => e.isLatest);
    const version = sameSecond.find((e) => !e.deleteMarker);
    const ambiguous = !latest && version !== undefined && sameSecond.some((e) => e.deleteMarker);
    const current = ambiguous
      ? await newestInListingOrder(s3, bucket, entries, top ?? 0, options)
      : (latest ?? version ?? atOrBefore[0]);
    if (!current || current.deleteMarker) {
      return drifted
        ? {
            key: first.key,
            size: 0,
            drifted: true,
            versionId: undefined,
            lastModified: first.lastModified,
            etag: undefined,
          }
        : undefined;
    }
    return {
      key: current.key,
      size: current.size,
      etag: current.etag,
      lastModified: current.lastModified,
      checksumAlgorithms: current.checksumAlgorithms,
      checksumType: current.checksumType,
      storageClass: current.storageClass,
      versionId: current.versionId,
      // The reference version is exact, so later changes are only informational here.
      changedAfter: drifted,
    };
  };
  let next: Promise<ListObjectVersionsCommandOutput> | undefined = fetch(range.after);
  while (next) {
    const page: ListObjectVersionsCommandOutput = await next;
    next = page.IsTruncated ? fetch(page.NextKeyMarker, page.NextVersionIdMarker) : undefined;
    const entries = versionEntries(page);
    // Versions and delete markers come in two arrays; merge them back into key order, newest first
    // (the sort is stable, so entries of one array within one second keep the listing's order).
    entries.sort(
      (a, b) =>
        compareKeys(a.key, b.key) ||
        b.lastModified.getTime() - a.lastModified.getTime() ||
        Number(b.isLatest) - Number(a.isLatest),
    );
    for (const e of entries) {
      if (group.length > 0 && group[0]?.key !== e.key) {
        const out = await decide(group);
        group = [];
        if (out) {
          if (range.upTo !== undefined && compareKeys(out.key, range.upTo) > 0) return;
          if (keyMatches(out.key, filter)) yield out;
        }
      }
      group.push(e);
    }
  }
  const out = await decide(group);
  if (
    out &&
    (range.upTo === undefined || compareKeys(out.key, range.upTo) <= 0) &&
    keyMatches(out.key, filter)
  )
    yield out;
}

/** The entries of a ListObjectVersions page: versions first, then delete markers (the SDK's two arrays). */
function versionEntries(page: ListObjectVersionsCommandOutput): VersionEntry[] {
  return [
    ...(page.Versions ?? []).map((v) => ({
      key: v.Key ?? '',
      deleteMarker: false,
      versionId: v.VersionId,
      lastModified: v.LastModified ?? new Date(0),
      isLatest: Boolean(v.IsLatest),
      size: Number(v.Size ?? 0),
      etag: unquote(v.ETag),
      checksumAlgorithms: v.ChecksumAlgorithm,
      checksumType: (v as { ChecksumType?: string }).ChecksumType,
      storageClass: v.StorageClass,
    })),
    ...(page.DeleteMarkers ?? []).map((d) => ({
      key: d.Key ?? '',
      deleteMarker: true,
      versionId: d.VersionId,
      lastModified: d.LastModified ?? new Date(0),
      isLatest: Boolean(d.IsLatest),
      size: 0,
    })),
  ];
}

/**
 * The newest entry of `second` for one key, by the listing's own order (newest first within a key,
 * versions and delete markers interleaved): pages of one entry each, starting after an entry of a
 * later second (every such entry is listed before `second`'s), so the first entry of `second` the
 * walk meets is the one current then. Called only when a version and a delete marker share that
 * second and neither is the key's latest, so it costs a few requests for a rare key.
 * @see https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListObjectVersions.html
 */
async function newestInListingOrder(
  s3: S3Client,
  bucket: string,
  entries: readonly VersionEntry[],
  second: number,
  options: ListOptions,
): Promise<VersionEntry | undefined> {
  const key = entries[0]?.key ?? '';
  // The entries are sorted newest first: the last one of a later second is the nearest start.
  const start = entries.filter((e) => e.lastModified.getTime() > second).at(-1);
  let marker: { key: string; versionId: string } | undefined =
    start?.versionId !== undefined ? { key, versionId: start.versionId } : undefined;
  // Hand-rolled: client-s3 has no ListObjectVersions paginator.
  for (let step = 0; step <= entries.length; step++) {
    const page = await withRetry(
      () =>
        s3.send(
          new ListObjectVersionsCommand({
            Bucket: bucket,
            Prefix: key,
            MaxKeys: 1,
            ...(marker ? { KeyMarker: marker.key, VersionIdMarker: marker.versionId } : {}),
          }),
          { abortSignal: options.signal },
        ),
      options.retry,
    );
    const entry = versionEntries(page)[0];
    if (!entry || entry.key !== key) break;
    const t = entry.lastModified.getTime();
    if (t === second) return entry;
    if (t < second || entry.versionId === undefined) break;
    marker = { key, versionId: entry.versionId };
  }
  throw new Error(
    `ListObjectVersions of ${key} did not list the entries of ${new Date(second).toISOString()} again`,
  );
}

/**
 * The "directories" one level below `prefix` (CommonPrefixes with delimiter `/`), in key order.
 * Returns undefined when there are more than `max` (the caller then lists sequentially).
 */
export async function listCommonPrefixes(
  s3: S3Client,
  bucket: string,
  prefix: string | undefined,
  options: { signal?: AbortSignal; max: number },
): Promise<string[] | undefined> {
  const out: string[] = [];
  for await (const page of paginateListObjectsV2(
    { client: s3 },
    { Bucket: bucket, Delimiter: '/', ...(prefix ? { Prefix: prefix } : {}) },
    { abortSignal: options.signal },
  )) {
    for (const p of page.CommonPrefixes ?? []) if (p.Prefix) out.push(p.Prefix);
    if (out.length > options.max) return undefined;
  }
  return out;
}

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
  /**
   * Versioned reference only: this version and a delete marker share the newest second at or before
   * the recovery point, so the key was either this version or deleted then. A restore holding it is
   * verified against this version; one without it is not missing (counted as drift).
   */
  readonly mayBeDeleted?: boolean;
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
  const decide = (entries: VersionEntry[]): ListedObject | undefined => {
    const first = entries[0];
    if (!first) return undefined;
    const atOrBefore = entries.filter((e) => e.lastModified.getTime() <= asOf.getTime());
    const drifted = entries.some((e) => e.lastModified.getTime() > asOf.getTime());
    // Listings give whole seconds. Within the newest second at or before `asOf`, the order of versions
    // among themselves and of delete markers among themselves is the listing's (newest first), and
    // the key's IsLatest entry is the newest of all; but which of a version and a delete marker of
    // the same second came last, the SDK's two arrays (Versions, DeleteMarkers) do not say.
    const top = atOrBefore[0]?.lastModified.getTime();
    const sameSecond = atOrBefore.filter((e) => e.lastModified.getTime() === top);
    const latest = sameSecond.find((e) => e.isLatest);
    const version = sameSecond.find((e) => !e.deleteMarker);
    const ambiguous = !latest && version !== undefined && sameSecond.some((e) => e.deleteMarker);
    const current = latest ?? version ?? atOrBefore[0];
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
      ...(ambiguous ? { mayBeDeleted: true } : {}),
    };
  };
  let next: Promise<ListObjectVersionsCommandOutput> | undefined = fetch(range.after);
  while (next) {
    const page: ListObjectVersionsCommandOutput = await next;
    next = page.IsTruncated ? fetch(page.NextKeyMarker, page.NextVersionIdMarker) : undefined;
    const entries: VersionEntry[] = [
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
        const out = decide(group);
        group = [];
        if (out) {
          if (range.upTo !== undefined && compareKeys(out.key, range.upTo) > 0) return;
          if (keyMatches(out.key, filter)) yield out;
        }
      }
      group.push(e);
    }
  }
  const out = decide(group);
  if (
    out &&
    (range.upTo === undefined || compareKeys(out.key, range.upTo) <= 0) &&
    keyMatches(out.key, filter)
  )
    yield out;
}

/**
 * The "directories" one level below `prefix` (CommonPrefixes with delimiter `/`), in key order.
 * Returns undefined when there are more than `max` (the caller then lists sequentially).
 */
export async function listCommonPrefixes(
  s3: S3Client,
  bucket: string,
  prefix: string | undefined,
  options: { retry?: RetryOptions; signal?: AbortSignal; max: number },
): Promise<string[] | undefined> {
  const out: string[] = [];
  let token: string | undefined;
  do {
    const page: ListObjectsV2CommandOutput = await withRetry(
      () =>
        s3.send(
          new ListObjectsV2Command({
            Bucket: bucket,
            Delimiter: '/',
            ...(prefix ? { Prefix: prefix } : {}),
            ...(token ? { ContinuationToken: token } : {}),
          }),
          { abortSignal: options.signal },
        ),
      options.retry,
    );
    for (const p of page.CommonPrefixes ?? []) if (p.Prefix) out.push(p.Prefix);
    if (out.length > options.max) return undefined;
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return out;
}

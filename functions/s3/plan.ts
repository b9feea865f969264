/**
 * Splitting a bucket's key space into ranges for parallel workers, without listing the bucket.
 * Ranges are `(after, upTo]` slices in S3 key order and always cover the whole key space, so no
 * object can fall between two ranges whatever characters its key holds; probing only balances them.
 *
 * Start: one range per printable ASCII character after the listing prefix. Probe each with one
 * `ListObjectsV2 StartAfter=after MaxKeys=1000`; a range still full after 1,000 keys is split again
 * by the next character (`after + c`), breadth first, until there are `targetRanges` ranges or the
 * probe budget is spent. Adjacent small ranges are then merged. A range that is still large costs
 * time, not correctness: its worker loops until it is done.
 * @see https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListObjectsV2.html#AmazonS3-ListObjectsV2-request-StartAfter
 */
import { ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import pLimit from 'p-limit';
import { type RetryOptions, withRetry } from '../../shared/retry';
import { compareKeys, type KeyFilter, type KeyRange, listingPrefix } from './keys';

/** Printable ASCII without space: space sorts below '!' and so lands in the range that ends at '!'. */
const ALPHABET = Array.from({ length: 0x7e - 0x21 + 1 }, (_, i) => String.fromCharCode(0x21 + i));

export interface PlannedRange extends KeyRange {
  /** Keys found by the probe (up to 1,000). */
  readonly probed: number;
  /** The probe saw 1,000 keys: the range holds at least that many. */
  readonly full: boolean;
  /** The probe's keys, kept only while a full range may still be split. */
  readonly keys?: readonly string[];
}

export interface PlanOptions {
  readonly filter?: KeyFilter;
  /** Stop splitting once there are this many ranges. Default 1,000. */
  readonly targetRanges?: number;
  /** At most this many probe requests. Default 3,000. */
  readonly maxProbes?: number;
  readonly concurrency?: number;
  /** Keys per probe (and the size under which a range counts as small). Default 1,000. */
  readonly probeSize?: number;
  readonly retry?: RetryOptions;
  readonly signal?: AbortSignal;
}

/** The initial split of the key space under `prefix`: `(-∞, p+'!'], (p+'!', p+'"'], …, (p+'~', +∞)`. */
export function initialRanges(prefix = ''): KeyRange[] {
  const points = ALPHABET.map((c) => prefix + c);
  const out: KeyRange[] = [{ upTo: points[0] }];
  for (let i = 0; i < points.length; i++)
    out.push({ after: points[i], ...(i + 1 < points.length ? { upTo: points[i + 1] } : {}) });
  return out;
}

/** Splits `(after, upTo]` by one more character; only ranges with a lower bound can be split. */
export function splitRange(range: KeyRange): KeyRange[] {
  const after = range.after;
  if (after === undefined) return [range];
  const points = ALPHABET.map((c) => after + c).filter(
    (p) => range.upTo === undefined || compareKeys(p, range.upTo) < 0,
  );
  if (points.length === 0) return [range];
  const out: KeyRange[] = [{ after, upTo: points[0] }];
  for (let i = 0; i < points.length; i++)
    out.push({
      after: points[i],
      ...(i + 1 < points.length
        ? { upTo: points[i + 1] }
        : range.upTo !== undefined
          ? { upTo: range.upTo }
          : {}),
    });
  return out;
}

async function probe(
  s3: S3Client,
  bucket: string,
  range: KeyRange,
  prefix: string | undefined,
  options: PlanOptions,
): Promise<PlannedRange & { window: readonly string[]; truncated: boolean }> {
  const page = await withRetry(
    () =>
      s3.send(
        new ListObjectsV2Command({
          Bucket: bucket,
          ...(prefix ? { Prefix: prefix } : {}),
          ...(range.after !== undefined ? { StartAfter: range.after } : {}),
          MaxKeys: options.probeSize ?? 1000,
        }),
        { abortSignal: options.signal },
      ),
    options.retry,
  );
  const keys = (page.Contents ?? []).map((o) => o.Key ?? '');
  const inside =
    range.upTo === undefined ? keys : keys.filter((k) => compareKeys(k, range.upTo as string) <= 0);
  const full =
    inside.length === keys.length && keys.length === (options.probeSize ?? 1000) && Boolean(page.IsTruncated);
  return {
    ...range,
    probed: inside.length,
    full,
    ...(full ? { keys } : {}),
    window: keys,
    truncated: Boolean(page.IsTruncated),
  };
}

/** A child of a probed full range that ends before the probe's last key is counted from the probe, not probed again. */
function countFromProbe(child: KeyRange, keys: readonly string[]): PlannedRange | undefined {
  const last = keys[keys.length - 1];
  if (last === undefined || child.upTo === undefined || compareKeys(child.upTo, last) >= 0) return undefined;
  const probed = keys.filter(
    (k) =>
      (child.after === undefined || compareKeys(k, child.after) > 0) &&
      compareKeys(k, child.upTo as string) <= 0,
  ).length;
  return { ...child, probed, full: false };
}

/** Plans key ranges for `bucket` (the reference bucket: the one whose objects must all be proven). */
export async function planRanges(
  s3: S3Client,
  bucket: string,
  options: PlanOptions = {},
): Promise<PlannedRange[]> {
  const target = options.targetRanges ?? 1000;
  const maxProbes = options.maxProbes ?? 3000;
  const prefix = listingPrefix(options.filter ?? {});
  const limit = pLimit(options.concurrency ?? 8);
  let probes = 0;
  // What earlier probes saw: the keys after `after`, complete to the end of the bucket when not truncated.
  const windows: { after?: string; keys: readonly string[]; truncated: boolean }[] = [];
  const fromWindows = (r: KeyRange): PlannedRange | undefined => {
    for (const w of windows) {
      if (w.after !== undefined && (r.after === undefined || compareKeys(r.after, w.after) < 0)) continue;
      const last = w.keys[w.keys.length - 1];
      const covered =
        !w.truncated || (r.upTo !== undefined && last !== undefined && compareKeys(r.upTo, last) < 0);
      if (!covered) continue;
      const probed = w.keys.filter(
        (k) =>
          (r.after === undefined || compareKeys(k, r.after) > 0) &&
          (r.upTo === undefined || compareKeys(k, r.upTo) <= 0),
      ).length;
      return { ...r, probed, full: false };
    }
    return undefined;
  };
  const probeAll = (ranges: KeyRange[]) =>
    Promise.all(
      ranges.map((r) =>
        limit(async () => {
          const known = fromWindows(r);
          if (known) return known;
          probes++;
          const result = await probe(s3, bucket, r, prefix, options);
          windows.push({
            ...(r.after !== undefined ? { after: r.after } : {}),
            keys: result.window,
            truncated: result.truncated,
          });
          if (windows.length > 64) windows.shift();
          const { window: _w, truncated: _t, ...planned } = result;
          return planned;
        }),
      ),
    );
  // One probe of the whole key space: a small bucket is one range; a large one seeds the first split.
  const [root] = await probeAll([{}]);
  if (!root?.full) return [{ probed: root?.probed ?? 0, full: false }];
  const initial = initialRanges(prefix ?? '');
  const known = initial.map((c) => countFromProbe(c, root.keys ?? []));
  const probedInitial = await probeAll(initial.filter((_, i) => !known[i]));
  let ranges: PlannedRange[] = known.map((k) => k ?? (probedInitial.shift() as PlannedRange));
  for (;;) {
    const full = ranges.filter((r) => r.full && r.after !== undefined);
    if (full.length === 0 || ranges.length >= target) break;
    const next: PlannedRange[] = [];
    let budgetLeft = maxProbes - probes;
    let grown = ranges.length;
    for (const r of ranges) {
      const parts =
        r.full && r.after !== undefined && budgetLeft >= ALPHABET.length + 1 && grown < target
          ? splitRange(r)
          : [r];
      if (parts.length > 1) {
        const known = parts.map((c) => countFromProbe(c, r.keys ?? []));
        const unknown = parts.filter((_, i) => !known[i]);
        budgetLeft -= unknown.length;
        grown += parts.length - 1;
        const probed = await probeAll(unknown);
        next.push(...known.map((k) => k ?? (probed.shift() as PlannedRange)));
      } else next.push({ ...r, keys: undefined });
    }
    if (next.length === ranges.length) break;
    ranges = next;
  }
  return mergeSmall(
    ranges.map(({ keys: _, ...r }) => r),
    options.probeSize ?? 1000,
  );
}

/** Merges neighbours while together they hold fewer than 1,000 probed keys (fewer, busier workers). */
export function mergeSmall(ranges: readonly PlannedRange[], small = 1000): PlannedRange[] {
  const out: PlannedRange[] = [];
  for (const r of ranges) {
    const last = out[out.length - 1];
    if (last && !last.full && !r.full && last.probed + r.probed < small) {
      out[out.length - 1] = {
        ...(last.after !== undefined ? { after: last.after } : {}),
        ...(r.upTo !== undefined ? { upTo: r.upTo } : {}),
        probed: last.probed + r.probed,
        full: false,
      };
    } else out.push(r);
  }
  return out;
}

/**
 * The comparison engine: a merge-join of two key-ordered streams (reference and restored listing),
 * so memory stays flat however large the buckets are, with per-object proofs (proof.ts) run at
 * bounded concurrency. It stops cleanly before a deadline and returns a cursor from which the rest
 * can be compared later (the Step Functions workers resume from it).
 */

import { seededRandom } from '../../shared/random';
import { compareKeys, type KeyRange } from './keys';
import type { ListedObject } from './listing';
import type { Proof } from './proof';

export const OBJECT_CLASSES = ['matched', 'missing', 'extra', 'mismatched', 'drifted', 'unproven'] as const;
export type ObjectClass = (typeof OBJECT_CLASSES)[number];

export interface CompareCounts {
  matched: number;
  missing: number;
  extra: number;
  mismatched: number;
  drifted: number;
  unproven: number;
  /** Sample mode: pairs present with equal size whose content was not sampled. */
  notSampled: number;
  /** Objects seen in the reference and in the restored bucket. */
  reference: number;
  restored: number;
  /** Bytes of the reference objects seen. */
  referenceBytes: number;
  /** Bytes read to hash. */
  bytesStreamed: number;
}

export interface CompareResult {
  readonly counts: CompareCounts;
  /** How the matched/mismatched objects were proven: method → count. */
  readonly provenBy: Record<string, number>;
  /** The first keys (in key order) of each class but matched, with a reason where there is one. */
  readonly first: Partial<Record<ObjectClass, string[]>>;
  /** False when the deadline stopped the comparison; `cursor` is then the last key fully compared. */
  readonly complete: boolean;
  readonly cursor?: string;
  readonly sample?: { readonly seed: number; readonly size: number; readonly drawnFrom: number };
}

export interface EngineOptions {
  readonly mode: 'full' | 'sample';
  /** Sample size (sample mode). */
  readonly sample?: number;
  readonly seed?: number;
  /** Concurrent proofs. Default 32. */
  readonly concurrency?: number;
  /** How many keys of each class to keep. Default 5. */
  readonly firstKeys?: number;
  /** Stop starting new work after this epoch ms (the caller keeps a reserve to report). */
  readonly stopAt?: number;
  readonly signal?: AbortSignal;
  /** Progress: reference objects handled so far. */
  readonly onProgress?: (handled: number, counts: CompareCounts) => void;
}

/** Proves one pair; listing-level decisions should be synchronous-cheap, requests bounded by the engine. */
export type ProveFn = (ref: ListedObject, restored: ListedObject) => Promise<Proof>;

export function emptyCounts(): CompareCounts {
  return {
    matched: 0,
    missing: 0,
    extra: 0,
    mismatched: 0,
    drifted: 0,
    unproven: 0,
    notSampled: 0,
    reference: 0,
    restored: 0,
    referenceBytes: 0,
    bytesStreamed: 0,
  };
}

/** Keeps the first N keys in key order (the streams are ordered, but proofs finish out of order). */
class FirstKeys {
  readonly #n: number;
  readonly #byClass = new Map<ObjectClass, { key: string; reason?: string }[]>();
  constructor(n: number) {
    this.#n = n;
  }
  add(cls: ObjectClass, key: string, reason?: string): void {
    const list = this.#byClass.get(cls) ?? [];
    if (list.length >= this.#n && compareKeys(key, list[list.length - 1]?.key ?? '') >= 0) return;
    list.push({ key, ...(reason ? { reason } : {}) });
    list.sort((a, b) => compareKeys(a.key, b.key));
    if (list.length > this.#n) list.pop();
    this.#byClass.set(cls, list);
  }
  toJSON(): Partial<Record<ObjectClass, string[]>> {
    const out: Partial<Record<ObjectClass, string[]>> = {};
    for (const [cls, list] of this.#byClass)
      out[cls] = list.map((e) => (e.reason ? `${e.key} (${e.reason})` : e.key));
    return out;
  }
}

/** A tiny semaphore: `acquire` waits for a slot, so the merge never runs far ahead of the proofs. */
function semaphore(size: number) {
  let active = 0;
  const waiting: (() => void)[] = [];
  return {
    async acquire(): Promise<void> {
      while (active >= size) await new Promise<void>((r) => waiting.push(r));
      active++;
    },
    release(): void {
      active--;
      waiting.shift()?.();
    },
  };
}

/**
 * Compares a reference stream with the restored stream. Both must be in S3 key order (compareKeys).
 * Reference entries marked `drifted` (changed after the recovery point, unversioned source) are
 * counted as drift and not verified; a restored key without a reference entry is `extra`.
 */
export async function compareStreams(
  reference: AsyncIterable<ListedObject>,
  restored: AsyncIterable<ListedObject>,
  prove: ProveFn,
  options: EngineOptions,
): Promise<CompareResult> {
  const counts = emptyCounts();
  const provenBy: Record<string, number> = {};
  const first = new FirstKeys(options.firstKeys ?? 5);
  const sem = semaphore(Math.max(1, options.concurrency ?? 32));
  const running = new Set<Promise<void>>();
  const sampleMode = options.mode === 'sample';
  const sampleSize = Math.max(1, options.sample ?? 500);
  const seed = options.seed ?? Math.floor(Math.random() * 2 ** 31);
  const random = seededRandom(seed);
  const reservoir: [ListedObject, ListedObject][] = [];
  let candidates = 0;
  let largest: [ListedObject, ListedObject] | undefined;
  let newest: [ListedObject, ListedObject] | undefined;
  let sampled = 0;

  const record = (ref: ListedObject, proof: Proof) => {
    if (proof.status !== 'unproven') provenBy[proof.method] = (provenBy[proof.method] ?? 0) + 1;
    counts[proof.status]++;
    if (proof.status !== 'matched') first.add(proof.status, ref.key, proof.reason);
  };
  const verify = async (ref: ListedObject, rest: ListedObject) => {
    await sem.acquire();
    const p = (async () => {
      try {
        record(ref, await prove(ref, rest));
      } catch (err) {
        record(ref, { status: 'unproven', method: 'error', reason: (err as Error).message });
      } finally {
        sem.release();
      }
    })();
    running.add(p);
    p.finally(() => running.delete(p));
  };

  const refIt = reference[Symbol.asyncIterator]();
  const restIt = restored[Symbol.asyncIterator]();
  // Both listings start at once; each then keeps its next page in flight (listing.ts).
  let [a, b] = await Promise.all([refIt.next(), restIt.next()]);
  let cursor: string | undefined;
  let complete = true;
  let handled = 0;
  while (!a.done || !b.done) {
    if (options.signal?.aborted || (options.stopAt !== undefined && Date.now() >= options.stopAt)) {
      complete = false;
      break;
    }
    const order = a.done ? 1 : b.done ? -1 : compareKeys(a.value.key, b.value.key);
    if (order < 0 && !a.done) {
      const ref = a.value;
      counts.reference++;
      counts.referenceBytes += ref.size;
      if (ref.drifted) {
        counts.drifted++;
        first.add('drifted', ref.key, 'not in the restored bucket; changed after the recovery point');
      } else {
        counts.missing++;
        first.add('missing', ref.key);
      }
      cursor = ref.key;
      a = await refIt.next();
    } else if (order > 0 && !b.done) {
      counts.restored++;
      counts.extra++;
      first.add('extra', b.value.key);
      cursor = b.value.key;
      b = await restIt.next();
    } else if (!a.done && !b.done) {
      const ref = a.value;
      const rest = b.value;
      counts.reference++;
      counts.restored++;
      counts.referenceBytes += ref.size;
      if (ref.drifted) {
        counts.drifted++;
        first.add('drifted', ref.key, 'changed after the recovery point');
      } else if (ref.size !== rest.size) {
        record(ref, {
          status: 'mismatched',
          method: 'size',
          reason: `size ${rest.size} B, reference ${ref.size} B`,
        });
      } else if (sampleMode) {
        candidates++;
        if (!largest || ref.size > largest[0].size) largest = [ref, rest];
        if (
          ref.lastModified &&
          (!newest || (newest[0].lastModified?.getTime() ?? 0) < ref.lastModified.getTime())
        )
          newest = [ref, rest];
        if (reservoir.length < sampleSize) reservoir.push([ref, rest]);
        else {
          const j = Math.floor(random() * candidates);
          if (j < sampleSize) reservoir[j] = [ref, rest];
        }
      } else {
        await verify(ref, rest);
      }
      cursor = ref.key;
      a = await refIt.next();
      b = await restIt.next();
    }
    handled++;
    if (options.onProgress && handled % 256 === 0) options.onProgress(counts.reference, counts);
  }
  if (sampleMode) {
    // The largest and the newest objects are always in the sample: the likeliest to be truncated or late.
    const chosen = new Map<string, [ListedObject, ListedObject]>();
    for (const pair of [largest, newest, ...reservoir]) if (pair) chosen.set(pair[0].key, pair);
    counts.notSampled = candidates - chosen.size;
    sampled = chosen.size;
    for (const [ref, rest] of chosen.values()) await verify(ref, rest);
  }
  await Promise.all(running);
  options.onProgress?.(counts.reference, counts);
  return {
    counts,
    provenBy,
    first: first.toJSON(),
    complete,
    ...(cursor !== undefined ? { cursor } : {}),
    ...(sampleMode ? { sample: { seed, size: sampled, drawnFrom: candidates } } : {}),
  };
}

/** Adds `b` into `a` (merging worker results). */
export function mergeResults(
  results: readonly Pick<CompareResult, 'counts' | 'provenBy' | 'first'>[],
  firstKeys = 5,
): Pick<CompareResult, 'counts' | 'provenBy' | 'first'> {
  const counts = emptyCounts();
  const provenBy: Record<string, number> = {};
  const first: Partial<Record<ObjectClass, string[]>> = {};
  for (const r of results) {
    for (const k of Object.keys(counts) as (keyof CompareCounts)[]) counts[k] += Number(r.counts[k] ?? 0);
    for (const [m, n] of Object.entries(r.provenBy)) provenBy[m] = (provenBy[m] ?? 0) + n;
    for (const [cls, keys] of Object.entries(r.first) as [ObjectClass, string[]][]) {
      first[cls] = [...(first[cls] ?? []), ...keys].sort(compareKeys).slice(0, firstKeys);
    }
  }
  return { counts, provenBy, first };
}

export type { KeyRange };

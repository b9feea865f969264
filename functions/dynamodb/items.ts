/**
 * DynamoDB data checks: exact counts, random samples of the source, and attribute-by-attribute
 * comparison with the restored table. Every read is paged and wrapped in withRetry (throttling);
 * reads of the restored table are strongly consistent.
 * @see https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Scan.html#Scan.ParallelScan
 */
import {
  type AttributeValue,
  BatchGetItemCommand,
  type DynamoDBClient,
  GetItemCommand,
  ScanCommand,
} from '@aws-sdk/client-dynamodb';
import pLimit from 'p-limit';
import { type RetryOptions, withRetry } from '../../shared/retry';
import type { KeyPart, TableShape } from './table';

export type Item = Record<string, AttributeValue>;

/** Reads at most this many pages per segment when looking for a sample item in a sparse segment. */
const MAX_PAGES_PER_SEGMENT = 3;
const BATCH_GET_MAX = 100;
/** Rounds of random segments drawn to reach the sample size when some segments are empty. */
const MAX_SAMPLE_ROUNDS = 4;
/** Parallel scan allows up to 1,000,000 segments. */
const MAX_SEGMENTS = 1_000_000;

const throwIfAborted = (signal: AbortSignal | undefined) => {
  if (signal?.aborted) throw new Error('stopped: deadline reached');
};

/**
 * Exact item count with `Select: COUNT` (paged; parallel over `segments`). Stops early once `stopAt`
 * is reached, so "at least N items" costs only as much as it must.
 */
export async function countItems(
  client: DynamoDBClient,
  table: string,
  retry: RetryOptions,
  options: { segments?: number; stopAt?: number } = {},
): Promise<{ count: number; scannedPages: number; stoppedEarly: boolean }> {
  const segments = Math.max(1, options.segments ?? 1);
  let count = 0;
  let pages = 0;
  let stopped = false;
  await Promise.all(
    Array.from({ length: segments }, async (_, segment) => {
      let start: Item | undefined;
      do {
        throwIfAborted(retry.signal);
        if (options.stopAt !== undefined && count >= options.stopAt) {
          stopped = true;
          return;
        }
        const out = await withRetry(
          () =>
            client.send(
              new ScanCommand({
                TableName: table,
                Select: 'COUNT',
                ExclusiveStartKey: start,
                ...(segments > 1 ? { Segment: segment, TotalSegments: segments } : {}),
              }),
            ),
          retry,
        );
        count += out.Count ?? 0;
        pages++;
        start = out.LastEvaluatedKey;
      } while (start);
    }),
  );
  return { count, scannedPages: pages, stoppedEarly: stopped };
}

/** Whether the table holds at least one item (one page of a Scan with Limit 1). */
export async function hasAnyItem(
  client: DynamoDBClient,
  table: string,
  retry: RetryOptions,
): Promise<boolean> {
  const out = await withRetry(() => client.send(new ScanCommand({ TableName: table, Limit: 1 })), retry);
  return (out.Items?.length ?? 0) > 0 || out.LastEvaluatedKey !== undefined;
}

export const keyOf = (item: Item, keySchema: readonly KeyPart[]): Item => {
  const key: Item = {};
  for (const k of keySchema) {
    const v = item[k.name];
    if (v) key[k.name] = v;
  }
  return key;
};

/** A stable text form of a key, for de-duplication and for naming items in details. */
export function keyLabel(key: Item, keySchema: readonly KeyPart[]): string {
  return keySchema
    .map((k) => {
      const v = key[k.name];
      const text = v ? (v.S ?? v.N ?? (v.B ? `b64:${Buffer.from(v.B).toString('base64')}` : '?')) : '?';
      return `${k.name}=${text.length > 60 ? `${text.slice(0, 57)}...` : text}`;
    })
    .join(',');
}

export interface Sample {
  readonly items: Item[];
  /** `full-scan` (small table, sampled from all items) or `segments` (random parallel-scan segments). */
  readonly method: 'full-scan' | 'segments';
  readonly totalSegments?: number;
  readonly readPages: number;
}

/**
 * Draws about `size` items from the source. Small tables (≤ `fullScanMaxItems` by the approximate count)
 * are read whole and sampled with the seeded PRNG; larger ones are sampled by reading the first item of
 * randomly chosen parallel-scan segments — DynamoDB spreads items over segments by key hash, so this is
 * a random sample without reading the table.
 */
export async function sampleItems(
  client: DynamoDBClient,
  table: TableShape,
  size: number,
  random: () => number,
  retry: RetryOptions,
  options: { fullScanMaxItems?: number; concurrency?: number } = {},
): Promise<Sample> {
  const approx = table.itemCount ?? 0;
  const fullScanMax = options.fullScanMaxItems ?? 5_000;
  if (approx <= fullScanMax) {
    const all: Item[] = [];
    let start: Item | undefined;
    let pages = 0;
    do {
      throwIfAborted(retry.signal);
      const out = await withRetry(
        () => client.send(new ScanCommand({ TableName: table.name, ExclusiveStartKey: start })),
        retry,
      );
      all.push(...(out.Items ?? []));
      pages++;
      start = out.LastEvaluatedKey;
      // The approximate count can be stale: never read more than a bounded amount in this branch.
      if (all.length > fullScanMax * 4 && start) break;
    } while (start);
    // Partial Fisher-Yates: the first `size` positions are a uniform sample.
    for (let i = 0; i < Math.min(size, all.length); i++) {
      const j = i + Math.floor(random() * (all.length - i));
      const tmp = all[i] as Item;
      all[i] = all[j] as Item;
      all[j] = tmp;
    }
    return { items: all.slice(0, size), method: 'full-scan', readPages: pages };
  }
  const totalSegments = Math.min(MAX_SEGMENTS, Math.max(size * 4, Math.ceil(approx / 10)));
  const limit = pLimit(options.concurrency ?? 8);
  let pages = 0;
  const readSegment = (segment: number) =>
    limit(async () => {
      let start: Item | undefined;
      for (let page = 0; page < MAX_PAGES_PER_SEGMENT; page++) {
        throwIfAborted(retry.signal);
        const out = await withRetry(
          () =>
            client.send(
              new ScanCommand({
                TableName: table.name,
                Segment: segment,
                TotalSegments: totalSegments,
                Limit: 1,
                ExclusiveStartKey: start,
              }),
            ),
          retry,
        );
        pages++;
        const item = out.Items?.[0];
        if (item) return item;
        start = out.LastEvaluatedKey;
        if (!start) return undefined;
      }
      return undefined;
    });
  const chosen = new Set<number>();
  const seen = new Set<string>();
  const items: Item[] = [];
  // Empty segments (a stale approximate count: fewer items than segments) are topped up with
  // further random segments, within a bounded number of rounds.
  for (
    let round = 0;
    round < MAX_SAMPLE_ROUNDS && items.length < size && chosen.size < totalSegments;
    round++
  ) {
    const batch: number[] = [];
    const want = Math.min(size - items.length, totalSegments - chosen.size);
    while (batch.length < want) {
      const segment = Math.floor(random() * totalSegments);
      if (chosen.has(segment)) continue;
      chosen.add(segment);
      batch.push(segment);
    }
    for (const item of await Promise.all(batch.map(readSegment))) {
      if (!item) continue;
      const label = keyLabel(keyOf(item, table.keySchema), table.keySchema);
      if (seen.has(label)) continue;
      seen.add(label);
      items.push(item);
    }
  }
  return { items, method: 'segments', totalSegments, readPages: pages };
}

/** Strongly consistent reads of many keys (BatchGetItem in chunks of 100; unprocessed keys retried). */
export async function getItems(
  client: DynamoDBClient,
  table: string,
  keys: readonly Item[],
  keySchema: readonly KeyPart[],
  retry: RetryOptions,
): Promise<Map<string, Item>> {
  const found = new Map<string, Item>();
  for (let i = 0; i < keys.length; i += BATCH_GET_MAX) {
    let pending: Item[] = keys.slice(i, i + BATCH_GET_MAX);
    for (let round = 0; pending.length > 0; round++) {
      throwIfAborted(retry.signal);
      if (round >= 8)
        throw new Error(
          `BatchGetItem left ${pending.length} keys unprocessed after ${round} rounds (throttled)`,
        );
      if (round > 0) await new Promise((r) => setTimeout(r, Math.min(2_000, 50 * 2 ** round)));
      const request = pending;
      const out = await withRetry(
        () =>
          client.send(
            new BatchGetItemCommand({ RequestItems: { [table]: { Keys: request, ConsistentRead: true } } }),
          ),
        retry,
      );
      for (const item of out.Responses?.[table] ?? [])
        found.set(keyLabel(keyOf(item, keySchema), keySchema), item);
      pending = (out.UnprocessedKeys?.[table]?.Keys as Item[] | undefined) ?? [];
    }
  }
  return found;
}

/** One strongly consistent GetItem. */
export async function getItem(
  client: DynamoDBClient,
  table: string,
  key: Item,
  retry: RetryOptions,
): Promise<Item | undefined> {
  const out = await withRetry(
    () => client.send(new GetItemCommand({ TableName: table, Key: key, ConsistentRead: true })),
    retry,
  );
  return out.Item;
}

/** A canonical JSON form of an AttributeValue: sets sorted, maps by key, binary as base64, numbers normalised. */
export function canonical(v: AttributeValue | undefined): unknown {
  if (v === undefined) return undefined;
  if (v.S !== undefined) return { S: v.S };
  if (v.N !== undefined) return { N: normaliseNumber(v.N) };
  if (v.B !== undefined) return { B: Buffer.from(v.B).toString('base64') };
  if (v.BOOL !== undefined) return { BOOL: v.BOOL };
  if (v.NULL !== undefined) return { NULL: true };
  if (v.SS !== undefined) return { SS: [...v.SS].sort() };
  if (v.NS !== undefined) return { NS: v.NS.map(normaliseNumber).sort() };
  if (v.BS !== undefined) return { BS: v.BS.map((b) => Buffer.from(b).toString('base64')).sort() };
  if (v.L !== undefined) return { L: v.L.map(canonical) };
  if (v.M !== undefined) {
    return {
      M: Object.fromEntries(
        Object.keys(v.M)
          .sort()
          .map((k) => [k, canonical(v.M?.[k])]),
      ),
    };
  }
  return { unknown: true };
}

function normaliseNumber(n: string): string {
  const t = n.trim();
  // DynamoDB normalises numbers itself; this only guards against textual differences such as "1.50" vs "1.5".
  if (!/^-?\d+(\.\d+)?([eE][-+]?\d+)?$/.test(t)) return t;
  const num = Number(t);
  return Number.isSafeInteger(num) || (Math.abs(num) < 1e15 && String(num).length < 17) ? String(num) : t;
}

/** Names of attributes whose values differ (or exist on one side only). Never returns the values. */
export function differingAttributes(a: Item, b: Item): string[] {
  const names = new Set([...Object.keys(a), ...Object.keys(b)]);
  const out: string[] = [];
  for (const name of [...names].sort()) {
    if (JSON.stringify(canonical(a[name])) !== JSON.stringify(canonical(b[name]))) out.push(name);
  }
  return out;
}

/**
 * The time an item was last changed, from its change-timestamp attribute: a number (epoch seconds, or
 * milliseconds when it is that large) or a string (ISO 8601 or a numeric epoch).
 */
export function changedAt(item: Item, attribute: string): Date | undefined {
  const v = item[attribute];
  if (!v) return undefined;
  const raw = v.N ?? v.S;
  if (raw === undefined) return undefined;
  if (/^\d+(\.\d+)?$/.test(raw.trim())) {
    const n = Number(raw);
    const ms = n > 1e14 ? n / 1000 : n > 1e11 ? n : n * 1000; // µs, ms or s
    return new Date(ms);
  }
  const d = new Date(raw);
  return Number.isNaN(d.getTime()) ? undefined : d;
}

/** Converts a profile key (`{ pk: "USER#1", sk: 3 }`) to an AttributeValue key using the table's attribute types. */
export function profileKey(key: Readonly<Record<string, string | number>>, table: TableShape): Item {
  const out: Item = {};
  for (const [name, value] of Object.entries(key)) {
    const type = table.attributeTypes[name];
    if (type === 'N') out[name] = { N: String(value) };
    else if (type === 'B') out[name] = { B: Buffer.from(String(value), 'base64') };
    else out[name] = { S: String(value) };
  }
  const missing = table.keySchema.filter((k) => !(k.name in out)).map((k) => k.name);
  if (missing.length)
    throw new Error(
      `key ${JSON.stringify(key)} lacks key attribute(s) ${missing.join(', ')} of table ${table.name}`,
    );
  return out;
}

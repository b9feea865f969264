/**
 * DynamoDB data checks: exact counts, random samples of the source, and attribute-by-attribute
 * comparison with the restored table. Scans are paged by the SDK's paginator (its client retries
 * throttling); reads of the restored table are strongly consistent.
 * @see https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Scan.html#Scan.ParallelScan
 */
import {
  type AttributeValue,
  BatchGetItemCommand,
  type DynamoDBClient,
  GetItemCommand,
  paginateScan,
  QueryCommand,
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
      // Checked before each page's request; leaving the loop stops the paginator.
      const stop = () => {
        throwIfAborted(retry.signal);
        if (options.stopAt === undefined || count < options.stopAt) return false;
        stopped = true;
        return true;
      };
      if (stop()) return;
      for await (const out of paginateScan(
        { client },
        {
          TableName: table,
          Select: 'COUNT',
          ...(segments > 1 ? { Segment: segment, TotalSegments: segments } : {}),
        },
        { abortSignal: retry.signal },
      )) {
        count += out.Count ?? 0;
        pages++;
        if (out.LastEvaluatedKey && stop()) return;
      }
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

/**
 * The identity of a key: its canonical value per key attribute, whole. Lookups, de-duplication and
 * joins use this; {@link keyLabel} is for messages only (it shortens long values, so two keys that
 * share a long prefix would collide as labels).
 */
export function keyId(key: Item, keySchema: readonly KeyPart[]): string {
  return JSON.stringify(keySchema.map((k) => canonical(key[k.name]) ?? null));
}

/** A readable form of a key for details (long values shortened): never use it as a lookup key. */
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
    let pages = 0;
    throwIfAborted(retry.signal);
    for await (const out of paginateScan(
      { client },
      { TableName: table.name },
      { abortSignal: retry.signal },
    )) {
      all.push(...(out.Items ?? []));
      pages++;
      if (!out.LastEvaluatedKey) break;
      // The approximate count can be stale: never read more than a bounded amount in this branch.
      if (all.length > fullScanMax * 4) break;
      throwIfAborted(retry.signal);
    }
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
      let read = 0;
      throwIfAborted(retry.signal);
      for await (const out of paginateScan(
        { client, pageSize: 1 },
        { TableName: table.name, Segment: segment, TotalSegments: totalSegments },
        { abortSignal: retry.signal },
      )) {
        pages++;
        const item = out.Items?.[0];
        if (item) return item;
        if (!out.LastEvaluatedKey || ++read >= MAX_PAGES_PER_SEGMENT) return undefined;
        throwIfAborted(retry.signal);
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
      const id = keyId(keyOf(item, table.keySchema), table.keySchema);
      if (seen.has(id)) continue;
      seen.add(id);
      items.push(item);
    }
  }
  return { items, method: 'segments', totalSegments, readPages: pages };
}

/** Strongly consistent reads of many keys (BatchGetItem in chunks of 100; unprocessed keys retried), by {@link keyId}. */
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
        found.set(keyId(keyOf(item, keySchema), keySchema), item);
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

/**
 * A DynamoDB number as an exact canonical decimal: `<sign><digits>e<exponent>` with no leading or
 * trailing zeros, so `1.0`, `1` and `10e-1` are equal and `1` and `1.00000000000000000001` are not.
 * DynamoDB numbers carry up to 38 significant digits; a JavaScript double holds about 16, so numbers
 * are never compared as doubles.
 * @see https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/HowItWorks.NamingRulesDataTypes.html#HowItWorks.DataTypes.Number
 */
export function normaliseNumber(n: string): string {
  const m = /^([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/.exec(n.trim());
  if (!m || (m[2] === '' && (m[3] ?? '') === '')) return n.trim();
  const fraction = m[3] ?? '';
  let digits = `${m[2]}${fraction}`.replace(/^0+/, '');
  if (digits === '') return '0';
  let exponent = Number(m[4] ?? 0) - fraction.length;
  const trailing = /0+$/.exec(digits)?.[0].length ?? 0;
  digits = digits.slice(0, digits.length - trailing);
  exponent += trailing;
  return `${m[1] === '-' ? '-' : ''}${digits}e${exponent}`;
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

/** Converts one profile value to an AttributeValue of the table's declared type for that attribute. */
function profileValue(name: string, value: string | number, table: TableShape): AttributeValue {
  const type = table.attributeTypes[name];
  if (type === 'N') return { N: String(value) };
  if (type === 'B') return { B: Buffer.from(String(value), 'base64') };
  return { S: String(value) };
}

/** Converts a profile key (`{ pk: "USER#1", sk: 3 }`) to an AttributeValue key using the table's attribute types. */
export function profileKey(key: Readonly<Record<string, string | number>>, table: TableShape): Item {
  const out: Item = {};
  for (const [name, value] of Object.entries(key)) out[name] = profileValue(name, value, table);
  const missing = table.keySchema.filter((k) => !(k.name in out)).map((k) => k.name);
  if (missing.length)
    throw new Error(
      `key ${JSON.stringify(key)} lacks key attribute(s) ${missing.join(', ')} of table ${table.name}`,
    );
  return out;
}

/** What an `items` entry names: one item by its full key, or every item of one partition. */
export type ItemSelector =
  | { readonly kind: 'key'; readonly key: Item }
  | { readonly kind: 'partition'; readonly name: string; readonly value: AttributeValue };

/**
 * Reads an `items` entry: the full key (GetItem), or only the partition key of a table that has a
 * sort key (Query). Any other shape is an error naming the key attributes the entry lacks.
 */
export function itemSelector(
  key: Readonly<Record<string, string | number>>,
  table: TableShape,
): ItemSelector {
  const hash = table.keySchema.find((k) => k.type === 'HASH');
  const range = table.keySchema.find((k) => k.type === 'RANGE');
  const pk = hash ? key[hash.name] : undefined;
  if (hash && range && pk !== undefined && key[range.name] === undefined)
    return { kind: 'partition', name: hash.name, value: profileValue(hash.name, pk, table) };
  return { kind: 'key', key: profileKey(key, table) };
}

/** How many items one partition holds, up to `limit` (a strongly consistent Query). */
export async function countPartition(
  client: DynamoDBClient,
  table: string,
  name: string,
  value: AttributeValue,
  retry: RetryOptions,
  limit = 1,
): Promise<number> {
  const out = await withRetry(
    () =>
      client.send(
        new QueryCommand({
          TableName: table,
          KeyConditionExpression: '#k = :v',
          ExpressionAttributeNames: { '#k': name },
          ExpressionAttributeValues: { ':v': value },
          Select: 'COUNT',
          Limit: limit,
          ConsistentRead: true,
        }),
      ),
    retry,
  );
  return out.Count ?? 0;
}

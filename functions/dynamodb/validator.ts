/**
 * The DynamoDB validator (serves `DynamoDB` and `DynamoDB.FullyManaged`). Built-in checks compare the
 * restored table's DescribeTable with the source's: ACTIVE, key schema, indexes, streams. Profile checks
 * (`compare`, `items`, `minItems`) read the data: counts, a random sample compared attribute by attribute,
 * items that must exist. Read-only: it never writes to either table.
 * @see https://docs.aws.amazon.com/aws-backup/latest/devguide/restore-testing.html
 */
import { DynamoDBClient, ListTagsOfResourceCommand } from '@aws-sdk/client-dynamodb';
import { type CheckDefinition, defineCheck, errored, fail, pass, skip } from '../../shared/checks';
import { registerClients, sdkClientConfig } from '../../shared/clients';
import { type CheckConfig, compareKind, optionsOf } from '../../shared/config/index';
import { ResourceStateError, SafetyGuardError } from '../../shared/errors';
import { isRestoreTestResource } from '../../shared/guard';
import { seededRandom } from '../../shared/random';
import type { RetryOptions } from '../../shared/retry';
import { describeSource } from '../../shared/source';
import { defineValidator, type ValidationContext } from '../../shared/validator';
import {
  changedAt,
  countItems,
  countPartition,
  differingAttributes,
  getItem,
  getItems,
  hasAnyItem,
  type Item,
  itemSelector,
  keyId,
  keyLabel,
  keyOf,
  profileKey,
  sampleItems,
} from './items';
import { itemsKind, minItemsKind } from './kinds';
import { describeTable, indexDifferences, keySchemaDifferences, keyText, type TableShape } from './table';

registerClients({ dynamodb: DynamoDBClient });

export interface DynamoDbFacts {
  readonly client: DynamoDBClient;
  /** Client for the source table (the same one unless the source is elsewhere). */
  readonly sourceClient: DynamoDBClient;
  readonly table: TableShape;
  readonly sourceName?: string;
  readonly source?: TableShape;
  /** Why the source could not be described, when it could not. */
  readonly sourceProblem?: string;
  readonly recoveryPointTime?: Date;
  readonly deadline: number;
}

/** Defaults of the `compare` check for DynamoDB. */
export const DYNAMODB_DEFAULTS = {
  sample: 200,
  tolerancePercent: 5,
  /** `countMode: auto` counts exactly (Scan COUNT) while both tables hold at most this many items. */
  exactCountMaxItems: 100_000,
  /** Tables up to this many items are sampled from a full scan; larger ones by random parallel-scan segments. */
  fullScanMaxItems: 5_000,
} as const;

const APPROX_NOTE = 'DescribeTable counts are approximate and refreshed by DynamoDB about every six hours';

const S3_ONLY_COMPARE_OPTIONS = ['manifest', 'sourceBucket', 'include', 'exclude'] as const;

interface CompareOptions {
  with: 'source' | 'manifest';
  mode: 'full' | 'sample';
  sample?: number;
  seed?: number;
  sourceTable?: string;
  changedAtAttribute?: string;
  tolerancePercent?: number;
  toleranceItems?: number;
  allowEmpty?: boolean;
  extra?: 'report' | 'fail';
  sampleKeys?: Record<string, string | number>[];
  countMode?: 'auto' | 'exact' | 'approximate';
}

const text = (v: unknown): string | undefined =>
  typeof v === 'string' && v.trim() !== '' ? v.trim() : undefined;

function compareChecks(ctx: ValidationContext): CompareOptions[] {
  return (ctx.profile?.checks ?? [])
    .filter((c) => c.kind === 'compare')
    .map((c) => optionsOf(compareKind, c).compare);
}

/** The restored table's name: `targetTableName` metadata, else the created ARN (`table/<name>`). */
export function restoredTableName(ctx: ValidationContext): string | undefined {
  if (ctx.mode === 'local') return text(ctx.target.table);
  return (
    ctx.job.metadata.get('targetTableName') ??
    (ctx.job.created?.resourceType === 'table' ? ctx.job.created.resourceId : undefined)
  );
}

function sourceTableName(ctx: ValidationContext): string | undefined {
  const fromCompare = compareChecks(ctx).find((c) => c.sourceTable)?.sourceTable;
  if (ctx.mode === 'local') return text(ctx.target.sourceTable) ?? fromCompare;
  return (
    fromCompare ??
    text(ctx.profile?.options?.sourceTable) ??
    (ctx.job.source?.resourceType === 'table' ? ctx.job.source.resourceId : undefined)
  );
}

function localClient(ctx: ValidationContext): DynamoDBClient {
  const endpoint = text(ctx.target.endpointUrl);
  const region = text(ctx.target.region);
  if (!endpoint && !region) return ctx.clients.dynamodb;
  // The shared timeouts too: a hung endpoint ends the check instead of the CLI.
  return new DynamoDBClient(sdkClientConfig({ endpoint, region, maxAttempts: 4 }));
}

function recoveryPointTime(ctx: ValidationContext): Date | undefined {
  const fromTarget = text(ctx.target.recoveryPointTime);
  if (fromTarget) {
    const d = new Date(fromTarget);
    if (Number.isNaN(d.getTime()))
      throw new ResourceStateError(
        `--recovery-point-time ${JSON.stringify(fromTarget)} is not an ISO 8601 time`,
      );
    return d;
  }
  return ctx.job.recoveryPointCreationDate;
}

/** The guard: in Lambda mode only restore-test tables (by name, else by tag) are validated. */
async function assertRestoreTestTable(
  ctx: ValidationContext,
  client: DynamoDBClient,
  name: string,
): Promise<void> {
  if (ctx.mode === 'local' || isRestoreTestResource(name)) return;
  const arn = ctx.job.createdResourceArn;
  if (arn) {
    const tags = await client
      .send(new ListTagsOfResourceCommand({ ResourceArn: arn }))
      .catch(() => undefined);
    if (isRestoreTestResource(name, tags?.Tags)) return;
  }
  throw new SafetyGuardError(
    `refusing to validate table ${name}: it is neither named awsbackup-restore-test-… nor tagged awsbackup-restore-test`,
  );
}

const retryFor = (facts: DynamoDbFacts, signal: AbortSignal): RetryOptions => ({
  deadline: facts.deadline,
  signal,
});

export const dynamodbValidator = defineValidator<DynamoDbFacts>({
  name: 'dynamodb',
  resourceTypes: ['DynamoDB', 'DynamoDB.FullyManaged'],

  async gather(ctx) {
    const name = restoredTableName(ctx);
    if (!name) {
      throw new ResourceStateError(
        ctx.mode === 'local'
          ? 'no table given: pass --table'
          : 'the restore job names no table (no targetTableName metadata, no table ARN)',
      );
    }
    const client = ctx.mode === 'local' ? localClient(ctx) : ctx.clients.dynamodb;
    await assertRestoreTestTable(ctx, client, name);
    const retry: RetryOptions = { deadline: ctx.deadline, signal: ctx.signal };
    const table = await describeTable(client, name, retry);
    if (!table) throw new ResourceStateError(`restored table ${name} does not exist`);
    ctx.note('approximateItemCount', table.itemCount);
    ctx.note('tableSizeBytes', table.sizeBytes);
    const sourceName = sourceTableName(ctx);
    const { source, sourceProblem }: { source?: TableShape; sourceProblem?: string } =
      sourceName === name
        ? {
            sourceProblem: `the source table is the restored table itself (${name}): nothing to compare with`,
          }
        : await describeSource(
            sourceName,
            (n) => `table ${n}`,
            (n) => describeTable(client, n, retry),
            'no source table known (no source ARN; give compare.sourceTable or --source-table)',
          );
    return {
      client,
      sourceClient: client,
      table,
      sourceName,
      source,
      sourceProblem,
      recoveryPointTime: recoveryPointTime(ctx),
      deadline: ctx.deadline,
    };
  },

  checks(ctx) {
    const checks: CheckDefinition<DynamoDbFacts>[] = [...builtInChecks()];
    for (const c of ctx.profile?.checks ?? []) checks.push(...profileChecks(c));
    return checks;
  },
});

/** The state checks every DynamoDB restore gets. */
export function builtInChecks(): CheckDefinition<DynamoDbFacts>[] {
  return [
    defineCheck<DynamoDbFacts>({
      id: 'table-status',
      description: 'the restored table is ACTIVE',
      run: (f) =>
        f.table.status === 'ACTIVE'
          ? pass(`table ${f.table.name} is ACTIVE`, {
              itemCountApprox: f.table.itemCount,
              sizeBytes: f.table.sizeBytes,
            })
          : fail(`table ${f.table.name} is ${f.table.status}, not ACTIVE`),
    }),
    defineCheck<DynamoDbFacts>({
      id: 'key-schema',
      description: 'key schema and key attribute types as the source',
      run: (f) => {
        if (!f.source)
          return skip(`key schema ${keyText(f.table.keySchema)} not compared: ${f.sourceProblem}`);
        const diffs = keySchemaDifferences(f.table, f.source);
        return diffs.length
          ? fail(diffs.join('; '))
          : pass(`key schema ${keyText(f.table.keySchema)} as the source`);
      },
    }),
    defineCheck<DynamoDbFacts>({
      id: 'indexes',
      description: 'global and local secondary indexes as the source',
      run: (f) => {
        if (!f.source) return skip(`indexes not compared: ${f.sourceProblem}`);
        const diffs = indexDifferences(f.table, f.source);
        const n = f.source.globalIndexes.length + f.source.localIndexes.length;
        return diffs.length
          ? fail(diffs.join('; '), { differences: diffs.length })
          : pass(
              `${f.source.globalIndexes.length} global and ${f.source.localIndexes.length} local secondary index(es) as the source`,
              { indexes: n },
            );
      },
    }),
    defineCheck<DynamoDbFacts>({
      id: 'stream',
      description: 'stream settings compared with the source',
      run: (f) => {
        if (!f.source) return skip(`stream settings not compared: ${f.sourceProblem}`);
        const show = (t: TableShape) => (t.streamEnabled ? `enabled (${t.streamViewType})` : 'disabled');
        if (
          f.table.streamEnabled === f.source.streamEnabled &&
          f.table.streamViewType === f.source.streamViewType
        ) {
          return pass(`stream ${show(f.table)}, as the source`);
        }
        // DynamoDB restores never carry stream settings, so a difference is expected, not a broken restore.
        return skip(
          `stream ${show(f.table)} on the restore, ${show(f.source)} on the source: expected, DynamoDB restores do not carry stream settings (re-enable them after a real restore)`,
        );
      },
    }),
  ];
}

/** The checks one profile entry asks for (other kinds: see shared/check-implementations.ts, never silently dropped). */
export function profileChecks(c: CheckConfig): CheckDefinition<DynamoDbFacts>[] {
  switch (c.kind) {
    case 'compare': {
      const opts = optionsOf(compareKind, c).compare;
      // The compare kind is shared with S3: an S3-only option on a table would be silently ignored.
      const s3Only = S3_ONLY_COMPARE_OPTIONS.filter((k) => opts[k] !== undefined);
      if (s3Only.length || opts.with === 'manifest') {
        const why = `compare option(s) ${[...s3Only, ...(opts.with === 'manifest' ? ['with: manifest'] : [])].join(', ')} apply to S3 buckets only; DynamoDB compares with the source table`;
        return [defineCheck<DynamoDbFacts>({ id: c.id, run: () => errored(why) })];
      }
      return [countCheck(`${c.id}.count`, opts), sampleCheck(c.id, opts)];
    }
    case 'items':
      return [itemsCheck(c.id, optionsOf(itemsKind, c).items)];
    case 'minItems':
      return [minItemsCheck(c.id, optionsOf(minItemsKind, c).minItems)];
    default:
      // Generic kinds (e.g. `lambda`) and kinds no validator implements are added by runValidator.
      return [];
  }
}

function countCheck(id: string, opts: CompareOptions): CheckDefinition<DynamoDbFacts> {
  return defineCheck<DynamoDbFacts>({
    id,
    description: 'item count as the source, within a tolerance',
    async run(f, { signal }) {
      if (!f.source) return errored(`item count not compared: ${f.sourceProblem}`);
      const tolerance = opts.tolerancePercent ?? DYNAMODB_DEFAULTS.tolerancePercent;
      const mode =
        opts.countMode === 'exact' || opts.countMode === 'approximate'
          ? opts.countMode
          : (f.table.itemCount ?? 0) <= DYNAMODB_DEFAULTS.exactCountMaxItems &&
              (f.source.itemCount ?? 0) <= DYNAMODB_DEFAULTS.exactCountMaxItems
            ? 'exact'
            : 'approximate';
      const retry = retryFor(f, signal);
      let restored: number;
      let source: number;
      let how: string;
      if (mode === 'exact') {
        const segments = (n: number | undefined) => ((n ?? 0) > 20_000 ? 4 : 1);
        [restored, source] = await Promise.all([
          countItems(f.client, f.table.name, retry, { segments: segments(f.table.itemCount) }).then(
            (r) => r.count,
          ),
          countItems(f.sourceClient, f.source.name, retry, { segments: segments(f.source.itemCount) }).then(
            (r) => r.count,
          ),
        ]);
        how =
          'exact counts (Scan COUNT); the source has changed since the recovery point by whatever was written since';
      } else {
        restored = f.table.itemCount ?? 0;
        source = f.source.itemCount ?? 0;
        how = `approximate counts: ${APPROX_NOTE}`;
        if (restored === 0 && source > 0) {
          if (!(await hasAnyItem(f.client, f.table.name, retry))) {
            return fail(`restored table is empty; the source holds about ${source} items (${APPROX_NOTE})`, {
              restored: 0,
              source,
              mode,
            });
          }
          return skip(
            `the restored table's approximate count is not computed yet (it reports 0 but holds items); use countMode: exact to count (${APPROX_NOTE})`,
            {
              source,
              mode,
            },
          );
        }
        // Two approximate zeros may be two counts not computed yet: only reads tell empty from stale.
        if (restored === 0 && source === 0) {
          const [a, b] = await Promise.all([
            hasAnyItem(f.client, f.table.name, retry),
            hasAnyItem(f.sourceClient, f.source.name, retry),
          ]);
          if (a || b)
            return skip(
              `both approximate counts are 0 but the ${a ? 'restored' : 'source'} table holds items; use countMode: exact to count (${APPROX_NOTE})`,
              { mode },
            );
        }
      }
      const toleranceItems = opts.toleranceItems ?? 0;
      const diff = Math.abs(restored - source);
      const diffPercent = source === 0 ? (restored === 0 ? 0 : 100) : (diff / source) * 100;
      const data = {
        restored,
        source,
        diffPercent: Math.round(diffPercent * 100) / 100,
        tolerancePercent: tolerance,
        toleranceItems,
        mode,
      };
      if (restored === 0 && source === 0 && !opts.allowEmpty) return fail(`${EMPTY_BOTH} (${how})`, data);
      const allowed = toleranceItems ? `${tolerance}% or ${toleranceItems} item(s)` : `${tolerance}%`;
      const summary = `${restored} items restored, ${source} in the source (${diff} apart, ${data.diffPercent}%; tolerance ${allowed}; ${how})`;
      return diffPercent <= tolerance || diff <= toleranceItems ? pass(summary, data) : fail(summary, data);
    },
  });
}

/** Why a comparison of two empty tables is not a pass, and the option that allows it. */
const EMPTY_BOTH =
  'both tables are empty: nothing was compared (set compare.allowEmpty: true if an empty table is expected)';

/** First few entries of a list for a detail. */
const firstOf = (list: readonly string[], n = 3) =>
  `${list.slice(0, n).join('; ')}${list.length > n ? '; …' : ''}`;

function sampleCheck(id: string, opts: CompareOptions): CheckDefinition<DynamoDbFacts> {
  return defineCheck<DynamoDbFacts>({
    id,
    description: 'a sample of items compared attribute by attribute, source to restore and restore to source',
    async run(f, { signal }) {
      if (!f.source) return errored(`items not compared: ${f.sourceProblem}`);
      const source = f.source;
      const retry = retryFor(f, signal);
      const keySchema = f.table.keySchema;
      const idOf = (item: Item) => keyId(keyOf(item, keySchema), keySchema);
      const labelOf = (item: Item) => keyLabel(keyOf(item, keySchema), keySchema);
      const seed = opts.seed ?? Math.floor(Math.random() * 2 ** 31);
      const size =
        opts.mode === 'full' ? Number.POSITIVE_INFINITY : (opts.sample ?? DYNAMODB_DEFAULTS.sample);
      const sampleOptions = {
        fullScanMaxItems:
          opts.mode === 'full' ? Number.POSITIVE_INFINITY : DYNAMODB_DEFAULTS.fullScanMaxItems,
      };
      let sourceItems: Item[];
      let restoredSample: Item[] = [];
      let method: string;
      const data: Record<string, unknown> = { seed };
      if (opts.sampleKeys?.length) {
        const keys = opts.sampleKeys.map((k) => profileKey(k, source));
        const got = await Promise.all(keys.map((k) => getItem(f.sourceClient, source.name, k, retry)));
        sourceItems = got.filter((i): i is Item => i !== undefined);
        method = `${keys.length} key(s) named in the profile`;
        data.keysNotInSource = keys.length - sourceItems.length;
      } else {
        // Two independent samples with seeds derived from one: the source's and the restore's.
        const [sample, back] = await Promise.all([
          sampleItems(f.sourceClient, source, size, seededRandom(seed), retry, sampleOptions),
          sampleItems(f.client, f.table, size, seededRandom(seed + 1), retry, sampleOptions),
        ]);
        sourceItems = sample.items;
        restoredSample = back.items;
        method =
          sample.method === 'full-scan'
            ? opts.mode === 'full'
              ? 'every source item'
              : 'a seeded sample of a full scan'
            : `random segments of ${sample.totalSegments}`;
        data.method = sample.method;
        if (sample.totalSegments) data.totalSegments = sample.totalSegments;
      }
      const rp = f.recoveryPointTime;
      const changedAfterRp = (item: Item) => {
        const when = opts.changedAtAttribute ? changedAt(item, opts.changedAtAttribute) : undefined;
        return Boolean(when && rp && when.getTime() > rp.getTime());
      };
      const drift: Item[] = [];
      const toCompare: Item[] = [];
      for (const item of sourceItems) (changedAfterRp(item) ? drift : toCompare).push(item);
      // The other way: restored items the forward sample did not cover, looked up in the source.
      const covered = new Set(sourceItems.map(idOf));
      const backward = restoredSample.filter((i) => !covered.has(idOf(i)));
      const [restored, inSource] = await Promise.all([
        getItems(
          f.client,
          f.table.name,
          toCompare.map((i) => keyOf(i, keySchema)),
          keySchema,
          retry,
        ),
        getItems(
          f.sourceClient,
          source.name,
          backward.map((i) => keyOf(i, keySchema)),
          keySchema,
          retry,
        ),
      ]);
      const missing: string[] = [];
      const differing: { key: string; attributes: string[] }[] = [];
      for (const item of toCompare) {
        const got = restored.get(idOf(item));
        if (!got) missing.push(labelOf(item));
        else {
          const attrs = differingAttributes(item, got);
          if (attrs.length) differing.push({ key: labelOf(item), attributes: attrs });
        }
      }
      const forwardMatched = toCompare.length - missing.length - differing.length;
      let backMatched = 0;
      let backDrift = 0;
      const extra: string[] = [];
      for (const item of backward) {
        const src = inSource.get(idOf(item));
        // Not in the source now: deleted after the recovery point, or never there; reported as extra.
        if (!src) extra.push(labelOf(item));
        else if (changedAfterRp(src)) backDrift++;
        else {
          const attrs = differingAttributes(src, item);
          if (attrs.length) differing.push({ key: labelOf(item), attributes: attrs });
          else backMatched++;
        }
      }
      const compared = toCompare.length + backward.length - backDrift;
      const matched = forwardMatched + backMatched;
      Object.assign(data, {
        sampled: sourceItems.length,
        sampledRestored: restoredSample.length,
        compared,
        matched,
        missing: missing.length,
        differing: differing.length,
        extra: extra.length,
        skippedChangedAfterRecoveryPoint: drift.length + backDrift,
      });
      const driftCount = drift.length + backDrift;
      const driftText = driftCount
        ? `; ${driftCount} skipped as changed in the source after the recovery point (drift, not damage)`
        : '';
      const rpNote =
        opts.changedAtAttribute && !rp
          ? '; no recovery point time known, so no item was skipped as drift'
          : '';
      if (sourceItems.length === 0 && restoredSample.length === 0 && !opts.sampleKeys?.length)
        return opts.allowEmpty
          ? skip(`nothing compared: both tables are empty, as compare.allowEmpty allows (${method})`, data)
          : fail(EMPTY_BOTH, data);
      const problems: string[] = [];
      if (missing.length) problems.push(`${missing.length} missing (${firstOf(missing)})`);
      if (differing.length) {
        const shown = differing.map((d) => `${d.key}: ${d.attributes.slice(0, 5).join(', ')}`);
        problems.push(`${differing.length} differ (${firstOf(shown)})`);
      }
      const extraText = extra.length
        ? `${extra.length} restored item(s) not in the source (deleted from it after the recovery point, or never in it: ${firstOf(extra)})`
        : '';
      if (extra.length && opts.extra === 'fail') problems.push(extraText);
      if (compared === 0 && problems.length === 0) {
        return skip(
          `nothing compared: ${sourceItems.length === 0 ? 'the source returned no items' : 'every sampled item changed after the recovery point'} (${method})${driftText}${extraText ? `; ${extraText}` : ''}`,
          data,
        );
      }
      const notInSource =
        typeof data.keysNotInSource === 'number' && data.keysNotInSource > 0
          ? `; ${data.keysNotInSource} named key(s) not in the source`
          : '';
      const both = backward.length ? ` and ${backward.length} restored item(s) looked up in the source` : '';
      const head = `${matched} of ${compared} items (${method}${both}) match attribute by attribute${notInSource}`;
      const report = extraText && opts.extra !== 'fail' ? `; ${extraText}` : '';
      return problems.length
        ? fail(`${head}; ${problems.join('; ')}${driftText}${rpNote}`, data)
        : pass(`${head}${report}${driftText}${rpNote}`, data);
    },
  });
}

function itemsCheck(id: string, keys: Record<string, string | number>[]): CheckDefinition<DynamoDbFacts> {
  return defineCheck<DynamoDbFacts>({
    id,
    description: 'items that must exist in the restored table',
    async run(f, { signal }) {
      const retry = retryFor(f, signal);
      const selectors = keys.map((k) => itemSelector(k, f.table));
      const full = selectors.flatMap((s) => (s.kind === 'key' ? [s.key] : []));
      const found = await getItems(f.client, f.table.name, full, f.table.keySchema, retry);
      const missing: string[] = [];
      let partitions = 0;
      for (const s of selectors) {
        if (s.kind === 'key') {
          if (!found.has(keyId(s.key, f.table.keySchema))) missing.push(keyLabel(s.key, f.table.keySchema));
        } else {
          partitions++;
          const n = await countPartition(f.client, f.table.name, s.name, s.value, retry);
          if (n === 0)
            missing.push(
              `${keyLabel({ [s.name]: s.value }, [{ name: s.name, type: 'HASH' }])} (no item in the partition)`,
            );
        }
      }
      const how = partitions
        ? `consistent reads; ${partitions} by partition key alone (Query)`
        : 'consistent reads';
      return missing.length
        ? fail(`${missing.length} of ${keys.length} item(s) missing: ${firstOf(missing, 5)}`, {
            missing: missing.length,
          })
        : pass(`all ${keys.length} item(s) present (${how})`, { present: keys.length, partitions });
    },
  });
}

function minItemsCheck(id: string, minItems: number): CheckDefinition<DynamoDbFacts> {
  return defineCheck<DynamoDbFacts>({
    id,
    description: `at least ${minItems} items`,
    async run(f, { signal }) {
      const r = await countItems(f.client, f.table.name, retryFor(f, signal), { stopAt: minItems });
      const data = { counted: r.count, minItems, stoppedEarly: r.stoppedEarly };
      return r.count >= minItems
        ? pass(
            `at least ${minItems} items (counted ${r.count}${r.stoppedEarly ? ', stopped early' : ''} with Scan COUNT)`,
            data,
          )
        : fail(`${r.count} items, fewer than ${minItems} (exact Scan COUNT)`, data);
    },
  });
}

/**
 * The stack's evidence store: every evidence record as JSON in S3 (the proof, versioned and optionally
 * under Object Lock), plus a small summary item per restore job in DynamoDB (the index) for queries by
 * resource, plan and date. Reports are built from the index alone; the S3 object is what a link opens.
 *
 * Table layout (infra/constructs/operations.ts creates exactly this):
 *  - partition key `restoreJobId` (S); one item per restore job, the latest validation wins
 *  - GSI `byResource`: `sourceResourceArn` + `finishedAt`
 *  - GSI `byPlan`: `restoreTestingPlanArn` + `finishedAt`
 *  - GSI `byMonth`: `month` (`YYYY-MM`) + `finishedAt`
 *  - reconciler claims (`claim#…` keys) carry none of the GSI keys, so they stay out of every index,
 *    and expire through the `expiresAt` TTL attribute.
 */
import { createHash } from 'node:crypto';
import { ConditionalCheckFailedException, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetObjectCommand, PutObjectCommand, paginateListObjectsV2, S3Client } from '@aws-sdk/client-s3';
import {
  BatchGetCommand,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  paginateQuery,
} from '@aws-sdk/lib-dynamodb';
import type { CheckResult } from './checks';
import { registerClients } from './clients';
import { type EvidenceRecord, evidenceBody, evidenceKey } from './evidence';

registerClients({ dynamodb: DynamoDBClient, s3: S3Client });

export const EVIDENCE_INDEXES = {
  byResource: { partitionKey: 'sourceResourceArn', sortKey: 'finishedAt' },
  byPlan: { partitionKey: 'restoreTestingPlanArn', sortKey: 'finishedAt' },
  byMonth: { partitionKey: 'month', sortKey: 'finishedAt' },
} as const;
export const EVIDENCE_TABLE_PARTITION_KEY = 'restoreJobId';
export const EVIDENCE_TTL_ATTRIBUTE = 'expiresAt';

/**
 * What the index holds per validation, and what the report draws: small enough that 100,000 of them
 * fit comfortably in memory, with a link to the full record.
 */
export interface EvidenceSummary {
  readonly restoreJobId: string;
  readonly resourceType: string;
  readonly verdict: EvidenceRecord['verdict'];
  readonly message: string;
  readonly sourceResourceArn?: string;
  readonly createdResourceArn?: string;
  readonly restoreTestingPlanArn?: string;
  readonly restoreTestingPlanName?: string;
  readonly accountId?: string;
  readonly region?: string;
  readonly recoveryPointCreationDate?: string;
  readonly restoreStartedAt?: string;
  readonly restoreCompletedAt?: string;
  readonly restoreDurationSeconds?: number;
  readonly dataAgeMinutes?: number;
  /** The recovery objectives judged (evidence `objectives`): minutes, and met (null: not measured). */
  readonly rtoObjectiveMinutes?: number;
  readonly rtoMet?: boolean | null;
  readonly rpoObjectiveMinutes?: number;
  readonly rpoMet?: boolean | null;
  readonly startedAt: string;
  readonly finishedAt: string;
  readonly validationDurationMs: number;
  readonly reported: boolean;
  readonly mode: EvidenceRecord['mode'];
  readonly codeVersion: string;
  readonly checkCount: number;
  /** Ids of the checks that failed or errored, in order. */
  readonly failedChecks: readonly string[];
  /** Every check's outcome, its detail clipped to 300 characters (what the report shows per check). */
  readonly checks?: readonly CheckOutcome[];
  /** SHA-256 (hex) of the evidence record's bytes as stored: an auditor recomputes it on the file. */
  readonly sha256?: string;
  /** Where the full record is: an S3 key (store) or a file path (local evidence). */
  readonly location: string;
}

export interface CheckOutcome {
  readonly id: string;
  readonly status: CheckResult['status'];
  readonly detail: string;
}

const DETAIL_MAX = 300;

/** SHA-256 hex of stored evidence bytes. */
export function sha256Hex(body: string | Uint8Array): string {
  return createHash('sha256').update(body).digest('hex');
}

/** The index item: the summary plus the GSI keys. */
export interface EvidenceIndexItem extends EvidenceSummary {
  readonly month: string;
  readonly bucket: string;
}

/** Folds a record into its summary. */
export function summarize(record: EvidenceRecord, location: string, sha256?: string): EvidenceSummary {
  return {
    restoreJobId: record.restoreJobId,
    resourceType: record.resourceType,
    verdict: record.verdict,
    message: record.message.slice(0, 1000),
    sourceResourceArn: record.sourceResourceArn,
    createdResourceArn: record.createdResourceArn,
    restoreTestingPlanArn: record.restoreTestingPlanArn,
    restoreTestingPlanName: record.restoreTestingPlanName,
    accountId: record.accountId,
    region: record.region,
    recoveryPointCreationDate: record.recoveryPointCreationDate,
    restoreStartedAt: record.restoreStartedAt,
    restoreCompletedAt: record.restoreCompletedAt,
    restoreDurationSeconds: record.restoreDurationSeconds,
    dataAgeMinutes: record.dataAgeMinutes,
    ...(record.objectives?.rto
      ? { rtoObjectiveMinutes: record.objectives.rto.objectiveMinutes, rtoMet: record.objectives.rto.met }
      : {}),
    ...(record.objectives?.rpo
      ? { rpoObjectiveMinutes: record.objectives.rpo.objectiveMinutes, rpoMet: record.objectives.rpo.met }
      : {}),
    startedAt: record.validationStartedAt,
    finishedAt: record.validationFinishedAt,
    validationDurationMs: record.validationDurationMs,
    reported: record.reported,
    mode: record.mode,
    codeVersion: record.codeVersion,
    checkCount: record.checks.length,
    failedChecks: record.checks.filter((c) => c.status === 'fail' || c.status === 'error').map((c) => c.id),
    checks: record.checks.map((c) => ({
      id: c.id,
      status: c.status,
      detail: c.detail.length > DETAIL_MAX ? `${c.detail.slice(0, DETAIL_MAX - 1)}…` : c.detail,
    })),
    ...(sha256 ? { sha256 } : {}),
    location,
  };
}

/** Resources of a restore testing selection that got no restore job in the look-back period. */
export interface CoverageReport {
  readonly generatedAt: string;
  readonly accountId?: string;
  readonly region?: string;
  /** Hours looked back over the restore jobs. */
  readonly lookbackHours: number;
  readonly untested: readonly UntestedResource[];
  /** Selections whose resources could not be enumerated (tag conditions), by `plan/selection`. */
  readonly notEvaluated: readonly string[];
  /**
   * Restore tests in watched regions with no stack (`RECONCILER_WATCH_REGIONS`) that have no final
   * verdict, or whose restore failed: nobody validates them there.
   */
  readonly unwatched?: readonly UnwatchedRestore[];
}

export interface UnwatchedRestore {
  readonly region: string;
  readonly restoreJobId: string;
  readonly resourceType: string;
  readonly sourceResourceArn?: string;
  readonly restoreTestingPlanArn?: string;
  readonly status: string;
  readonly validationStatus?: string;
  readonly completedAt?: string;
}

export interface UntestedResource {
  readonly resourceArn: string;
  readonly resourceType: string;
  readonly restoreTestingPlanName: string;
  readonly restoreTestingSelectionName: string;
  /** Why we think no job ran, as far as the reconciler can tell. */
  readonly reason: string;
}

export interface EvidenceStoreOptions {
  readonly s3: S3Client;
  /** Needed for the index (queries, claims); without it the store only writes S3 objects. */
  readonly dynamodb?: DynamoDBClient;
  readonly bucket: string;
  readonly table?: string;
  /** Key prefix in the bucket, e.g. `evidence/` (a central bucket may use `<account>/<region>/`). */
  readonly prefix?: string;
}

export interface DateRange {
  /** Inclusive, ISO 8601 or a Date. */
  readonly from?: string | Date;
  /** Exclusive, ISO 8601 or a Date. */
  readonly to?: string | Date;
}

export interface PutResult {
  readonly key: string;
  /** `written` (index updated), `exists` (onlyIfAbsent and already there), `stale` (a newer record is indexed), `no-index`. */
  readonly index: 'written' | 'exists' | 'stale' | 'no-index';
}

const iso = (v: string | Date | undefined): string | undefined => (v instanceof Date ? v.toISOString() : v);

/**
 * S3 + DynamoDB evidence store. Every method takes plain clients so the lifecycle, the reconciler and
 * the CLI can inject theirs.
 */
export class EvidenceStore {
  readonly bucket: string;
  readonly table?: string;
  readonly prefix: string;
  private readonly s3: S3Client;
  private readonly doc?: DynamoDBDocumentClient;

  constructor(options: EvidenceStoreOptions) {
    if (!options.bucket) throw new TypeError('EvidenceStore needs a bucket name (EVIDENCE_BUCKET)');
    if (options.table && !options.dynamodb)
      throw new TypeError('EvidenceStore: a table was given without a DynamoDB client');
    this.bucket = options.bucket;
    this.table = options.table;
    this.prefix = options.prefix ?? '';
    this.s3 = options.s3;
    this.doc = options.dynamodb
      ? DynamoDBDocumentClient.from(options.dynamodb, { marshallOptions: { removeUndefinedValues: true } })
      : undefined;
  }

  /** The S3 key of a record. */
  keyOf(record: Pick<EvidenceRecord, 'restoreJobId' | 'validationFinishedAt'>): string {
    return `${this.prefix}${evidenceKey(record)}`;
  }

  /**
   * Writes the record to S3, then indexes it. The index keeps the latest validation of a job (a
   * DEFERRED record is replaced by the final one; an older record never replaces a newer one).
   * With `onlyIfAbsent`, indexing succeeds only for the first writer: the reconciler uses this so two
   * concurrent runs notify about a failed restore once. The S3 write comes first so the index never
   * points at a missing object; its key is deterministic, so a repeated write is harmless.
   */
  async put(record: EvidenceRecord, options: { onlyIfAbsent?: boolean } = {}): Promise<PutResult> {
    const key = this.keyOf(record);
    const body = evidenceBody(record);
    await this.s3.send(
      new PutObjectCommand({
        Bucket: this.bucket,
        Key: key,
        Body: body,
        ContentType: 'application/json',
      }),
    );
    if (!this.doc || !this.table) return { key, index: 'no-index' };
    const item: EvidenceIndexItem = {
      ...summarize(record, key, sha256Hex(body)),
      month: record.validationFinishedAt.slice(0, 7),
      bucket: this.bucket,
    };
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.table,
          Item: item,
          ...(options.onlyIfAbsent
            ? { ConditionExpression: 'attribute_not_exists(restoreJobId)' }
            : {
                ConditionExpression: 'attribute_not_exists(restoreJobId) OR finishedAt <= :f',
                ExpressionAttributeValues: { ':f': item.finishedAt },
              }),
        }),
      );
      return { key, index: 'written' };
    } catch (err) {
      if (
        err instanceof ConditionalCheckFailedException ||
        (err as Error)?.name === 'ConditionalCheckFailedException'
      ) {
        return { key, index: options.onlyIfAbsent ? 'exists' : 'stale' };
      }
      throw err;
    }
  }

  /** The index item of a job, or undefined. */
  async getSummary(restoreJobId: string): Promise<EvidenceIndexItem | undefined> {
    const { doc, table } = this.requireIndex();
    const out = await doc.send(
      new GetCommand({ TableName: table, Key: { restoreJobId }, ConsistentRead: true }),
    );
    const item = out.Item as EvidenceIndexItem | undefined;
    return item && typeof item.month === 'string' ? item : undefined;
  }

  /** The full evidence record of a job (index look-up, then the S3 object), or undefined. */
  async get(restoreJobId: string): Promise<EvidenceRecord | undefined> {
    const summary = await this.getSummary(restoreJobId);
    if (!summary) return undefined;
    return this.getObject(summary.location);
  }

  /** Reads one record by its S3 key. */
  async getObject(key: string): Promise<EvidenceRecord> {
    const out = await this.s3.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
    const text = await out.Body?.transformToString('utf8');
    if (!text) throw new Error(`evidence object s3://${this.bucket}/${key} is empty`);
    return JSON.parse(text) as EvidenceRecord;
  }

  /**
   * Which of these restore jobs already have evidence: one BatchGetItem per 100 ids (keys only), so
   * the reconciler can check a whole page of jobs for about a hundredth of a call each.
   */
  async existing(restoreJobIds: readonly string[]): Promise<Set<string>> {
    const { doc, table } = this.requireIndex();
    const found = new Set<string>();
    const unique = [...new Set(restoreJobIds)];
    for (let i = 0; i < unique.length; i += 100) {
      let keys: Record<string, unknown>[] | undefined = unique
        .slice(i, i + 100)
        .map((restoreJobId) => ({ restoreJobId }));
      for (let attempt = 0; keys && keys.length > 0; attempt++) {
        if (attempt > 0) await new Promise((r) => setTimeout(r, Math.min(2_000, 50 * 2 ** attempt)));
        if (attempt > 8)
          throw new Error(`DynamoDB left ${keys.length} keys unprocessed after ${attempt} attempts`);
        const out = await doc.send(
          new BatchGetCommand({
            RequestItems: {
              [table]: {
                Keys: keys,
                ProjectionExpression: 'restoreJobId, #m',
                ExpressionAttributeNames: { '#m': 'month' },
              },
            },
          }),
        );
        // One table per request: read its entry whatever it is keyed by (a name, or the ARN a member
        // account uses for the central table).
        for (const item of Object.values(out.Responses ?? {})[0] ?? []) {
          if (typeof item.month === 'string') found.add(String(item.restoreJobId));
        }
        keys = Object.values(out.UnprocessedKeys ?? {})[0]?.Keys as Record<string, unknown>[] | undefined;
      }
    }
    return found;
  }

  /** Validations of one source resource, oldest first. */
  queryByResource(sourceResourceArn: string, range: DateRange = {}): Promise<EvidenceIndexItem[]> {
    return this.queryIndex('byResource', sourceResourceArn, range);
  }

  /** Validations of one restore testing plan (by ARN), oldest first. */
  queryByPlan(restoreTestingPlanArn: string, range: DateRange = {}): Promise<EvidenceIndexItem[]> {
    return this.queryIndex('byPlan', restoreTestingPlanArn, range);
  }

  /** Every validation finished in the range (one query per calendar month), oldest first. */
  async queryByDate(range: { from: string | Date; to?: string | Date }): Promise<EvidenceIndexItem[]> {
    const from = new Date(iso(range.from) ?? 0);
    const to = range.to ? new Date(iso(range.to) ?? 0) : new Date();
    const out: EvidenceIndexItem[] = [];
    const cursor = new Date(Date.UTC(from.getUTCFullYear(), from.getUTCMonth(), 1));
    while (cursor < to) {
      const month = cursor.toISOString().slice(0, 7);
      out.push(...(await this.queryIndex('byMonth', month, { from, to })));
      cursor.setUTCMonth(cursor.getUTCMonth() + 1);
    }
    return out;
  }

  /**
   * Claims a one-off action (e.g. "dispatch validation of job X") for `ttlSeconds`; true for exactly
   * one caller while the claim lives. Two reconcilers running at once cannot both act.
   */
  async claim(name: string, ttlSeconds: number, now: Date = new Date()): Promise<boolean> {
    const { doc, table } = this.requireIndex();
    const nowSec = Math.floor(now.getTime() / 1000);
    try {
      await doc.send(
        new PutCommand({
          TableName: table,
          Item: { restoreJobId: `claim#${name}`, [EVIDENCE_TTL_ATTRIBUTE]: nowSec + ttlSeconds },
          // An expired claim that TTL has not yet deleted (it can lag by days) counts as free.
          ConditionExpression: 'attribute_not_exists(restoreJobId) OR #e < :now',
          ExpressionAttributeNames: { '#e': EVIDENCE_TTL_ATTRIBUTE },
          ExpressionAttributeValues: { ':now': nowSec },
        }),
      );
      return true;
    } catch (err) {
      if ((err as Error)?.name === 'ConditionalCheckFailedException') return false;
      throw err;
    }
  }

  /** Writes the reconciler's coverage report next to the evidence (`coverage/<date>/<time>.json`). */
  async putCoverage(report: CoverageReport): Promise<string> {
    const key = `${this.prefix}coverage/${report.generatedAt.slice(0, 10)}/${report.generatedAt.replace(/[:.]/g, '-')}.json`;
    await this.s3.send(
      new PutObjectCommand({
        Bucket: this.bucket,
        Key: key,
        Body: JSON.stringify(report, null, 2),
        ContentType: 'application/json',
      }),
    );
    return key;
  }

  /**
   * The most recent coverage report under this store's prefix, if any. Keys sort by time below
   * `coverage/<day>/`: one listing finds the newest day, a second the newest report in it, so the
   * cost does not grow with a year of reports (one every pass).
   */
  async latestCoverage(prefix = this.prefix): Promise<CoverageReport | undefined> {
    const days = await this.list(`${prefix}coverage/`, true);
    const newestDay = days.sort().pop();
    const keys = await this.list(newestDay ?? `${prefix}coverage/`);
    const last = keys.sort().pop();
    if (!last) return undefined;
    const obj = await this.s3.send(new GetObjectCommand({ Bucket: this.bucket, Key: last }));
    return JSON.parse((await obj.Body?.transformToString('utf8')) ?? '{}') as CoverageReport;
  }

  /**
   * Coverage for a report over the whole bucket: the latest report under this store's prefix and
   * under every member's `<account>/<region>/` prefix (a central evidence account), merged into one.
   * In a single-account bucket it is the latest report under the prefix.
   */
  async organizationCoverage(): Promise<CoverageReport | undefined> {
    const scopes = [this.prefix];
    for (const account of await this.list('', true)) {
      if (!/^\d{12}\/$/.test(account)) continue;
      for (const region of await this.list(account, true)) if (region !== this.prefix) scopes.push(region);
    }
    const reports = (await Promise.all(scopes.map((p) => this.latestCoverage(p)))).filter(
      (r): r is CoverageReport => r !== undefined,
    );
    return mergeCoverage(reports);
  }

  /** Every key below `prefix`, or with `folders` the `…/` prefixes one level down instead. */
  private async list(prefix: string, folders = false): Promise<string[]> {
    const found: string[] = [];
    for await (const out of paginateListObjectsV2(
      { client: this.s3 },
      { Bucket: this.bucket, Prefix: prefix, ...(folders ? { Delimiter: '/' } : {}) },
    )) {
      const names = folders
        ? (out.CommonPrefixes ?? []).map((p) => p.Prefix)
        : (out.Contents ?? []).map((o) => o.Key);
      for (const name of names) if (name) found.push(name);
    }
    return found;
  }

  private async queryIndex(
    index: keyof typeof EVIDENCE_INDEXES,
    value: string,
    range: DateRange,
  ): Promise<EvidenceIndexItem[]> {
    const { doc, table } = this.requireIndex();
    const { partitionKey } = EVIDENCE_INDEXES[index];
    const from = iso(range.from);
    const to = iso(range.to);
    const names: Record<string, string> = { '#p': partitionKey };
    if (from || to) names['#s'] = 'finishedAt';
    const values: Record<string, unknown> = { ':p': value };
    let cond = '#p = :p';
    if (from && to) {
      cond += ' AND #s BETWEEN :from AND :to';
      values[':from'] = from;
      values[':to'] = to;
    } else if (from) {
      cond += ' AND #s >= :from';
      values[':from'] = from;
    } else if (to) {
      cond += ' AND #s <= :to';
      values[':to'] = to;
    }
    const items: EvidenceIndexItem[] = [];
    for await (const out of paginateQuery(
      { client: doc },
      {
        TableName: table,
        IndexName: index,
        KeyConditionExpression: cond,
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: values,
      },
    )) {
      for (const item of out.Items ?? []) {
        const it = item as EvidenceIndexItem;
        // BETWEEN is inclusive; the range's end is exclusive.
        if (to && it.finishedAt >= to) continue;
        items.push(it);
      }
    }
    return items;
  }

  private requireIndex(): { doc: DynamoDBDocumentClient; table: string } {
    if (!this.doc || !this.table)
      throw new Error('the evidence index table is not configured (EVIDENCE_TABLE)');
    return { doc: this.doc, table: this.table };
  }
}

/**
 * Writes one validation's evidence when the stack has a store; the lifecycle's entry point.
 * Returns the S3 key, or undefined when no bucket is configured.
 */
export async function putEvidence(
  clients: { s3: S3Client; dynamodb?: DynamoDBClient },
  settings: { evidenceBucket?: string; evidenceTable?: string; evidencePrefix?: string },
  record: EvidenceRecord,
): Promise<PutResult | undefined> {
  if (!settings.evidenceBucket) return undefined;
  const store = new EvidenceStore({
    s3: clients.s3,
    dynamodb: settings.evidenceTable ? clients.dynamodb : undefined,
    bucket: settings.evidenceBucket,
    table: settings.evidenceTable,
    // The construct grants s3:PutObject under this prefix only: writing elsewhere is AccessDenied.
    prefix: settings.evidencePrefix,
  });
  return store.put(record);
}

/**
 * One coverage report from several (one per account and region): every untested resource, selection
 * not evaluated and unwatched restore test; dated by the oldest report, so the report never claims
 * fresher coverage than it has.
 */
export function mergeCoverage(reports: readonly CoverageReport[]): CoverageReport | undefined {
  if (reports.length <= 1) return reports[0];
  const oldest = [...reports].sort((a, b) => a.generatedAt.localeCompare(b.generatedAt))[0] as CoverageReport;
  const accounts = new Set(reports.map((r) => r.accountId).filter(Boolean));
  const regions = new Set(reports.map((r) => r.region).filter(Boolean));
  return {
    generatedAt: oldest.generatedAt,
    ...(accounts.size === 1 ? { accountId: [...accounts][0] } : {}),
    ...(regions.size === 1 ? { region: [...regions][0] } : {}),
    lookbackHours: Math.min(...reports.map((r) => r.lookbackHours)),
    untested: reports.flatMap((r) => r.untested),
    notEvaluated: reports.flatMap((r) =>
      r.accountId ? r.notEvaluated.map((n) => `${r.accountId}/${r.region ?? ''}: ${n}`) : r.notEvaluated,
    ),
    unwatched: reports.flatMap((r) => r.unwatched ?? []),
  };
}

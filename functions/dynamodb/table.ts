/**
 * DynamoDB table shape: what DescribeTable says about a table, reduced to the parts a restore must
 * keep (key schema, attribute types, indexes, streams), and the comparisons between two shapes.
 * @see https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_DescribeTable.html
 */
import {
  DescribeTableCommand,
  type DynamoDBClient,
  type KeySchemaElement,
  type Projection,
  ResourceNotFoundException,
  type TableDescription,
} from '@aws-sdk/client-dynamodb';
import { type RetryOptions, withRetry } from '../../shared/retry';

export interface KeyPart {
  readonly name: string;
  /** `HASH` or `RANGE`. */
  readonly type: string;
}

export interface IndexShape {
  readonly name: string;
  readonly keySchema: readonly KeyPart[];
  readonly projection: string;
  readonly status?: string;
}

export interface TableShape {
  readonly name: string;
  readonly arn?: string;
  readonly status: string;
  readonly keySchema: readonly KeyPart[];
  /** Attribute name → `S` | `N` | `B`, for key and index attributes. */
  readonly attributeTypes: Readonly<Record<string, string>>;
  readonly globalIndexes: readonly IndexShape[];
  readonly localIndexes: readonly IndexShape[];
  readonly streamEnabled: boolean;
  readonly streamViewType?: string;
  /** Approximate: DynamoDB updates it about every six hours. */
  readonly itemCount?: number;
  readonly sizeBytes?: number;
  readonly creationDate?: Date;
  readonly billingMode?: string;
  readonly sseStatus?: string;
}

const keyParts = (k: readonly KeySchemaElement[] | undefined): KeyPart[] =>
  (k ?? []).map((e) => ({ name: e.AttributeName ?? '', type: e.KeyType ?? '' }));

function projectionText(p: Projection | undefined): string {
  if (!p) return 'unknown';
  const extra = [...(p.NonKeyAttributes ?? [])].sort();
  return extra.length ? `${p.ProjectionType}(${extra.join(',')})` : (p.ProjectionType ?? 'unknown');
}

/** Reduces a TableDescription to the shape compared between source and restore. */
export function tableShape(t: TableDescription): TableShape {
  const attributeTypes: Record<string, string> = {};
  for (const a of t.AttributeDefinitions ?? [])
    if (a.AttributeName) attributeTypes[a.AttributeName] = a.AttributeType ?? '';
  return {
    name: t.TableName ?? '',
    arn: t.TableArn,
    status: t.TableStatus ?? 'UNKNOWN',
    keySchema: keyParts(t.KeySchema),
    attributeTypes,
    globalIndexes: (t.GlobalSecondaryIndexes ?? []).map((i) => ({
      name: i.IndexName ?? '',
      keySchema: keyParts(i.KeySchema),
      projection: projectionText(i.Projection),
      status: i.IndexStatus,
    })),
    localIndexes: (t.LocalSecondaryIndexes ?? []).map((i) => ({
      name: i.IndexName ?? '',
      keySchema: keyParts(i.KeySchema),
      projection: projectionText(i.Projection),
    })),
    streamEnabled: t.StreamSpecification?.StreamEnabled ?? false,
    streamViewType: t.StreamSpecification?.StreamEnabled ? t.StreamSpecification.StreamViewType : undefined,
    itemCount: t.ItemCount,
    sizeBytes: t.TableSizeBytes,
    creationDate: t.CreationDateTime,
    billingMode: t.BillingModeSummary?.BillingMode,
    sseStatus: t.SSEDescription?.Status,
  };
}

/** DescribeTable with retries; undefined when the table does not exist. */
export async function describeTable(
  client: DynamoDBClient,
  name: string,
  retry: RetryOptions,
): Promise<TableShape | undefined> {
  try {
    const out = await withRetry(() => client.send(new DescribeTableCommand({ TableName: name })), retry);
    return out.Table ? tableShape(out.Table) : undefined;
  } catch (err) {
    if (
      err instanceof ResourceNotFoundException ||
      (err as { name?: string }).name === 'ResourceNotFoundException'
    )
      return undefined;
    throw err;
  }
}

export const keyText = (k: readonly KeyPart[]): string =>
  k.map((p) => `${p.name}(${p.type})`).join(', ') || '(none)';

/** Differences between two key schemas, including the key attributes' types. */
export function keySchemaDifferences(restored: TableShape, source: TableShape): string[] {
  const out: string[] = [];
  if (keyText(restored.keySchema) !== keyText(source.keySchema)) {
    out.push(`key schema is ${keyText(restored.keySchema)}, source has ${keyText(source.keySchema)}`);
  }
  for (const part of source.keySchema) {
    const want = source.attributeTypes[part.name];
    const got = restored.attributeTypes[part.name];
    if (want && got && want !== got)
      out.push(`key attribute ${part.name} is of type ${got}, source has ${want}`);
  }
  return out;
}

/** Differences between the indexes of two tables: missing, extra, different key or projection, not ACTIVE. */
export function indexDifferences(restored: TableShape, source: TableShape): string[] {
  const out: string[] = [];
  const compare = (kind: string, got: readonly IndexShape[], want: readonly IndexShape[]) => {
    const byName = new Map(got.map((i) => [i.name, i]));
    for (const w of want) {
      const g = byName.get(w.name);
      if (!g) {
        out.push(`${kind} ${w.name} is missing`);
        continue;
      }
      if (keyText(g.keySchema) !== keyText(w.keySchema))
        out.push(`${kind} ${w.name} has key ${keyText(g.keySchema)}, source has ${keyText(w.keySchema)}`);
      if (g.projection !== w.projection)
        out.push(`${kind} ${w.name} projects ${g.projection}, source projects ${w.projection}`);
      if (g.status && g.status !== 'ACTIVE') out.push(`${kind} ${w.name} is ${g.status}, not ACTIVE`);
    }
    const wanted = new Set(want.map((i) => i.name));
    for (const g of got) if (!wanted.has(g.name)) out.push(`${kind} ${g.name} is not on the source`);
  };
  compare('global secondary index', restored.globalIndexes, source.globalIndexes);
  compare('local secondary index', restored.localIndexes, source.localIndexes);
  return out;
}

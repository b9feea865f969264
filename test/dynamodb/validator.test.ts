import {
  BatchWriteItemCommand,
  CreateTableCommand,
  type CreateTableCommandInput,
  DeleteItemCommand,
  DynamoDBClient,
  PutItemCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { cliTarget } from '../../functions/dynamodb/cli';
import { sampleItems } from '../../functions/dynamodb/items';
import { describeTable } from '../../functions/dynamodb/table';
import { dynamodbValidator } from '../../functions/dynamodb/validator';
import { seededRandom } from '../../shared/random';
import { runValidator } from '../../shared/validator';
import { type Moto, startMoto } from '../support/engines';
import { type TestContextInput, testContext } from '../support/validator-context';

const SOURCE = 'orders';
const RESTORED = 'awsbackup-restore-test-1d2e3f40';
const ARN = (t: string) => `arn:aws:dynamodb:us-east-1:123456789012:table/${t}`;
const RECOVERY_POINT = new Date('2026-11-24T22:00:00Z');
const BEFORE = Math.floor(new Date('2026-11-20T00:00:00Z').getTime() / 1000);
const AFTER = Math.floor(new Date('2026-11-25T00:00:00Z').getTime() / 1000);

let moto: Moto;
let ddb: DynamoDBClient;

function tableInput(name: string, withIndex = true): CreateTableCommandInput {
  return {
    TableName: name,
    BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: [
      { AttributeName: 'pk', AttributeType: 'S' },
      { AttributeName: 'sk', AttributeType: 'N' },
      ...(withIndex ? [{ AttributeName: 'status', AttributeType: 'S' as const }] : []),
    ],
    KeySchema: [
      { AttributeName: 'pk', KeyType: 'HASH' },
      { AttributeName: 'sk', KeyType: 'RANGE' },
    ],
    ...(withIndex
      ? {
          GlobalSecondaryIndexes: [
            {
              IndexName: 'byStatus',
              KeySchema: [{ AttributeName: 'status', KeyType: 'HASH' }],
              Projection: { ProjectionType: 'ALL' },
            },
          ],
        }
      : {}),
  };
}

const item = (i: number) => ({
  pk: { S: `ORDER#${i}` },
  sk: { N: String(i % 3) },
  status: { S: i % 2 ? 'open' : 'closed' },
  total: { N: String(i * 10) },
  tags: { SS: ['a', `t${i}`] },
  detail: { M: { lines: { L: [{ S: 'x' }, { N: String(i) }] }, gift: { BOOL: i % 5 === 0 } } },
  updatedAt: { N: String(BEFORE) },
});

async function fill(table: string, n: number, from = 0) {
  for (let start = from; start < from + n; start += 25) {
    const batch = Array.from({ length: Math.min(25, from + n - start) }, (_, k) => ({
      PutRequest: { Item: item(start + k) },
    }));
    await ddb.send(new BatchWriteItemCommand({ RequestItems: { [table]: batch } }));
  }
}

async function identicalTables(n = 60) {
  await ddb.send(new CreateTableCommand(tableInput(SOURCE)));
  await ddb.send(new CreateTableCommand(tableInput(RESTORED)));
  await fill(SOURCE, n);
  await fill(RESTORED, n);
}

const COMPARE = {
  id: 'same-as-source',
  compare: { with: 'source', sample: 200, countMode: 'exact', changedAtAttribute: 'updatedAt', seed: 7 },
};

function ctx(checks: unknown[], extra: Partial<TestContextInput> = {}) {
  return testContext({
    resourceType: 'DynamoDB',
    createdResourceArn: ARN(RESTORED),
    sourceResourceArn: ARN(SOURCE),
    recoveryPointCreationDate: RECOVERY_POINT,
    checks,
    clients: { dynamodb: ddb },
    ...extra,
  });
}

const byId = (run: Awaited<ReturnType<typeof runValidator>>, id: string) =>
  run.results.find((r) => r.id === id);

beforeAll(async () => {
  moto = await startMoto();
  ddb = new DynamoDBClient({ endpoint: moto.endpoint, region: 'us-east-1' });
});
afterAll(async () => {
  ddb?.destroy();
  await moto?.stop();
});
beforeEach(async () => {
  await moto.reset();
});

describe('dynamodbValidator', () => {
  it('passes every check when the restored table is identical to the source', async () => {
    await identicalTables();
    const run = await runValidator(
      dynamodbValidator,
      ctx([COMPARE, { id: 'order-1', items: [{ pk: 'ORDER#1', sk: 1 }] }, { id: 'not-empty', minItems: 50 }]),
    );
    expect(run.results.map((r) => [r.id, r.status])).toEqual([
      ['table-status', 'pass'],
      ['key-schema', 'pass'],
      ['indexes', 'pass'],
      ['stream', 'pass'],
      ['same-as-source.count', 'pass'],
      ['same-as-source', 'pass'],
      ['order-1', 'pass'],
      ['not-empty', 'pass'],
    ]);
    expect(run.verdict.verdict).toBe('SUCCESSFUL');
    expect(byId(run, 'same-as-source')?.data).toMatchObject({
      compared: 60,
      matched: 60,
      missing: 0,
      differing: 0,
      seed: 7,
    });
    expect(byId(run, 'same-as-source.count')?.data).toMatchObject({
      restored: 60,
      source: 60,
      mode: 'exact',
    });
  });

  it('fails the compare when an item is missing from the restored table', async () => {
    await identicalTables();
    await ddb.send(
      new DeleteItemCommand({ TableName: RESTORED, Key: { pk: { S: 'ORDER#4' }, sk: { N: '1' } } }),
    );
    const run = await runValidator(dynamodbValidator, ctx([COMPARE]));
    const r = byId(run, 'same-as-source');
    expect(r?.status).toBe('fail');
    expect(r?.detail).toContain('1 missing (pk=ORDER#4,sk=1)');
    expect(run.verdict.verdict).toBe('FAILED');
  });

  it('fails the compare and names the attribute when a value differs', async () => {
    await identicalTables();
    await ddb.send(
      new UpdateItemCommand({
        TableName: RESTORED,
        Key: { pk: { S: 'ORDER#7' }, sk: { N: '1' } },
        UpdateExpression: 'SET #d.gift = :g',
        ExpressionAttributeNames: { '#d': 'detail' },
        ExpressionAttributeValues: { ':g': { BOOL: true } },
      }),
    );
    const run = await runValidator(dynamodbValidator, ctx([COMPARE]));
    const r = byId(run, 'same-as-source');
    expect(r?.status).toBe('fail');
    expect(r?.detail).toContain('1 differ (pk=ORDER#7,sk=1: detail)');
    expect(r?.detail).not.toContain('true');
  });

  it('fails the count when the restored table holds far fewer items', async () => {
    await ddb.send(new CreateTableCommand(tableInput(SOURCE)));
    await ddb.send(new CreateTableCommand(tableInput(RESTORED)));
    await fill(SOURCE, 100);
    await fill(RESTORED, 50);
    const run = await runValidator(
      dynamodbValidator,
      ctx([{ id: 'cmp', compare: { countMode: 'exact', tolerancePercent: 5 } }]),
    );
    const r = byId(run, 'cmp.count');
    expect(r?.status).toBe('fail');
    expect(r?.data).toMatchObject({ restored: 50, source: 100, diffPercent: 50 });
  });

  it('passes the count within the tolerance and says approximate counts are approximate', async () => {
    await ddb.send(new CreateTableCommand(tableInput(SOURCE)));
    await ddb.send(new CreateTableCommand(tableInput(RESTORED)));
    await fill(SOURCE, 100);
    await fill(RESTORED, 97);
    const run = await runValidator(
      dynamodbValidator,
      ctx([{ id: 'cmp', compare: { countMode: 'approximate', tolerancePercent: 5 } }]),
    );
    const r = byId(run, 'cmp.count');
    expect(r?.status).toBe('pass');
    expect(r?.detail).toContain('about every six hours');
  });

  it('fails the index check when a global secondary index is missing', async () => {
    await ddb.send(new CreateTableCommand(tableInput(SOURCE)));
    await ddb.send(new CreateTableCommand(tableInput(RESTORED, false)));
    const run = await runValidator(dynamodbValidator, ctx([]));
    const r = byId(run, 'indexes');
    expect(r?.status).toBe('fail');
    expect(r?.detail).toBe('global secondary index byStatus is missing');
    expect(run.verdict.verdict).toBe('FAILED');
  });

  it('skips, not fails, items changed in the source after the recovery point', async () => {
    await identicalTables();
    // Changed after the recovery point: new value in the source, and a brand-new item.
    await ddb.send(
      new UpdateItemCommand({
        TableName: SOURCE,
        Key: { pk: { S: 'ORDER#3' }, sk: { N: '0' } },
        UpdateExpression: 'SET #t = :t, updatedAt = :u',
        ExpressionAttributeNames: { '#t': 'total' },
        ExpressionAttributeValues: { ':t': { N: '999' }, ':u': { N: String(AFTER) } },
      }),
    );
    await ddb.send(
      new PutItemCommand({
        TableName: SOURCE,
        Item: { ...item(500), updatedAt: { S: '2026-11-25T01:00:00Z' } },
      }),
    );
    const run = await runValidator(
      dynamodbValidator,
      ctx([{ ...COMPARE, compare: { ...COMPARE.compare, countMode: 'exact', tolerancePercent: 5 } }]),
    );
    const r = byId(run, 'same-as-source');
    expect(r?.status).toBe('pass');
    expect(r?.data).toMatchObject({
      sampled: 61,
      compared: 59,
      skippedChangedAfterRecoveryPoint: 2,
      missing: 0,
      differing: 0,
    });
    expect(r?.detail).toContain('2 skipped as changed in the source after the recovery point');
    expect(run.verdict.verdict).toBe('SUCCESSFUL');
  });

  it('fails items and minItems when the restored table lacks them', async () => {
    await identicalTables(10);
    const run = await runValidator(
      dynamodbValidator,
      ctx([
        {
          id: 'admins',
          items: [
            { pk: 'ORDER#1', sk: 1 },
            { pk: 'USER#admin', sk: 0 },
          ],
        },
        { id: 'big', minItems: 11 },
      ]),
    );
    expect(byId(run, 'admins')).toMatchObject({
      status: 'fail',
      detail: '1 of 2 item(s) missing: pk=USER#admin,sk=0',
    });
    expect(byId(run, 'big')).toMatchObject({
      status: 'fail',
      detail: '10 items, fewer than 11 (exact Scan COUNT)',
    });
  });

  it('compares the items named by sampleKeys when given', async () => {
    await identicalTables(10);
    await ddb.send(
      new DeleteItemCommand({ TableName: RESTORED, Key: { pk: { S: 'ORDER#2' }, sk: { N: '2' } } }),
    );
    const run = await runValidator(
      dynamodbValidator,
      ctx([
        {
          id: 'vip',
          compare: {
            sampleKeys: [
              { pk: 'ORDER#1', sk: 1 },
              { pk: 'ORDER#2', sk: 2 },
            ],
            countMode: 'exact',
            tolerancePercent: 20,
          },
        },
      ]),
    );
    expect(byId(run, 'vip')).toMatchObject({
      status: 'fail',
      detail: expect.stringContaining('1 of 2 items (2 key(s) named in the profile)'),
    });
  });

  it('reports an S3-only compare option as an error instead of ignoring it', async () => {
    await identicalTables(5);
    const run = await runValidator(dynamodbValidator, ctx([{ id: 'cmp', compare: { include: ['a/'] } }]));
    expect(byId(run, 'cmp')).toMatchObject({
      status: 'error',
      detail: expect.stringContaining('include apply to S3 buckets only'),
    });
    expect(byId(run, 'cmp.count')).toBeUndefined();
  });

  it('fails the restored-resource check when the restored table does not exist', async () => {
    await ddb.send(new CreateTableCommand(tableInput(SOURCE)));
    const run = await runValidator(dynamodbValidator, ctx([]));
    expect(run.results).toEqual([
      expect.objectContaining({
        id: 'restored-resource',
        status: 'fail',
        detail: `restored table ${RESTORED} does not exist`,
      }),
    ]);
    expect(run.verdict.verdict).toBe('FAILED');
  });

  it('refuses a table that is not a restore-test table', async () => {
    await ddb.send(new CreateTableCommand(tableInput(SOURCE)));
    const run = await runValidator(
      dynamodbValidator,
      ctx([], { createdResourceArn: ARN(SOURCE), metadata: {} }),
    );
    expect(run.results[0]).toMatchObject({
      id: 'restored-resource',
      status: 'error',
      detail: expect.stringContaining('safety guard: refusing to validate table orders'),
    });
  });

  it('uses targetTableName from the restore metadata', async () => {
    await identicalTables(5);
    const run = await runValidator(
      dynamodbValidator,
      ctx([], { createdResourceArn: undefined, metadata: { TargetTableName: RESTORED } }),
    );
    expect(byId(run, 'table-status')).toMatchObject({
      status: 'pass',
      detail: `table ${RESTORED} is ACTIVE`,
    });
  });

  it('skips the comparisons, with the reason, when the source table is gone', async () => {
    await ddb.send(new CreateTableCommand(tableInput(RESTORED)));
    const run = await runValidator(dynamodbValidator, ctx([COMPARE]));
    expect(byId(run, 'key-schema')).toMatchObject({
      status: 'skip',
      detail: expect.stringContaining('source table orders does not exist'),
    });
    expect(byId(run, 'same-as-source')).toMatchObject({ status: 'error' });
    expect(run.verdict.verdict).toBe('FAILED');
  });
});

describe('dynamodb cliTarget', () => {
  it('checks a table given by --table and --source-table at --endpoint-url', async () => {
    await identicalTables(20);
    await ddb.send(
      new DeleteItemCommand({
        TableName: 'awsbackup-restore-test-1d2e3f40',
        Key: { pk: { S: 'ORDER#5' }, sk: { N: '2' } },
      }),
    );
    const run = await runValidator(
      cliTarget.validator,
      testContext({
        resourceType: 'DynamoDB',
        mode: 'local',
        target: {
          table: RESTORED,
          sourceTable: SOURCE,
          endpointUrl: moto.endpoint,
          region: 'us-east-1',
          recoveryPointTime: '2026-11-24T22:00:00Z',
        },
        checks: [COMPARE],
      }),
    );
    expect(byId(run, 'same-as-source')).toMatchObject({
      status: 'fail',
      detail: expect.stringContaining('pk=ORDER#5,sk=2'),
    });
    expect(cliTarget.options.find((o) => o.flags.startsWith('--table'))?.required).toBe(true);
    expect(cliTarget.sourceResourceArn?.({ sourceTable: 'orders', region: 'eu-west-1' })).toBe(
      'arn:aws:dynamodb:eu-west-1:000000000000:table/orders',
    );
  });
});

describe('sampleItems', () => {
  it('draws distinct source items from random parallel-scan segments when the table is large', async () => {
    await ddb.send(new CreateTableCommand(tableInput(SOURCE)));
    await fill(SOURCE, 40);
    const shape = await describeTable(ddb, SOURCE, {});
    if (!shape) throw new Error('no table');
    const sample = await sampleItems(ddb, shape, 10, seededRandom(1), {}, { fullScanMaxItems: 0 });
    expect(sample.method).toBe('segments');
    // moto hashes items into 256 buckets, so most of the 40+ segments are empty: the top-up rounds fill the sample.
    expect(sample.items.length).toBe(10);
    const labels = sample.items.map((i) => i.pk?.S);
    expect(new Set(labels).size).toBe(labels.length);
    for (const l of labels) expect(l).toMatch(/^ORDER#\d+$/);
  });

  it('returns the same sample for the same seed', async () => {
    await ddb.send(new CreateTableCommand(tableInput(SOURCE)));
    await fill(SOURCE, 40);
    const shape = await describeTable(ddb, SOURCE, {});
    if (!shape) throw new Error('no table');
    const a = await sampleItems(ddb, shape, 5, seededRandom(42), {});
    const b = await sampleItems(ddb, shape, 5, seededRandom(42), {});
    expect(a.items.map((i) => i.pk?.S)).toEqual(b.items.map((i) => i.pk?.S));
    expect(a.method).toBe('full-scan');
  });
});

/**
 * DynamoDB compare proofs against moto (issue 15): exact decimal numbers, empty tables, long keys,
 * the compare in both directions, an absolute count tolerance, and `items` by partition key alone.
 * Each case here was a false pass or a false fail before.
 */
import {
  BatchWriteItemCommand,
  CreateTableCommand,
  type CreateTableCommandInput,
  DynamoDBClient,
  PutItemCommand,
  ScanCommand,
} from '@aws-sdk/client-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Item } from '../../functions/dynamodb/items';
import { differingAttributes, normaliseNumber } from '../../functions/dynamodb/items';
import { dynamodbValidator, profileChecks } from '../../functions/dynamodb/validator';
import { runValidator } from '../../shared/validator';
import { type Moto, startMoto } from '../support/engines';
import { testContext } from '../support/validator-context';

const SOURCE = 'orders';
const RESTORED = 'awsbackup-restore-test-6f5e4d3c';
const ARN = (t: string) => `arn:aws:dynamodb:us-east-1:123456789012:table/${t}`;
const RECOVERY_POINT = new Date('2026-11-24T22:00:00Z');
const BEFORE = String(Math.floor(new Date('2026-11-20T00:00:00Z').getTime() / 1000));
const AFTER = String(Math.floor(new Date('2026-11-25T00:00:00Z').getTime() / 1000));

let moto: Moto;
let ddb: DynamoDBClient;

const table = (name: string): CreateTableCommandInput => ({
  TableName: name,
  BillingMode: 'PAY_PER_REQUEST',
  AttributeDefinitions: [
    { AttributeName: 'pk', AttributeType: 'S' },
    { AttributeName: 'sk', AttributeType: 'N' },
  ],
  KeySchema: [
    { AttributeName: 'pk', KeyType: 'HASH' },
    { AttributeName: 'sk', KeyType: 'RANGE' },
  ],
});

async function put(name: string, items: Item[]) {
  for (let i = 0; i < items.length; i += 25)
    await ddb.send(
      new BatchWriteItemCommand({
        RequestItems: { [name]: items.slice(i, i + 25).map((Item) => ({ PutRequest: { Item } })) },
      }),
    );
}

async function tables(source: Item[], restored: Item[] = source) {
  await ddb.send(new CreateTableCommand(table(SOURCE)));
  await ddb.send(new CreateTableCommand(table(RESTORED)));
  await put(SOURCE, source);
  await put(RESTORED, restored);
}

const row = (i: number, extra: Item = {}): Item => ({
  pk: { S: `ORDER#${i}` },
  sk: { N: '1' },
  total: { N: String(i) },
  updatedAt: { N: BEFORE },
  ...extra,
});

const rows = (n: number) => Array.from({ length: n }, (_, i) => row(i));

async function run(compare: Record<string, unknown>, more: unknown[] = []) {
  return runValidator(
    dynamodbValidator,
    testContext({
      resourceType: 'DynamoDB',
      createdResourceArn: ARN(RESTORED),
      sourceResourceArn: ARN(SOURCE),
      recoveryPointCreationDate: RECOVERY_POINT,
      checks: [
        { id: 'same', compare: { with: 'source', sample: 200, countMode: 'exact', seed: 3, ...compare } },
        ...more,
      ],
      clients: { dynamodb: ddb },
    }),
  );
}

const result = (r: Awaited<ReturnType<typeof run>>, id: string) => r.results.find((x) => x.id === id);

beforeAll(async () => {
  moto = await startMoto();
  ddb = new DynamoDBClient({ endpoint: moto.endpoint, region: 'us-east-1' });
});
afterAll(async () => {
  ddb?.destroy();
  await moto?.stop();
});
beforeEach(async () => moto.reset());

describe('DynamoDB numbers', () => {
  it('normalises decimal text exactly, never through a double', () => {
    expect(normaliseNumber('1.0')).toBe(normaliseNumber('1'));
    expect(normaliseNumber('10e-1')).toBe(normaliseNumber('1'));
    expect(normaliseNumber('-0.00')).toBe(normaliseNumber('0'));
    expect(normaliseNumber('00120.500')).toBe(normaliseNumber('1.205E2'));
    expect(normaliseNumber('1')).not.toBe(normaliseNumber('1.00000000000000000001'));
    expect(normaliseNumber('12345678901234567890123456789012345678')).not.toBe(
      normaliseNumber('12345678901234567890123456789012345679'),
    );
    expect(differingAttributes({ n: { NS: ['1.50', '2'] } }, { n: { NS: ['2.0', '1.5'] } })).toEqual([]);
  });

  it('finds every planted numeric difference, in numbers, sets, lists and maps', async () => {
    const planted: [Item, Item][] = [
      [{ n: { N: '1' } }, { n: { N: '1.00000000000000000001' } }],
      [{ n: { N: '0.1' } }, { n: { N: '0.10000000000000000000000000000000000001' } }],
      [{ n: { N: '9007199254740993' } }, { n: { N: '9007199254740992' } }],
      [{ n: { NS: ['1', '2'] } }, { n: { NS: ['1', '2.0000000000000000001'] } }],
      [{ n: { NS: ['0.3', '5'] } }, { n: { NS: ['0.30000000000000000001', '5'] } }],
      [{ n: { L: [{ N: '7' }] } }, { n: { L: [{ N: '7.000000000000000000001' }] } }],
      [{ n: { M: { x: { N: '-3' } } } }, { n: { M: { x: { N: '-3.0000000000000000000001' } } } }],
    ];
    const equal: [Item, Item] = [{ n: { N: '2.50' } }, { n: { N: '2.5' } }];
    const all = [...planted, equal];
    await tables(
      all.map(([a], i) => row(i, a)),
      all.map(([, b], i) => row(i, b)),
    );
    const r = await run({});
    expect(result(r, 'same')).toMatchObject({
      status: 'fail',
      data: { compared: 8, differing: 7, matched: 1 },
    });
    expect(r.verdict.verdict).toBe('FAILED');
  });
});

describe('DynamoDB compare', () => {
  it('fails when the source and the restore are both empty, unless the profile allows it', async () => {
    await tables([]);
    const strict = await run({});
    expect(result(strict, 'same.count')).toMatchObject({ status: 'fail' });
    expect(result(strict, 'same.count')?.detail).toMatch(/^both tables are empty: nothing was compared/);
    expect(result(strict, 'same')).toMatchObject({ status: 'fail' });
    expect(strict.verdict.verdict).toBe('FAILED');
    const allowed = await run({ allowEmpty: true });
    expect(result(allowed, 'same.count')?.status).toBe('pass');
    expect(result(allowed, 'same')?.status).toBe('skip');
    expect(allowed.verdict.verdict).toBe('SUCCESSFUL');
  });

  it('passes identical tables whose keys share a prefix longer than a label shows', async () => {
    const long = 'CUSTOMER#'.padEnd(80, 'x');
    await tables(Array.from({ length: 6 }, (_, i) => row(i, { pk: { S: `${long}${i}` } })));
    const r = await run({});
    expect(result(r, 'same')).toMatchObject({ status: 'pass', data: { matched: 6, differing: 0 } });
    expect(r.verdict.verdict).toBe('SUCCESSFUL');
  });

  it('looks the other way too: reports restored items the source does not hold, and fails them on request', async () => {
    await tables(rows(10), [...rows(10), row(99)]);
    const reported = await run({});
    expect(result(reported, 'same')).toMatchObject({ status: 'pass', data: { extra: 1, matched: 10 } });
    expect(result(reported, 'same')?.detail).toContain('1 restored item(s) not in the source');
    expect(result(reported, 'same')?.detail).toContain('pk=ORDER#99');
    const strict = await run({ extra: 'fail' });
    expect(result(strict, 'same')?.status).toBe('fail');
  });

  it('finds a restored item that differs from the source even when the source sample missed it', async () => {
    // The forward sample holds 1 of 40 items; the restore's own sample finds the changed one.
    const source = rows(40);
    const restored = rows(40).map((it, i) => (i === 17 ? { ...it, total: { N: '-1' } } : it));
    await tables(source, restored);
    const r = await run({ sample: 40 });
    expect(result(r, 'same')).toMatchObject({ status: 'fail', data: { differing: 1 } });
    expect(result(r, 'same')?.detail).toContain('pk=ORDER#17,sk=1: total');
  });

  it('skips, not fails, a restored item whose source counterpart changed after the recovery point', async () => {
    await tables(rows(5), rows(5));
    // Changed in the source after the recovery point: the restore holds the older value, correctly.
    await ddb.send(
      new PutItemCommand({
        TableName: SOURCE,
        Item: row(2, { total: { N: '200' }, updatedAt: { N: AFTER } }),
      }),
    );
    const r = await run({ changedAtAttribute: 'updatedAt' });
    expect(result(r, 'same')).toMatchObject({ status: 'pass', data: { differing: 0 } });
    expect(result(r, 'same')?.detail).toContain('skipped as changed in the source after the recovery point');
  });

  it('allows an absolute count difference for small tables', async () => {
    await tables(rows(10), rows(9));
    expect(result(await run({}), 'same.count')?.status).toBe('fail');
    const r = await run({ toleranceItems: 1 });
    expect(result(r, 'same.count')).toMatchObject({
      status: 'pass',
      data: { restored: 9, source: 10, toleranceItems: 1 },
    });
  });
});

describe('DynamoDB items', () => {
  it('finds items by partition key alone (Query) on a table with a sort key', async () => {
    await tables(rows(3), rows(3));
    const r = await run({}, [
      { id: 'by-partition', items: [{ pk: 'ORDER#1' }, { pk: 'ORDER#2', sk: 1 }] },
      { id: 'absent', items: [{ pk: 'ORDER#7' }] },
      { id: 'no-key', items: [{ sk: 1 }] },
    ]);
    expect(result(r, 'by-partition')).toMatchObject({ status: 'pass', data: { partitions: 1 } });
    expect(result(r, 'absent')).toMatchObject({ status: 'fail' });
    expect(result(r, 'absent')?.detail).toContain('pk=ORDER#7 (no item in the partition)');
    expect(result(r, 'no-key')?.status).toBe('error');
    expect(result(r, 'no-key')?.detail).toContain('lacks key attribute(s) pk');
  });
});

describe('DynamoDB approximate counts', () => {
  it('does not call two tables empty on two approximate zeros when they hold items', async () => {
    // DescribeTable counts refresh about every six hours: a fresh restore and a busy source can both
    // report 0 (moto always reports the true count, so DynamoDB's answers are stubbed here).
    const client = new DynamoDBClient({ region: 'us-east-1' });
    const stub = mockClient(client);
    stub.on(ScanCommand, { TableName: RESTORED }).resolves({ Items: [row(1)], Count: 1 });
    stub.on(ScanCommand, { TableName: SOURCE }).resolves({ Items: [row(1)], Count: 1 });
    const shape = (name: string) => ({
      name,
      status: 'ACTIVE',
      keySchema: [{ name: 'pk', type: 'HASH' }],
      attributeTypes: { pk: 'S' },
      globalIndexes: [],
      localIndexes: [],
      streamEnabled: false,
      itemCount: 0,
    });
    const [count] = profileChecks({
      id: 'same',
      kind: 'compare',
      compare: { with: 'source', countMode: 'approximate' },
    } as never);
    const facts = {
      client,
      sourceClient: client,
      table: shape(RESTORED),
      source: shape(SOURCE),
      deadline: Date.now() + 60_000,
    };
    const out = await count?.run(facts, { signal: new AbortController().signal });
    expect(out?.status).toBe('skip');
    expect(out?.detail).toContain('both approximate counts are 0 but the restored table holds items');
  });
});

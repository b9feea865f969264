import {
  BatchGetItemCommand,
  DynamoDBClient,
  ProvisionedThroughputExceededException,
  ScanCommand,
} from '@aws-sdk/client-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import {
  canonical,
  changedAt,
  countItems,
  differingAttributes,
  getItems,
  keyId,
} from '../../functions/dynamodb/items';

const ddb = mockClient(DynamoDBClient);
const client = new DynamoDBClient({ region: 'us-east-1' });
const throttledAfterRetries = () =>
  new ProvisionedThroughputExceededException({ message: 'slow down', $metadata: { attempts: 3 } });
const FAST = { baseMs: 1, maxDelayMs: 2 };

beforeEach(() => ddb.reset());

describe('countItems', () => {
  it('follows LastEvaluatedKey to the end', async () => {
    ddb
      .on(ScanCommand)
      .resolvesOnce({ Count: 3, LastEvaluatedKey: { id: { S: 'c' } } })
      .resolvesOnce({ Count: 2 });
    const r = await countItems(client, 't', FAST);
    expect(r).toEqual({ count: 5, scannedPages: 2, stoppedEarly: false });
    expect(ddb.commandCalls(ScanCommand)[1]?.args[0].input).toMatchObject({
      Select: 'COUNT',
      ExclusiveStartKey: { id: { S: 'c' } },
    });
  });

  it('stops reading once stopAt is reached', async () => {
    ddb.on(ScanCommand).resolves({ Count: 10, LastEvaluatedKey: { id: { S: 'x' } } });
    const r = await countItems(client, 't', FAST, { stopAt: 25 });
    expect(r).toMatchObject({ count: 30, stoppedEarly: true });
    expect(ddb.commandCalls(ScanCommand)).toHaveLength(3);
  });

  it('ends with the throttling error the client gave up on, without retrying it again', async () => {
    // The client's retry strategy retries throttling (shared/clients.ts); its final error carries the attempts.
    ddb.on(ScanCommand).rejects(throttledAfterRetries());
    await expect(countItems(client, 't', { ...FAST, attempts: 3 })).rejects.toThrow('slow down');
    expect(ddb.commandCalls(ScanCommand)).toHaveLength(1);
  });

  it('stops with the deadline before reading another page', async () => {
    const controller = new AbortController();
    ddb.on(ScanCommand).callsFake(() => {
      controller.abort();
      return { Count: 1, LastEvaluatedKey: { id: { S: 'x' } } };
    });
    await expect(countItems(client, 't', { ...FAST, signal: controller.signal })).rejects.toThrow(
      'deadline reached',
    );
    expect(ddb.commandCalls(ScanCommand)).toHaveLength(1);
  });
});

describe('getItems', () => {
  it('re-requests unprocessed keys with consistent reads', async () => {
    const key = (id: string) => ({ id: { S: id } });
    ddb
      .on(BatchGetItemCommand)
      .resolvesOnce({
        Responses: { t: [{ ...key('a'), v: { N: '1' } }] },
        UnprocessedKeys: { t: { Keys: [key('b')] } },
      })
      .resolvesOnce({ Responses: { t: [{ ...key('b'), v: { N: '2' } }] } });
    const found = await getItems(client, 't', [key('a'), key('b')], [{ name: 'id', type: 'HASH' }], FAST);
    expect([...found.values()].map((i) => i.id?.S)).toEqual(['a', 'b']);
    expect(found.has(keyId(key('b'), [{ name: 'id', type: 'HASH' }]))).toBe(true);
    const calls = ddb.commandCalls(BatchGetItemCommand).map((c) => c.args[0].input.RequestItems?.t);
    expect(calls[0]).toMatchObject({ ConsistentRead: true, Keys: [key('a'), key('b')] });
    expect(calls[1]).toMatchObject({ ConsistentRead: true, Keys: [key('b')] });
  });
});

describe('differingAttributes', () => {
  it('treats sets as unordered and numbers by value, and names only the attributes that differ', () => {
    const a = {
      id: { S: '1' },
      tags: { SS: ['x', 'y'] },
      n: { N: '1.50' },
      m: { M: { a: { N: '1' }, b: { BOOL: true } } },
    };
    const b = {
      id: { S: '1' },
      tags: { SS: ['y', 'x'] },
      n: { N: '1.5' },
      m: { M: { b: { BOOL: true }, a: { N: '1' } } },
    };
    expect(differingAttributes(a, b)).toEqual([]);
    expect(differingAttributes(a, { ...b, m: { M: { a: { N: '2' } } }, extra: { NULL: true } })).toEqual([
      'extra',
      'm',
    ]);
    expect(canonical({ B: new Uint8Array([1, 2]) })).toEqual({ B: 'AQI=' });
  });
});

describe('changedAt', () => {
  it('reads epoch seconds, epoch milliseconds and ISO 8601 values', () => {
    expect(changedAt({ u: { N: '1764021600' } }, 'u')?.toISOString()).toBe('2025-11-24T22:00:00.000Z');
    expect(changedAt({ u: { N: '1764021600000' } }, 'u')?.toISOString()).toBe('2025-11-24T22:00:00.000Z');
    expect(changedAt({ u: { S: '2025-11-24T22:00:00Z' } }, 'u')?.toISOString()).toBe(
      '2025-11-24T22:00:00.000Z',
    );
    expect(changedAt({ u: { S: 'yesterday' } }, 'u')).toBeUndefined();
    expect(changedAt({}, 'u')).toBeUndefined();
  });
});

import { CreateTableCommand, DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Moto, startMoto } from './engines';

// The reconciler's dispatch claim and Powertools' idempotency record are conditional writes; their
// tests prove "exactly once" only if the engine applies a conditional write atomically, as DynamoDB
// does. moto_server alone does not (two callers can both win); test/support/moto_server.py does.
describe('moto as the tests start it', () => {
  let moto: Moto;
  let ddb: DynamoDBClient;
  beforeAll(async () => {
    moto = await startMoto();
    ddb = new DynamoDBClient({ endpoint: moto.endpoint, region: 'us-east-1' });
    await ddb.send(
      new CreateTableCommand({
        TableName: 'claims',
        BillingMode: 'PAY_PER_REQUEST',
        KeySchema: [{ AttributeName: 'k', KeyType: 'HASH' }],
        AttributeDefinitions: [{ AttributeName: 'k', AttributeType: 'S' }],
      }),
    );
  });
  afterAll(async () => moto?.stop());

  it('lets exactly one of many concurrent conditional puts on one key win', async () => {
    const winners: number[] = [];
    for (let round = 0; round < 30; round++) {
      const claims = Array.from({ length: 8 }, () =>
        ddb
          .send(
            new PutItemCommand({
              TableName: 'claims',
              Item: { k: { S: `job-${round}` }, e: { N: '100' } },
              ConditionExpression: 'attribute_not_exists(k) OR #e < :now',
              ExpressionAttributeNames: { '#e': 'e' },
              ExpressionAttributeValues: { ':now': { N: '50' } },
            }),
          )
          .then(
            () => 1,
            (err: Error) => {
              if (err.name !== 'ConditionalCheckFailedException') throw err;
              return 0;
            },
          ),
      );
      winners.push((await Promise.all(claims)).reduce((a, b) => a + b, 0));
    }
    expect(winners).toEqual(Array.from({ length: 30 }, () => 1));
  });
});

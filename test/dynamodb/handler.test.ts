import { rmSync } from 'node:fs';
import { BackupClient } from '@aws-sdk/client-backup';
import {
  BatchWriteItemCommand,
  CreateTableCommand,
  DeleteItemCommand,
  DynamoDBClient,
} from '@aws-sdk/client-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { type Moto, startMoto } from '../support/engines';
import { fixture } from '../support/fixtures';
import { finalVerdict, lambdaContext, mockCompletedJob, stubConfigFile } from '../support/lifecycle-harness';

// Only the AWS Backup restore API is faked; DynamoDB is moto over HTTP, reached through the SDK's
// service-specific endpoint variable, exactly as the deployed handler's default clients would be.
const backup = mockClient(BackupClient);
const event = fixture('completed-dynamodb-fully-managed.json') as {
  detail: { restoreJobId: string; sourceResourceArn: string; createdResourceArn: string };
};
const JOB_ID = event.detail.restoreJobId;
const SOURCE = 'prescriptions';
const RESTORED = 'awsbackup-restore-test-5a6b7c8d';

const context = lambdaContext('dynamodb-validator');

let moto: Moto;
let ddb: DynamoDBClient;
let dir: string;
// biome-ignore lint/suspicious/noExplicitAny: the handler module is imported after the env is stubbed
let handler: (event: unknown, context: never) => Promise<any>;

beforeAll(async () => {
  moto = await startMoto();
  ddb = new DynamoDBClient({ endpoint: moto.endpoint, region: 'us-east-1' });
  dir = stubConfigFile('rv-ddb-handler-', {
    version: 1,
    profiles: [
      {
        name: 'prescriptions',
        match: {
          resourceType: 'DynamoDB.FullyManaged',
          sourceResourceArn: 'arn:aws:dynamodb:*:*:table/prescriptions',
        },
        checks: [
          { id: 'same-as-source', compare: { with: 'source', countMode: 'exact', seed: 3 } },
          { id: 'not-empty', minItems: 10 },
        ],
      },
    ],
  });
  vi.stubEnv('AWS_ENDPOINT_URL_DYNAMODB', moto.endpoint);
  ({ handler } = await import('../../functions/dynamodb/handler'));
});

afterAll(async () => {
  vi.unstubAllEnvs();
  ddb?.destroy();
  await moto?.stop();
  rmSync(dir, { recursive: true, force: true });
});

async function tables() {
  for (const name of [SOURCE, RESTORED]) {
    await ddb.send(
      new CreateTableCommand({
        TableName: name,
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
        KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
      }),
    );
    const items = Array.from({ length: 20 }, (_, i) => ({
      PutRequest: { Item: { id: { S: `RX#${i}` }, drug: { S: `d${i}` }, qty: { N: String(i) } } },
    }));
    await ddb.send(new BatchWriteItemCommand({ RequestItems: { [name]: items } }));
  }
}

const final = () => finalVerdict(backup);

beforeEach(async () => {
  await moto.reset();
  backup.reset();
  mockCompletedJob(backup, {
    restoreJobId: JOB_ID,
    resourceType: 'DynamoDB.FullyManaged',
    createdResourceArn: event.detail.createdResourceArn,
    sourceResourceArn: event.detail.sourceResourceArn,
    metadata: { targetTableName: RESTORED },
  });
});

describe('dynamodb handler', () => {
  it('posts SUCCESSFUL for a DynamoDB.FullyManaged restore identical to its source', async () => {
    await tables();
    const out = await handler(structuredClone(event), context as never);
    expect(out.verdict).toBe('SUCCESSFUL');
    expect(final()).toMatchObject({ RestoreJobId: JOB_ID, ValidationStatus: 'SUCCESSFUL' });
  });

  it('posts FAILED naming the compare check when an item is missing from the restore', async () => {
    await tables();
    await ddb.send(new DeleteItemCommand({ TableName: RESTORED, Key: { id: { S: 'RX#7' } } }));
    const out = await handler(structuredClone(event), context as never);
    expect(out.verdict).toBe('FAILED');
    expect(final()?.ValidationStatusMessage).toContain('same-as-source');
    expect(final()?.ValidationStatusMessage).toContain('id=RX#7');
  });
});

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  BatchWriteItemCommand,
  CreateTableCommand,
  DeleteItemCommand,
  DynamoDBClient,
} from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { main } from '../../bin/cli';
import { type Moto, startMoto } from '../support/engines';

let moto: Moto;
let ddb: DynamoDBClient;
let dir: string;

beforeAll(async () => {
  moto = await startMoto();
  ddb = new DynamoDBClient({ endpoint: moto.endpoint, region: 'us-east-1' });
  dir = mkdtempSync(join(tmpdir(), 'rv-ddb-cli-'));
  writeFileSync(
    join(dir, 'config.yaml'),
    `version: 1
profiles:
  - name: sessions
    match: { resourceType: DynamoDB }
    checks:
      - { id: same-as-source, compare: { with: source, sample: 50, countMode: exact, changedAtAttribute: updatedAt } }
      - { id: admin, items: [{ id: "USER#admin" }] }
      - { id: not-empty, minItems: 1 }
`,
  );
});

afterAll(async () => {
  ddb?.destroy();
  await moto?.stop();
  rmSync(dir, { recursive: true, force: true });
});

beforeEach(async () => {
  await moto.reset();
  for (const t of ['sessions', 'awsbackup-restore-test-abc']) {
    await ddb.send(
      new CreateTableCommand({
        TableName: t,
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
        KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
      }),
    );
    const ids = ['USER#admin', ...Array.from({ length: 20 }, (_, i) => `S#${i}`)];
    await ddb.send(
      new BatchWriteItemCommand({
        RequestItems: {
          [t]: ids.map((id) => ({
            PutRequest: { Item: { id: { S: id }, updatedAt: { S: '2026-11-20T00:00:00Z' } } },
          })),
        },
      }),
    );
  }
});

async function cli(args: string[]) {
  let out = '';
  let err = '';
  const code = await main(args, { out: (s) => (out += s), err: (s) => (err += s), isTTY: false });
  return { code, out, err };
}

const args = (extra: string[] = []) => [
  'check',
  'dynamodb',
  '--table',
  'awsbackup-restore-test-abc',
  '--source-table',
  'sessions',
  '--endpoint-url',
  moto.endpoint,
  '--region',
  'us-east-1',
  '--recovery-point-time',
  '2026-11-24T22:00:00Z',
  '--config',
  join(dir, 'config.yaml'),
  '--json',
  ...extra,
];

describe('restore-validation check dynamodb', () => {
  it('prints SUCCESSFUL JSON and exits 0 when the table matches its source', async () => {
    const r = await cli(args());
    expect(r.err).toBe('');
    const json = JSON.parse(r.out);
    expect(json.verdict).toBe('SUCCESSFUL');
    expect(json.checks.map((c: { id: string; status: string }) => `${c.id}:${c.status}`)).toEqual([
      'table-status:pass',
      'key-schema:pass',
      'indexes:pass',
      'stream:pass',
      'same-as-source.count:pass',
      'same-as-source:pass',
      'admin:pass',
      'not-empty:pass',
    ]);
    expect(r.code).toBe(0);
  });

  it('exits 1 with FAILED naming the missing item', async () => {
    await ddb.send(
      new DeleteItemCommand({ TableName: 'awsbackup-restore-test-abc', Key: { id: { S: 'USER#admin' } } }),
    );
    const r = await cli(args());
    const json = JSON.parse(r.out);
    expect(json.verdict).toBe('FAILED');
    expect(json.message).toContain('admin');
    expect(r.code).toBe(1);
  });

  it('exits 2 when --table is missing', async () => {
    const r = await cli(args().filter((a, i, all) => a !== '--table' && all[i - 1] !== '--table'));
    expect(r.code).toBe(2);
    expect(r.err).toContain('--table');
  });
});

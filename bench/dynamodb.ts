/**
 * DynamoDB compare cost: a `compare` sample of 200 items (random parallel-scan segments on the source,
 * consistent BatchGetItem on the restore) against the baseline measured in the same run — a full
 * compare that reads every source item — on two identical tables in moto. Reported: items read,
 * requests, wall time; target: the sample reads ≤ 5% of the items the full compare reads (items read
 * is what DynamoDB bills as read capacity).
 *
 * moto is not DynamoDB: it walks the whole table for every Scan request and hashes items into only 256
 * segment buckets, so most of the 1,000 segments are empty there (the sampler tops them up with more
 * rounds, and may compare fewer than 200). Wall time and request counts on moto therefore favour the
 * full scan; on DynamoDB a Limit-1 segment read is one small request.
 *
 *   npx tsx bench/dynamodb.ts [ITEMS]
 */

import { BatchWriteItemCommand, CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { dynamodbValidator } from '../functions/dynamodb/validator';
import { createClients } from '../shared/clients';
import { emptyConfig, parseConfig } from '../shared/config/index';
import { localRestoreJob } from '../shared/job';
import { logger } from '../shared/logger';
import { runValidator } from '../shared/validator';
import { startMoto } from '../test/support/engines';
import { judge } from './_targets';

const TARGET_RATIO = 0.05;
// moto accepts any credentials; fixed ones keep the bench off the real credential chain.
const MOTO_CREDENTIALS = { accessKeyId: 'testing', secretAccessKey: 'testing' };

interface Meter {
  requests: number;
  itemsRead: number;
}

/** Counts requests and the items DynamoDB read for them (ScannedCount for Scan, items for BatchGetItem). */
function meter(client: DynamoDBClient, m: Meter): void {
  client.middlewareStack.add(
    ((next: (a: unknown) => Promise<{ output: Record<string, unknown> }>) => async (args: unknown) => {
      const result = await next(args);
      m.requests++;
      const o = result.output;
      if (typeof o.ScannedCount === 'number') m.itemsRead += o.ScannedCount;
      const responses = o.Responses as Record<string, unknown[]> | undefined;
      if (responses) for (const list of Object.values(responses)) m.itemsRead += list.length;
      return result;
    }) as never,
    { step: 'initialize', name: 'benchMeter' } as never,
  );
}

async function fill(client: DynamoDBClient, table: string, n: number): Promise<void> {
  const batches: Promise<unknown>[] = [];
  for (let start = 0; start < n; start += 25) {
    const items = Array.from({ length: Math.min(25, n - start) }, (_, k) => ({
      PutRequest: {
        Item: { pk: { S: `K#${start + k}` }, v: { N: String(start + k) }, body: { S: 'x'.repeat(200) } },
      },
    }));
    batches.push(client.send(new BatchWriteItemCommand({ RequestItems: { [table]: items } })));
    if (batches.length >= 8) await Promise.all(batches.splice(0));
  }
  await Promise.all(batches);
}

async function measure(
  endpoint: string,
  mode: 'sample' | 'full',
): Promise<Meter & { ms: number; compared: unknown; verdict: string }> {
  const client = new DynamoDBClient({ endpoint, region: 'us-east-1', credentials: MOTO_CREDENTIALS });
  const m: Meter = { requests: 0, itemsRead: 0 };
  meter(client, m);
  const config = parseConfig({
    version: 1,
    profiles: [
      {
        name: 'bench',
        checks: [
          { id: 'cmp', compare: { with: 'source', mode, sample: 200, countMode: 'approximate', seed: 1 } },
        ],
      },
    ],
  });
  const started = performance.now();
  const run = await runValidator(
    dynamodbValidator,
    {
      job: localRestoreJob({ resourceType: 'DynamoDB' }),
      profile: config.profiles[0],
      config: config ?? emptyConfig(),
      logger,
      clients: createClients({}, { dynamodb: client }),
      deadline: Date.now() + 600_000,
      mode: 'local',
      target: { table: 'awsbackup-restore-test-bench', sourceTable: 'bench-source' },
      settings: {},
    },
    { checkTimeoutMs: 600_000 },
  );
  const ms = performance.now() - started;
  const cmp = run.results.find((r) => r.id === 'cmp');
  client.destroy();
  return { ...m, ms, compared: cmp?.data?.compared, verdict: `${cmp?.status}: ${cmp?.detail}` };
}

export default async function bench(items = 10_000): Promise<void> {
  const moto = await startMoto();
  try {
    const client = new DynamoDBClient({
      endpoint: moto.endpoint,
      region: 'us-east-1',
      credentials: MOTO_CREDENTIALS,
    });
    for (const t of ['bench-source', 'awsbackup-restore-test-bench']) {
      await client.send(
        new CreateTableCommand({
          TableName: t,
          BillingMode: 'PAY_PER_REQUEST',
          AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
          KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
        }),
      );
      await fill(client, t, items);
    }
    client.destroy();
    const sample = await measure(moto.endpoint, 'sample');
    const full = await measure(moto.endpoint, 'full');
    const ratio = sample.itemsRead / Math.max(1, full.itemsRead);
    const line = (name: string, r: typeof sample) =>
      `${name.padEnd(9)} compared ${String(r.compared).padStart(6)} items, read ${String(r.itemsRead).padStart(6)} items in ${String(r.requests).padStart(5)} requests, ${(r.ms / 1000).toFixed(2)} s`;
    process.stdout.write(`table: ${items} items (moto)\n`);
    process.stdout.write(`${line('sample', sample)}\n  ${sample.verdict.slice(0, 160)}\n`);
    process.stdout.write(`${line('baseline', full)}  (full compare)\n  ${full.verdict.slice(0, 160)}\n`);
    process.stdout.write(
      `time ratio sample / full: ${(sample.ms / full.ms).toFixed(3)} (moto scans the whole table per request: not representative)\n`,
    );
    judge('dynamodb/items read, sample vs full compare', ratio, '≤', TARGET_RATIO, '×');
  } finally {
    await moto.stop();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  await bench(Number(process.argv[2]) || undefined);
}

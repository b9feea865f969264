/**
 * End to end through the real artefact: the S3 validator bundled by esbuild with the options the stack
 * ships, imported in a fresh Node process (no tsx, no node_modules), talking over HTTP to the Backup
 * fake (AWS_ENDPOINT_URL_BACKUP) and to moto's S3 (AWS_ENDPOINT_URL_S3).
 */

import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { CreateBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { esbuildOptions } from '../../infra/bundling';
import { type Moto, startMoto } from '../support/engines';
import { FakeBackupApi } from '../support/fake-backup';
import { fixture } from '../support/fixtures';
import { jobFromEvent } from '../support/lifecycle-harness';

const run = promisify(execFile);
const dir = mkdtempSync(join(tmpdir(), 'rv-e2e-'));
const bundle = join(dir, 'index.mjs');
const driver = join(dir, 'driver.mjs');
const RESTORED = 'awsbackup-restore-test-9c8b7a65';

let moto: Moto;
let fake: FakeBackupApi;
/** The modules whose code is in the bundle (esbuild's metafile). */
let bundled: string[] = [];

async function invoke(event: unknown, configFile: string) {
  writeFileSync(join(dir, 'event.json'), JSON.stringify(event));
  const { stdout } = await run(process.execPath, [driver, join(dir, 'event.json')], {
    cwd: dir, // nothing to resolve from: the bundle must be self-contained
    env: {
      PATH: process.env.PATH,
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'testing',
      AWS_SECRET_ACCESS_KEY: 'testing',
      AWS_EC2_METADATA_DISABLED: 'true',
      AWS_ENDPOINT_URL_BACKUP: fake.endpoint,
      AWS_ENDPOINT_URL_S3: moto.endpoint,
      RESTORE_VALIDATION_CONFIG: configFile,
      POWERTOOLS_LOG_LEVEL: 'ERROR',
    },
  });
  return JSON.parse(stdout.trim().split('\n').pop() ?? '{}') as {
    outcome: string;
    verdict?: string;
    message: string;
  };
}

/** A restored bucket in moto holding one object. */
async function restoredBucket(bucket: string, key: string, body: string) {
  const s3 = new S3Client({ endpoint: moto.endpoint, region: 'us-east-1', forcePathStyle: true });
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
}

/** A config file in the test folder with one S3 profile of `checks`. */
function s3Config(name: string, checks: unknown[]): string {
  const file = join(dir, name);
  writeFileSync(
    file,
    JSON.stringify({ version: 1, profiles: [{ name: 'docs', match: { resourceType: 'S3' }, checks }] }),
  );
  return file;
}

beforeAll(async () => {
  const built = await build({
    ...esbuildOptions,
    entryPoints: [join(import.meta.dirname, '../../functions/s3/handler.ts')],
    outfile: bundle,
    logLevel: 'error',
    metafile: true,
  });
  // Inputs list every module esbuild read; what the bundle keeps is what has bytes in the output.
  bundled = Object.values(built.metafile.outputs).flatMap((o) =>
    Object.entries(o.inputs)
      .filter(([, i]) => i.bytesInOutput > 0)
      .map(([path]) => path),
  );
  writeFileSync(
    driver,
    `const { handler } = await import(${JSON.stringify(bundle)});
const event = JSON.parse((await import('node:fs')).readFileSync(process.argv[2], 'utf8'));
const context = { functionName: 'e2e', awsRequestId: 'r1', getRemainingTimeInMillis: () => 60000 };
console.log(JSON.stringify(await handler(event, context)));`,
  );
  moto = await startMoto();
  fake = new FakeBackupApi();
  await fake.start();
});
afterAll(async () => {
  await fake?.stop();
  await moto?.stop();
});

describe('bundled S3 validator, end to end', () => {
  it('posts SUCCESSFUL for a restored bucket that holds the expected objects', async () => {
    await restoredBucket(RESTORED, 'reports/index.json', '{}');
    const event = fixture('completed-s3.json');
    jobFromEvent(fake, event, { Metadata: { DestinationBucketName: RESTORED } });
    const config = s3Config('ok.json', [
      { id: 'index-present', keys: ['reports/index.json'] },
      { id: 'not-empty', minObjects: 1 },
    ]);

    const out = await invoke(event, config);

    expect(out.outcome).toBe('reported');
    const verdicts = fake.finalVerdicts(String(event.detail.restoreJobId));
    expect(verdicts).toEqual([expect.objectContaining({ status: 'SUCCESSFUL' })]);
    expect(verdicts[0]?.message).toContain('passed: restored-bucket, index-present, not-empty');
    expect(fake.accepted[0]?.status).toBe('VALIDATING');
  });

  it('posts FAILED naming the missing key, and nothing more on a duplicate delivery', async () => {
    const event = fixture('completed-s3-numeric-fields.json');
    const bucket = 'awsbackup-restore-test-0a0b0c0d';
    await restoredBucket(bucket, 'other.txt', 'x');
    jobFromEvent(fake, event, { Metadata: { destinationBucketName: bucket } });
    const config = s3Config('missing.json', [{ id: 'index-present', keys: ['reports/index.json'] }]);

    const first = await invoke(event, config);
    const second = await invoke(event, config);

    expect(first.verdict).toBe('FAILED');
    expect(second.outcome).toBe('already-final');
    const verdicts = fake.finalVerdicts(String(event.detail.restoreJobId));
    expect(verdicts).toHaveLength(1);
    expect(verdicts[0]?.message).toMatch(/index-present failed: .*reports\/index\.json/);
  });

  it('carries the SDK commands it sends, not whole clients', () => {
    // An aggregated client class (Backup.js, DynamoDB.js …) imports every command of its service: it
    // is only bundled when a client's whole module is kept, as a dynamic import() or a module
    // namespace handed around did (every Backup and DynamoDB command, ~73 kB per validator).
    const aggregated = bundled.filter((p) =>
      /@aws-sdk\/client-[a-z0-9-]+\/dist-es\/(?![A-Za-z0-9]*Client\.js$)[A-Z][A-Za-z0-9]*\.js$/.test(p),
    );
    expect(bundled.some((p) => p.includes('@aws-sdk/client-backup/dist-es/commands/'))).toBe(true);
    expect(aggregated).toEqual([]);
  });

  it('rejects a malformed event without crashing the function', async () => {
    const out = await invoke(fixture('malformed-missing-job-id.json'), join(dir, 'ok.json'));
    expect(out.outcome).toBe('rejected');
    expect(out.message).toContain('detail.restoreJobId');
  });
});

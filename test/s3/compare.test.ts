import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PutBucketVersioningCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { s3ClientFor } from '../../functions/s3/client';
import { s3Validator } from '../../functions/s3/validator';
import { runValidator } from '../../shared/validator';
import { type Moto, startMoto } from '../support/engines';
import { fixtureClient, makeBucket, multipart, testContext } from './context';

const SOURCE = 'customer-documents';
const RESTORED = 'awsbackup-restore-test-9c8b7a65';
const ARN = (b: string) => `arn:aws:s3:::${b}`;
const MiB = 1024 * 1024;

let moto: Moto;
let s3: S3Client;

const FILES: Record<string, string> = {
  'a.txt': 'alpha',
  'docs/b.json': '{"b":1}',
  'docs/c.csv': 'x,y\n1,2\n',
  'z/ünïcödé 😀.txt': 'unicode key',
};

beforeAll(async () => {
  moto = await startMoto();
  s3 = fixtureClient(moto.endpoint);
});
afterAll(async () => moto?.stop());
beforeEach(async () => moto.reset());

function run(
  checks: unknown[],
  extra: {
    recoveryPointCreationDate?: Date;
    target?: Record<string, unknown>;
    mode?: 'local' | 'lambda';
  } = {},
) {
  return runValidator(
    s3Validator,
    testContext({
      endpoint: moto.endpoint,
      createdResourceArn: ARN(RESTORED),
      sourceResourceArn: ARN(SOURCE),
      checks,
      ...extra,
    }),
  );
}

const full = [{ id: 'same-as-source', compare: { with: 'source', mode: 'full' } }];
const result = (r: Awaited<ReturnType<typeof run>>, id = 'same-as-source') =>
  r.results.find((x) => x.id === id);

describe('s3Validator compare with the source', () => {
  it('passes when the buckets hold the same objects', async () => {
    await makeBucket(s3, SOURCE, FILES);
    await makeBucket(s3, RESTORED, FILES);
    const r = await run(full);
    expect(r.verdict.verdict).toBe('SUCCESSFUL');
    expect(result(r)?.status).toBe('pass');
    expect(result(r)?.detail).toMatch(/^4 matched, 0 missing, 0 extra, 0 mismatched, 0 drifted, 0 unproven/);
    expect(result(r)?.data?.provenBy).toEqual({ 'etag-md5': 4 });
    expect(r.notes['compare:same-as-source']).toMatchObject({ counts: { matched: 4 } });
  });

  it('proves content from stored checksums when listing ETags are not trusted', async () => {
    await makeBucket(s3, SOURCE, FILES);
    await makeBucket(s3, RESTORED, FILES);
    const r = await run([
      { id: 'same-as-source', compare: { with: 'source', mode: 'full', trustListingEtags: false } },
    ]);
    expect(result(r)?.status).toBe('pass');
    // The SDK stores a CRC32 with every upload by default.
    expect(result(r)?.data?.provenBy).toEqual({ 'checksum:CRC32': 4 });
  });

  it('fails naming the key when an object is missing', async () => {
    await makeBucket(s3, SOURCE, FILES);
    const { 'docs/b.json': _, ...rest } = FILES;
    await makeBucket(s3, RESTORED, rest);
    const r = await run(full);
    expect(r.verdict.verdict).toBe('FAILED');
    expect(result(r)?.detail).toMatch(/^3 matched, 1 missing, 0 extra/);
    expect(result(r)?.detail).toContain('missing: docs/b.json');
    expect(r.verdict.message).toContain('same-as-source failed');
  });

  it('fails when an object has different bytes of the same size', async () => {
    await makeBucket(s3, SOURCE, FILES);
    await makeBucket(s3, RESTORED, { ...FILES, 'a.txt': 'alphA' });
    const r = await run(full);
    expect(r.verdict.verdict).toBe('FAILED');
    expect(result(r)?.detail).toMatch(/3 matched, 0 missing, 0 extra, 1 mismatched/);
    expect(result(r)?.detail).toContain('mismatched: a.txt (stored CRC32 differs)');
  });

  it('fails when an object was truncated', async () => {
    await makeBucket(s3, SOURCE, FILES);
    await makeBucket(s3, RESTORED, { ...FILES, 'docs/c.csv': 'x,y\n' });
    const r = await run(full);
    expect(r.verdict.verdict).toBe('FAILED');
    expect(result(r)?.detail).toContain('mismatched: docs/c.csv (size 4 B, reference 8 B)');
  });

  it('passes a multipart object with the same bytes but a different part size', async () => {
    const body = Buffer.alloc(11 * MiB);
    for (let i = 0; i < body.length; i += 4096) body.writeUInt32BE(i, i);
    await makeBucket(s3, SOURCE, FILES);
    await makeBucket(s3, RESTORED, FILES);
    await multipart(s3, SOURCE, 'big.bin', body, 5 * MiB);
    await multipart(s3, RESTORED, 'big.bin', body, 6 * MiB);
    const r = await run(full);
    expect(r.verdict.verdict).toBe('SUCCESSFUL');
    const provenBy = result(r)?.data?.provenBy as Record<string, number>;
    expect(Object.keys(provenBy).some((m) => m.startsWith('stream'))).toBe(true);
    expect(result(r)?.data?.counts).toMatchObject({ matched: 5, bytesStreamed: 22 * MiB });
  });

  it('fails a multipart object whose bytes differ in one part', async () => {
    const body = Buffer.alloc(11 * MiB, 7);
    const other = Buffer.from(body);
    other[6 * MiB] = 8;
    await makeBucket(s3, SOURCE);
    await makeBucket(s3, RESTORED);
    await multipart(s3, SOURCE, 'big.bin', body, 5 * MiB);
    await multipart(s3, RESTORED, 'big.bin', other, 6 * MiB);
    const r = await run(full);
    expect(r.verdict.verdict).toBe('FAILED');
    expect(result(r)?.detail).toContain('mismatched: big.bin');
  });

  it('reports objects changed after the recovery point as drift, not failure', async () => {
    await makeBucket(s3, SOURCE, FILES);
    await makeBucket(s3, RESTORED, FILES);
    await new Promise((r) => setTimeout(r, 1100));
    const recoveryPoint = new Date();
    await new Promise((r) => setTimeout(r, 1100));
    await s3.send(new PutObjectCommand({ Bucket: SOURCE, Key: 'a.txt', Body: 'alpha, changed later' }));
    await s3.send(new PutObjectCommand({ Bucket: SOURCE, Key: 'new-after.txt', Body: 'created later' }));
    const r = await run(full, { recoveryPointCreationDate: recoveryPoint });
    expect(r.verdict.verdict).toBe('SUCCESSFUL');
    expect(result(r)?.detail).toMatch(/^3 matched, 0 missing, 0 extra, 0 mismatched, 2 drifted, 0 unproven/);
    expect(result(r)?.detail).toContain('drifted: a.txt (changed after the recovery point), new-after.txt');
  });

  it('compares a versioned source with the version current at the recovery point', async () => {
    await makeBucket(s3, SOURCE);
    await s3.send(
      new PutBucketVersioningCommand({ Bucket: SOURCE, VersioningConfiguration: { Status: 'Enabled' } }),
    );
    for (const [k, v] of Object.entries(FILES))
      await s3.send(new PutObjectCommand({ Bucket: SOURCE, Key: k, Body: v }));
    await new Promise((r) => setTimeout(r, 1100));
    const recoveryPoint = new Date();
    await new Promise((r) => setTimeout(r, 1100));
    await s3.send(new PutObjectCommand({ Bucket: SOURCE, Key: 'a.txt', Body: 'other' }));
    // The restore holds a.txt as it was at the recovery point: it matches, though the source changed since.
    await makeBucket(s3, RESTORED, FILES);
    const ok = await run(full, { recoveryPointCreationDate: recoveryPoint });
    expect(result(ok)?.status).toBe('pass');
    expect(result(ok)?.detail).toMatch(/^4 matched/);
    // A restore holding the later content of a.txt is wrong for this recovery point.
    await s3.send(new PutObjectCommand({ Bucket: RESTORED, Key: 'a.txt', Body: 'other' }));
    const bad = await run(full, { recoveryPointCreationDate: recoveryPoint });
    expect(result(bad)?.status).toBe('fail');
    expect(result(bad)?.detail).toContain('mismatched: a.txt');
  });

  it('fails an empty restored bucket, naming the missing objects', async () => {
    await makeBucket(s3, SOURCE, FILES);
    await makeBucket(s3, RESTORED);
    const r = await run(full);
    expect(r.verdict.verdict).toBe('FAILED');
    expect(result(r, 'restored-bucket')).toMatchObject({
      status: 'fail',
      detail: `restored bucket ${RESTORED} is empty`,
    });
    expect(result(r)?.detail).toMatch(/^0 matched, 4 missing/);
  });

  it('reports extra objects and fails on them only when asked', async () => {
    await makeBucket(s3, SOURCE, FILES);
    await makeBucket(s3, RESTORED, { ...FILES, 'stray.tmp': 'x' });
    const r = await run([
      { id: 'report', compare: { with: 'source', mode: 'full' } },
      { id: 'strict', compare: { with: 'source', mode: 'full', extra: 'fail' } },
    ]);
    expect(result(r, 'report')?.status).toBe('pass');
    expect(result(r, 'report')?.detail).toContain('1 extra');
    expect(result(r, 'strict')?.status).toBe('fail');
    expect(result(r, 'strict')?.detail).toContain('extra: stray.tmp');
  });

  it('limits the comparison to include prefixes minus exclude prefixes', async () => {
    await makeBucket(s3, SOURCE, FILES);
    await makeBucket(s3, RESTORED, { 'docs/b.json': FILES['docs/b.json'] ?? '' });
    const r = await run([
      { id: 'docs', compare: { with: 'source', mode: 'full', include: ['docs/'], exclude: ['docs/c'] } },
    ]);
    expect(result(r, 'docs')?.status).toBe('pass');
    expect(result(r, 'docs')?.detail).toMatch(/^1 matched, 0 missing/);
  });

  it('samples with a recorded seed and always includes the largest and the newest object', async () => {
    const many: Record<string, string> = {};
    for (let i = 0; i < 40; i++) many[`k${String(i).padStart(2, '0')}`] = `v${i}`;
    many['k99-largest'] = 'x'.repeat(1000);
    await makeBucket(s3, SOURCE, many);
    await makeBucket(s3, RESTORED, many);
    const r = await run([
      { id: 'sampled', compare: { with: 'source', mode: 'sample', sample: 5, seed: 42 } },
    ]);
    const res = result(r, 'sampled');
    expect(res?.status).toBe('pass');
    expect(res?.data?.sample).toMatchObject({ seed: 42, drawnFrom: 41 });
    const counts = res?.data?.counts as { matched: number; notSampled: number };
    expect(counts.matched + counts.notSampled).toBe(41);
    expect(counts.matched).toBeGreaterThanOrEqual(5);
    expect(r.notes['compare:sampled']).toMatchObject({ seed: 42 });
  });

  it('errors with the reason when there is no source bucket to compare with', async () => {
    await makeBucket(s3, RESTORED, FILES);
    const r = await runValidator(
      s3Validator,
      testContext({ endpoint: moto.endpoint, createdResourceArn: ARN(RESTORED), checks: full }),
    );
    expect(result(r)).toMatchObject({ status: 'error' });
    expect(result(r)?.detail).toContain('no source bucket to compare with');
  });
});

describe('s3Validator compare with a manifest', () => {
  it('fails naming the key when the manifest names an absent object', async () => {
    await makeBucket(s3, RESTORED, FILES);
    const file = join(tmpdir(), `rv-s3-manifest-${process.pid}.json`);
    writeFileSync(
      file,
      JSON.stringify([
        {
          key: 'a.txt',
          size: 5,
          checksum: `sha256:${Buffer.from(await crypto.subtle.digest('SHA-256', new TextEncoder().encode('alpha'))).toString('base64')}`,
        },
        { key: 'docs/b.json', size: 7 },
        { key: 'reports/absent.pdf', size: 10 },
      ]),
    );
    const r = await run([{ id: 'manifest', compare: { with: 'manifest', mode: 'full' } }], {
      mode: 'local',
      target: { bucket: RESTORED, manifest: file, endpointUrl: moto.endpoint, region: 'us-east-1' },
    });
    expect(r.verdict.verdict).toBe('FAILED');
    const res = result(r, 'manifest');
    expect(res?.detail).toMatch(/^1 matched, 1 missing, 2 extra, 0 mismatched, 0 drifted, 1 unproven/);
    expect(res?.detail).toContain('missing: reports/absent.pdf');
    // A size alone proves nothing about content: docs/b.json is unproven, not matched.
    expect(res?.detail).toContain('unproven: docs/b.json (the manifest gives no checksum or ETag');
    expect(res?.data?.provenBy).toEqual({ 'stream+checksum:SHA256': 1 });
  });

  it('reads an S3 Inventory CSV with URL-encoded keys and MD5 ETags', async () => {
    await makeBucket(s3, RESTORED, FILES);
    const md5 = (s: string) => require('node:crypto').createHash('md5').update(s).digest('hex');
    const rows = Object.entries(FILES).map(
      ([k, v]) =>
        `"${SOURCE}","${encodeURIComponent(k)}","${Buffer.byteLength(v)}","2026-11-24T20:00:00.000Z","${md5(v)}"`,
    );
    const file = join(tmpdir(), `rv-s3-inventory-${process.pid}.csv`);
    writeFileSync(file, `${rows.join('\n')}\n`);
    const r = await run([{ id: 'manifest', compare: { with: 'manifest', mode: 'full' } }], {
      mode: 'local',
      target: { bucket: RESTORED, manifest: file, endpointUrl: moto.endpoint },
    });
    expect(result(r, 'manifest')?.status).toBe('pass');
    expect(result(r, 'manifest')?.data?.provenBy).toEqual({ 'etag-md5': 4 });
  });
});

describe('s3Validator access errors', () => {
  it('fails with AccessDenied when the restored bucket cannot be listed', async () => {
    await makeBucket(s3, SOURCE, FILES);
    await makeBucket(s3, RESTORED, FILES);
    const ctx = testContext({
      endpoint: moto.endpoint,
      createdResourceArn: ARN(RESTORED),
      sourceResourceArn: ARN(SOURCE),
      checks: full,
    });
    const client = s3ClientFor({ ...ctx, mode: 'lambda' });
    client.middlewareStack.add(
      (next, context) => async (args) => {
        const input = args.input as { Bucket?: string };
        if (context.commandName === 'ListObjectsV2Command' && input.Bucket === RESTORED) {
          throw Object.assign(new Error('Access Denied'), {
            name: 'AccessDenied',
            Code: 'AccessDenied',
            $fault: 'client',
            $metadata: { httpStatusCode: 403 },
          });
        }
        return next(args);
      },
      { step: 'initialize', name: 'denyListRestored' },
    );
    const r = await runValidator(s3Validator, ctx);
    expect(r.verdict.verdict).toBe('FAILED');
    expect(r.results[0]).toMatchObject({ id: 'restored-resource', status: 'fail' });
    expect(r.results[0]?.detail).toBe(
      `restored bucket ${RESTORED} cannot be listed: AccessDenied (the validator role needs s3:ListBucket on it)`,
    );
  });

  it('retries SlowDown on listings and HeadObject before deciding', async () => {
    await makeBucket(s3, SOURCE, FILES);
    await makeBucket(s3, RESTORED, FILES);
    const ctx = testContext({
      endpoint: moto.endpoint,
      createdResourceArn: ARN(RESTORED),
      sourceResourceArn: ARN(SOURCE),
      checks: [{ id: 'same-as-source', compare: { with: 'source', mode: 'full', trustListingEtags: false } }],
    });
    const client = s3ClientFor({ ...ctx, mode: 'lambda' });
    const thrown: Record<string, number> = {};
    client.middlewareStack.add(
      (next, context) => async (args) => {
        const name = context.commandName ?? '';
        if ((name === 'ListObjectsV2Command' || name === 'HeadObjectCommand') && (thrown[name] ?? 0) < 2) {
          thrown[name] = (thrown[name] ?? 0) + 1;
          throw Object.assign(new Error('Please reduce your request rate.'), {
            name: 'SlowDown',
            $fault: 'server',
            $metadata: { httpStatusCode: 503 },
          });
        }
        return next(args);
      },
      { step: 'initialize', name: 'slowDownTwice' },
    );
    const r = await runValidator(s3Validator, ctx);
    expect(thrown).toEqual({ ListObjectsV2Command: 2, HeadObjectCommand: 2 });
    expect(r.verdict.verdict).toBe('SUCCESSFUL');
    expect(result(r)?.detail).toMatch(/^4 matched, 0 missing/);
  });
});

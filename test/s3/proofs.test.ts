/**
 * S3 proofs against moto (issue 15): what a manifest cannot prove is unproven, `trustListingEtags:
 * false` never decides by an ETag, a version and a delete marker of the same second are not a false
 * "missing", and nothing compared is not a pass. Each case here was a false pass or a false fail.
 */
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  DeleteObjectCommand,
  ListObjectsV2Command,
  ListObjectVersionsCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createS3Client } from '../../functions/s3/client';
import { multipartPartSizes } from '../../functions/s3/proof';
import { s3Validator } from '../../functions/s3/validator';
import { runValidator } from '../../shared/validator';
import { type Moto, startMoto } from '../support/engines';
import { fixtureClient, makeBucket, multipart, testContext } from './context';

const SOURCE = 'customer-documents';
const RESTORED = 'awsbackup-restore-test-7b6a5c4d';
const MiB = 1024 * 1024;

let moto: Moto;
let s3: S3Client;
/** Uploads without additional checksums (like many older uploaders): only ETags describe content. */
let bare: S3Client;

beforeAll(async () => {
  moto = await startMoto();
  s3 = fixtureClient(moto.endpoint);
  bare = createS3Client({ endpoint: moto.endpoint, region: 'us-east-1' });
});
afterAll(async () => moto?.stop());
beforeEach(async () => moto.reset());

function run(checks: unknown[], extra: { recoveryPointCreationDate?: Date; manifest?: string } = {}) {
  return runValidator(
    s3Validator,
    testContext({
      endpoint: moto.endpoint,
      createdResourceArn: `arn:aws:s3:::${RESTORED}`,
      sourceResourceArn: `arn:aws:s3:::${SOURCE}`,
      checks,
      ...(extra.manifest
        ? {
            mode: 'local' as const,
            target: { bucket: RESTORED, manifest: extra.manifest, endpointUrl: moto.endpoint },
          }
        : {}),
      ...(extra.recoveryPointCreationDate
        ? { recoveryPointCreationDate: extra.recoveryPointCreationDate }
        : {}),
    }),
  );
}

const result = (r: Awaited<ReturnType<typeof run>>, id = 'same') => r.results.find((x) => x.id === id);

const manifestFile = (name: string, text: string) => {
  const file = join(tmpdir(), `rv-s3-${name}-${process.pid}`);
  writeFileSync(file, text);
  return file;
};

describe('manifest proofs', () => {
  it('fails objects whose manifest entry gives only a size, instead of passing them as size-only', async () => {
    await makeBucket(s3, RESTORED, { 'a.txt': 'alpha', 'b.txt': 'bravo', 'c.txt': 'XXXXX' });
    const file = manifestFile(
      'sizes.json',
      JSON.stringify([
        { key: 'a.txt', size: 5 },
        { key: 'b.txt', size: 5 },
        { key: 'c.txt', size: 5 },
      ]),
    );
    const r = await run([{ id: 'same', compare: { with: 'manifest', mode: 'full' } }], { manifest: file });
    expect(r.verdict.verdict).toBe('FAILED');
    expect(result(r)?.data?.counts).toMatchObject({ matched: 0, unproven: 3 });
    expect(result(r)?.detail).toContain(
      'a.txt (the manifest gives no checksum or ETag for it: only the size matched',
    );
  });

  it('proves an inventory multipart ETag from the restored bytes whatever their layout, and fails changed bytes', async () => {
    const body = Buffer.alloc(6 * MiB, 7);
    const changed = Buffer.from(body);
    changed[5 * MiB + 3] = 8;
    await makeBucket(s3, SOURCE);
    await multipart(bare, SOURCE, 'big.bin', body, 5 * MiB);
    const listed = await s3.send(new ListObjectsV2Command({ Bucket: SOURCE }));
    const etag = (listed.Contents?.[0]?.ETag ?? '').replace(/"/g, '');
    expect(etag).toMatch(/-2$/);
    // The restore holds the same bytes in one part (another ETag), and the changed bytes as 5 MiB parts.
    await makeBucket(s3, RESTORED);
    await bare.send(new PutObjectCommand({ Bucket: RESTORED, Key: 'same.bin', Body: body }));
    await multipart(bare, RESTORED, 'changed.bin', changed, 6 * MiB);
    const csv = ['same.bin', 'changed.bin']
      .map((k) => `"${SOURCE}","${k}","${body.length}","2026-11-24T20:00:00.000Z","${etag}"`)
      .join('\n');
    const r = await run([{ id: 'same', compare: { with: 'manifest', mode: 'full' } }], {
      manifest: manifestFile('inventory.csv', `${csv}\n`),
    });
    expect(r.verdict.verdict).toBe('FAILED');
    expect(result(r)?.data?.counts).toMatchObject({ matched: 1, unproven: 1 });
    expect(result(r)?.data?.provenBy).toEqual({ 'stream:etag-multipart': 1 });
    expect(result(r)?.detail).toContain('unproven: changed.bin (no part size of');
  });

  it('lists the plausible part sizes of a multipart ETag, common ones first', () => {
    expect(multipartPartSizes(6 * MiB, 2)).toContain(5 * MiB);
    expect(multipartPartSizes(100 * MiB, 13).slice(0, 1)).toEqual([8 * MiB]);
    expect(multipartPartSizes(10, 1)).toEqual([10]);
    for (const p of multipartPartSizes(1000 * MiB, 7)) expect(Math.ceil((1000 * MiB) / p)).toBe(7);
  });
});

describe('trustListingEtags: false', () => {
  it('proves objects without stored checksums by their bytes, never by HeadObject ETags', async () => {
    await makeBucket(bare, SOURCE, { 'a.txt': 'alpha', 'b.txt': 'bravo' });
    await makeBucket(bare, RESTORED, { 'a.txt': 'alpha', 'b.txt': 'bravo' });
    const r = await run([
      { id: 'same', compare: { with: 'source', mode: 'full', trustListingEtags: false } },
    ]);
    expect(result(r)?.status).toBe('pass');
    expect(result(r)?.data?.provenBy).toEqual({ 'stream:CRC32C': 2 });
  });

  it('proves a manifest MD5 by hashing the restored bytes', async () => {
    await makeBucket(bare, RESTORED, { 'a.txt': 'alpha' });
    const md5 = createHash('md5').update('alpha').digest('hex');
    const file = manifestFile('md5.json', JSON.stringify([{ key: 'a.txt', size: 5, etag: md5 }]));
    const r = await run(
      [{ id: 'same', compare: { with: 'manifest', mode: 'full', trustListingEtags: false } }],
      {
        manifest: file,
      },
    );
    expect(result(r)?.status).toBe('pass');
    expect(result(r)?.data?.provenBy).toEqual({ 'stream+checksum:MD5': 1 });
  });
});

describe('versioned source', () => {
  /**
   * Writes `gone.txt` by `steps` until the newest version and the newest delete marker share one
   * listed second (retried until they do), then waits for the clock to pass that second and writes a
   * later version, so neither of them is the key's latest. Returns the second and the body of the
   * version of that second.
   */
  async function sameSecond(steps: ('put' | 'delete')[]): Promise<{ second: number; body: string }> {
    await makeBucket(s3, SOURCE, { 'keep.txt': 'kept' });
    await s3.send(
      new PutBucketVersioningCommand({ Bucket: SOURCE, VersioningConfiguration: { Status: 'Enabled' } }),
    );
    let second = 0;
    let body = '';
    for (let attempt = 0; attempt < 5 && !second; attempt++) {
      body = `v${attempt}`;
      for (const step of steps) {
        if (step === 'put')
          await s3.send(new PutObjectCommand({ Bucket: SOURCE, Key: 'gone.txt', Body: body }));
        else await s3.send(new DeleteObjectCommand({ Bucket: SOURCE, Key: 'gone.txt' }));
      }
      const v = await s3.send(new ListObjectVersionsCommand({ Bucket: SOURCE, Prefix: 'gone.txt' }));
      const put = v.Versions?.[0]?.LastModified?.getTime();
      const del = v.DeleteMarkers?.[0]?.LastModified?.getTime();
      if (put !== undefined && put === del) second = put;
    }
    expect(second).toBeGreaterThan(0);
    while (Date.now() < second + 1_100) await new Promise((r) => setTimeout(r, 20));
    await s3.send(new PutObjectCommand({ Bucket: SOURCE, Key: 'gone.txt', Body: 'later' }));
    return { second, body };
  }

  it('does not report missing a key deleted in the same second as its version and re-created later', async () => {
    const { second } = await sameSecond(['put', 'delete']);
    // The recovery point: the end of that second, when the key was deleted.
    await makeBucket(s3, RESTORED, { 'keep.txt': 'kept' });
    const r = await run([{ id: 'same', compare: { with: 'source', mode: 'full' } }], {
      recoveryPointCreationDate: new Date(second + 999),
    });
    expect(result(r)?.data?.counts).toMatchObject({ matched: 1, missing: 0, drifted: 1 });
    expect(r.verdict.verdict).toBe('SUCCESSFUL');
  });

  it('orders a delete marker and a version of the same second by the listing, so a key re-created in that second is missing from a restore without it', async () => {
    const { second, body } = await sameSecond(['put', 'delete', 'put']);
    // At the end of that second the key held `body` (the delete marker came before it): a restore
    // without the key lacks an object, whatever happened to the key later.
    await makeBucket(s3, RESTORED, { 'keep.txt': 'kept' });
    const rp = new Date(second + 999);
    const r = await run([{ id: 'same', compare: { with: 'source', mode: 'full' } }], {
      recoveryPointCreationDate: rp,
    });
    expect(result(r)?.data?.counts).toMatchObject({ matched: 1, missing: 1, drifted: 0 });
    expect(result(r)?.detail).toContain('missing: gone.txt');
    expect(r.verdict.verdict).toBe('FAILED');
    // A restore holding that version is proven against it.
    await s3.send(new PutObjectCommand({ Bucket: RESTORED, Key: 'gone.txt', Body: body }));
    const held = await run([{ id: 'same', compare: { with: 'source', mode: 'full' } }], {
      recoveryPointCreationDate: rp,
    });
    expect(result(held)?.data?.counts).toMatchObject({ matched: 2, missing: 0, mismatched: 0 });
    expect(held.verdict.verdict).toBe('SUCCESSFUL');
  });
});

describe('nothing compared', () => {
  it('fails a compare whose filters leave nothing to compare, unless the profile allows it', async () => {
    await makeBucket(s3, SOURCE, { 'a.txt': 'alpha' });
    await makeBucket(s3, RESTORED, { 'a.txt': 'alpha' });
    const strict = await run([{ id: 'same', compare: { with: 'source', mode: 'full', include: ['none/'] } }]);
    expect(result(strict)).toMatchObject({ status: 'fail' });
    expect(result(strict)?.detail).toMatch(/^nothing compared: .*set compare.allowEmpty: true/);
    expect(strict.verdict.verdict).toBe('FAILED');
    const allowed = await run([
      { id: 'same', compare: { with: 'source', mode: 'full', include: ['none/'], allowEmpty: true } },
    ]);
    expect(result(allowed)?.status).toBe('skip');
    expect(allowed.verdict.verdict).toBe('SUCCESSFUL');
  });

  it('passes two empty buckets only when the profile says an empty bucket is expected', async () => {
    await makeBucket(s3, SOURCE);
    await makeBucket(s3, RESTORED);
    expect((await run([{ id: 'same', compare: { with: 'source', mode: 'full' } }])).verdict.verdict).toBe(
      'FAILED',
    );
    const allowed = await run([{ id: 'same', compare: { with: 'source', mode: 'full', allowEmpty: true } }]);
    expect(result(allowed, 'restored-bucket')?.status).toBe('pass');
    expect(allowed.verdict.verdict).toBe('SUCCESSFUL');
  });
});

describe('listing fan-out', () => {
  it('descends through a single top-level prefix and still sees every key exactly once', async () => {
    const objects: Record<string, string> = { top: 't', 'data/readme': 'r', 'data/': 'dir marker' };
    for (let d = 0; d < 5; d++) for (let i = 0; i < 3; i++) objects[`data/${d}/o${i}`] = `${d}-${i}`;
    await makeBucket(s3, SOURCE, objects);
    await makeBucket(s3, RESTORED, { ...objects, 'data/3/o1': 'X-Y', 'data/9/extra': 'e' });
    const r = await run([{ id: 'same', compare: { with: 'source', mode: 'full' } }]);
    expect(result(r)?.data?.counts).toMatchObject({
      reference: 18,
      restored: 19,
      matched: 17,
      mismatched: 1,
      extra: 1,
      missing: 0,
    });
    expect(result(r)?.detail).toContain('mismatched: data/3/o1');
    expect(result(r)?.detail).toContain('extra: data/9/extra');
  });
});

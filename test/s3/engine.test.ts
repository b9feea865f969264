import { describe, expect, it } from 'vitest';
import { outcomeOf } from '../../functions/s3/compare-check';
import { compareStreams, emptyCounts, mergeResults } from '../../functions/s3/engine';
import { createHasher, parseChecksum } from '../../functions/s3/hash';
import { compareKeys, keyMatches, listingPrefix } from '../../functions/s3/keys';
import type { ListedObject } from '../../functions/s3/listing';
import { fromArray, parseCsvLine, parseInventoryCsv, parseJsonManifest } from '../../functions/s3/manifest';
import { isFullObject, type ObjectInfo } from '../../functions/s3/proof';
import { seededRandom } from '../../shared/random';

const obj = (key: string, size = 1, extra: Partial<ListedObject> = {}): ListedObject => ({
  key,
  size,
  etag: `e-${key}`,
  ...extra,
});
const matchAll = async () => ({ status: 'matched' as const, method: 'test' });

describe('compareKeys', () => {
  it('orders keys as S3 lists them (UTF-8 bytes) when UTF-16 order differs', () => {
    // U+FF5E (BMP, 3 UTF-8 bytes) sorts before U+1F600 (4 bytes) in UTF-8, but after it in UTF-16 code units.
    const keys = ['😀', '\uff5e', 'a', 'A', 'a/b', 'ab'];
    expect([...keys].sort(compareKeys)).toEqual(['A', 'a', 'a/b', 'ab', '\uff5e', '😀']);
    const bytes = [...keys].sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y)));
    expect([...keys].sort(compareKeys)).toEqual(bytes);
  });
});

describe('key filters', () => {
  it('keeps include prefixes minus exclude prefixes and lists under their common prefix', () => {
    const f = { include: ['logs/2026/', 'logs/2025/'], exclude: ['logs/2025/tmp'] };
    expect(keyMatches('logs/2026/a', f)).toBe(true);
    expect(keyMatches('logs/2025/tmp/x', f)).toBe(false);
    expect(keyMatches('other', f)).toBe(false);
    expect(listingPrefix(f)).toBe('logs/202');
    expect(listingPrefix({})).toBeUndefined();
  });
});

describe('seededRandom', () => {
  it('repeats the same sequence for the same seed', () => {
    const a = seededRandom(7);
    const b = seededRandom(7);
    const c = seededRandom(8);
    const seqA = [a(), a(), a()];
    expect([b(), b(), b()]).toEqual(seqA);
    expect([c(), c(), c()]).not.toEqual(seqA);
  });
});

describe('compareStreams', () => {
  it('classifies missing, extra, drifted and size-mismatched objects from the listings', async () => {
    const ref = [
      obj('a'),
      obj('b'),
      obj('c', 5),
      obj('d', 1, { drifted: true }),
      obj('e', 1, { drifted: true }),
    ];
    const restored = [obj('a'), obj('c', 4), obj('e'), obj('x')];
    const r = await compareStreams(fromArray(ref), fromArray(restored), matchAll, { mode: 'full' });
    expect(r.counts).toMatchObject({
      matched: 1,
      missing: 1,
      extra: 1,
      mismatched: 1,
      drifted: 2,
      unproven: 0,
      reference: 5,
      restored: 4,
    });
    expect(r.first).toMatchObject({
      missing: ['b'],
      extra: ['x'],
      mismatched: ['c (size 4 B, reference 5 B)'],
    });
    expect(r.complete).toBe(true);
  });

  it('keeps the first keys in key order although proofs finish out of order', async () => {
    const ref = Array.from({ length: 20 }, (_, i) => obj(`k${String(i).padStart(2, '0')}`));
    const prove = async (o: ListedObject) => {
      await new Promise((r) => setTimeout(r, 20 - Number(o.key.slice(1))));
      return { status: 'mismatched' as const, method: 'test' };
    };
    const r = await compareStreams(fromArray(ref), fromArray(ref), prove, {
      mode: 'full',
      concurrency: 8,
      firstKeys: 3,
    });
    expect(r.first.mismatched).toEqual(['k00', 'k01', 'k02']);
    expect(r.counts.mismatched).toBe(20);
  });

  it('never runs more proofs at once than its concurrency', async () => {
    let active = 0;
    let peak = 0;
    const prove = async () => {
      active++;
      peak = Math.max(peak, active);
      await new Promise((r) => setTimeout(r, 2));
      active--;
      return { status: 'matched' as const, method: 'test' };
    };
    const ref = Array.from({ length: 200 }, (_, i) => obj(`k${String(i).padStart(3, '0')}`));
    await compareStreams(fromArray(ref), fromArray(ref), prove, { mode: 'full', concurrency: 5 });
    expect(peak).toBe(5);
  });

  it('samples with a seed, always including the largest and the newest object', async () => {
    const ref = Array.from({ length: 100 }, (_, i) =>
      obj(`k${String(i).padStart(3, '0')}`, i === 37 ? 999 : 10, {
        lastModified: new Date(i === 64 ? 2_000_000_000_000 : 1_000_000_000_000),
      }),
    );
    const seen: string[] = [];
    const prove = async (o: ListedObject) => {
      seen.push(o.key);
      return { status: 'matched' as const, method: 'test' };
    };
    const r = await compareStreams(fromArray(ref), fromArray(ref), prove, {
      mode: 'sample',
      sample: 5,
      seed: 1,
    });
    expect(seen).toContain('k037');
    expect(seen).toContain('k064');
    expect(r.counts.matched + r.counts.notSampled).toBe(100);
    expect(r.sample).toMatchObject({ seed: 1, drawnFrom: 100 });
    const again: string[] = [];
    await compareStreams(
      fromArray(ref),
      fromArray(ref),
      async (o) => {
        again.push(o.key);
        return { status: 'matched' as const, method: 'test' };
      },
      { mode: 'sample', sample: 5, seed: 1 },
    );
    expect(again.sort()).toEqual([...seen].sort());
  });

  it('stops at the deadline and returns the cursor it reached', async () => {
    const ref = Array.from({ length: 50 }, (_, i) => obj(`k${String(i).padStart(2, '0')}`));
    const r = await compareStreams(fromArray(ref), fromArray(ref), matchAll, {
      mode: 'full',
      stopAt: Date.now() - 1,
    });
    expect(r.complete).toBe(false);
    expect(r.cursor).toBeUndefined();
    expect(r.counts.reference).toBe(0);
  });
});

describe('outcomeOf', () => {
  const result = (counts: Partial<ReturnType<typeof emptyCounts>>, first = {}) => ({
    counts: { ...emptyCounts(), ...counts },
    provenBy: { 'etag-md5': counts.matched ?? 0 },
    first,
    complete: true,
  });
  it('passes with drift reported and fails on missing, mismatched or unproven objects', () => {
    expect(
      outcomeOf(result({ matched: 3, drifted: 1, reference: 4, restored: 4 }), {}, 's3://src').status,
    ).toBe('pass');
    expect(
      outcomeOf(
        result(
          { matched: 3, unproven: 1, reference: 4, restored: 4 },
          { unproven: ['k (GetObject failed: AccessDenied)'] },
        ),
        {},
        's3://src',
      ),
    ).toMatchObject({
      status: 'fail',
      detail: expect.stringContaining('unproven: k (GetObject failed: AccessDenied)'),
    });
    expect(
      outcomeOf(result({ matched: 3, extra: 1, reference: 3, restored: 4 }), { extra: 'fail' }, 's3://src')
        .status,
    ).toBe('fail');
    expect(
      outcomeOf({ ...result({ matched: 3, reference: 3 }), complete: false }, {}, 's3://src'),
    ).toMatchObject({
      status: 'error',
      detail: expect.stringMatching(/^ran out of time after 3 reference objects/),
    });
    expect(outcomeOf(result({}), {}, 's3://src').status).toBe('fail');
    expect(outcomeOf(result({}), { allowEmpty: true }, 's3://src').status).toBe('skip');
    expect(outcomeOf(result({ drifted: 2, reference: 2, restored: 2 }), {}, 's3://src').status).toBe('fail');
  });

  it('adds up worker results', () => {
    const a = { counts: { ...emptyCounts(), matched: 2 }, provenBy: { x: 2 }, first: { missing: ['m'] } };
    const b = {
      counts: { ...emptyCounts(), matched: 1, missing: 1 },
      provenBy: { x: 1, y: 1 },
      first: { missing: ['c'] },
    };
    expect(mergeResults([a, b])).toEqual({
      counts: { ...emptyCounts(), matched: 3, missing: 1 },
      provenBy: { x: 3, y: 1 },
      first: { missing: ['c', 'm'] },
    });
  });
});

describe('checksums', () => {
  it('computes checksums in the encoding S3 stores them', async () => {
    const hash = async (alg: Parameters<typeof createHasher>[0], text: string) => {
      const h = createHasher(alg);
      h.update(Buffer.from(text.slice(0, 2)));
      h.update(Buffer.from(text.slice(2)));
      return h.digest();
    };
    // Values S3 returned for the body "hello" (moto and the AWS documentation agree).
    expect(await hash('CRC32', 'hello')).toBe('NhCmhg==');
    expect(await hash('SHA256', 'hello')).toBe('LPJNul+wow4m6DsqxbninhsWHlwfp0JecwQzYpOLmCQ=');
    expect(await hash('CRC64NVME', 'hello')).toBe('M3eFcAZSQlc=');
    expect(await hash('MD5', 'hello')).toBe('5d41402abc4b2a76b9719d911017c592');
    expect(await hash('CRC32C', 'hello')).toBe('mnG7TA==');
  });

  it('parses manifest checksums and tells full-object from composite ones', () => {
    expect(parseChecksum('sha256:abc=')).toEqual({ algorithm: 'SHA256', value: 'abc=' });
    expect(parseChecksum('"5D41402ABC4B2A76B9719D911017C592"')).toEqual({
      algorithm: 'MD5',
      value: '5d41402abc4b2a76b9719d911017c592',
    });
    expect(parseChecksum('whirlpool:x')).toBeUndefined();
    const info = (o: Partial<ObjectInfo>): ObjectInfo => ({
      size: 1,
      checksums: {},
      sseCustomer: false,
      archived: false,
      ...o,
    });
    expect(isFullObject(info({ checksums: { CRC32: 'x' } }), 'CRC32')).toBe(true);
    expect(isFullObject(info({ checksums: { CRC32: 'x-3' } }), 'CRC32')).toBe(false);
    expect(isFullObject(info({ checksums: { CRC32: 'x' }, etag: 'abc-3' }), 'CRC32')).toBe(false);
    expect(
      isFullObject(info({ checksums: { CRC32: 'x' }, etag: 'abc-3', checksumType: 'FULL_OBJECT' }), 'CRC32'),
    ).toBe(true);
    expect(isFullObject(info({ checksums: { CRC64NVME: 'x' }, etag: 'abc-3' }), 'CRC64NVME')).toBe(true);
    expect(isFullObject(info({}), 'CRC64NVME')).toBe(false);
  });
});

describe('manifests', () => {
  it('parses quoted CSV fields, inventory schemas and JSON lists', () => {
    expect(parseCsvLine('"a,b","c""d",e')).toEqual(['a,b', 'c"d', 'e']);
    const inv = parseInventoryCsv(
      '"bkt","dir%2Fa+b.txt","v1","true","false","5","abc"\n"bkt","old","v0","false","false","3","def"\n',
      'Bucket, Key, VersionId, IsLatest, IsDeleteMarker, Size, ETag',
    );
    expect(inv).toEqual([{ key: 'dir/a b.txt', size: 5, etag: 'abc' }]);
    const withHeader = parseInventoryCsv('key,size,checksum\nplain key.txt,3,crc32:AAAA\n');
    expect(withHeader).toEqual([{ key: 'plain key.txt', size: 3, etag: undefined, checksum: 'crc32:AAAA' }]);
    expect(parseJsonManifest({ objects: [{ key: 'k', size: 2, checksum: 'sha256:x' }] })).toEqual([
      { key: 'k', size: 2, checksum: 'sha256:x' },
    ]);
    expect(() => parseJsonManifest([{ key: 'k' }])).toThrow('manifest entry 0 (k) has no valid size');
    expect(() => parseInventoryCsv('a,b\n', 'Bucket, Key')).toThrow(/no Size column/);
  });
});

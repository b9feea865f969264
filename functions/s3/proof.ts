/**
 * How one object's content is proven equal to its reference, cheapest sound proof first:
 *
 * 0. sizes differ → mismatched (from the listings, no request);
 * 1. equal ETags in both listings → matched. An ETag is computed by S3 from the bytes it stored:
 *    the MD5 for single-part SSE-S3/unencrypted objects, MD5-of-part-MD5s-N for multipart ones, an
 *    opaque value for SSE-KMS/SSE-C. Equality therefore cannot happen for different content; only
 *    *inequality* is inconclusive (KMS, different part layouts), and it never decides anything here;
 * 2. a stored full-object checksum both sides share (HeadObject, ChecksumMode=ENABLED):
 *    CRC64NVME, CRC32, CRC32C, SHA1, SHA256 → matched or mismatched;
 * 3. a composite (multipart) checksum both share, equal → matched (a different part layout gives a
 *    different value for the same bytes, so unequal composites fall through);
 * 4. MD5 ETags of single-part, non-KMS, non-SSE-C objects on both sides → matched or mismatched;
 * 5. one side has a full-object checksum: stream the other side, compute that algorithm, compare;
 * 6. otherwise stream both and hash (CRC32C by default, SHA256 on request).
 *
 * Objects in an archive storage class cannot be read (step 5/6) and stay unproven unless 1–4 decide.
 * @see https://docs.aws.amazon.com/AmazonS3/latest/userguide/checking-object-integrity.html
 * @see https://docs.aws.amazon.com/AmazonS3/latest/API/API_Object.html (ETag)
 */
import {
  GetObjectCommand,
  HeadObjectCommand,
  type HeadObjectCommandOutput,
  type S3Client,
} from '@aws-sdk/client-s3';
import { type RetryOptions, withRetry } from '../../shared/retry';
import { errorCode } from './bucket';
import {
  CHECKSUM_ALGORITHMS,
  type ChecksumAlgorithm,
  COMPUTE_PREFERENCE,
  createHasher,
  type HashAlgorithm,
  parseChecksum,
} from './hash';
import { type ListedObject, unquote } from './listing';

/** Where an object is read from. */
export interface ObjectLocation {
  readonly s3: S3Client;
  readonly bucket: string;
  readonly key: string;
  readonly versionId?: string;
}

/** What HeadObject says about an object's content. */
export interface ObjectInfo {
  readonly size: number;
  readonly etag?: string;
  /** Stored checksums by algorithm (base64; composite ones may end in `-N`). */
  readonly checksums: Partial<Record<ChecksumAlgorithm, string>>;
  readonly checksumType?: string;
  readonly sse?: string;
  readonly sseCustomer: boolean;
  readonly storageClass?: string;
  readonly archived: boolean;
}

export type ProofStatus = 'matched' | 'mismatched' | 'unproven';

export interface Proof {
  readonly status: ProofStatus;
  /** How: `size`, `etag-md5`, `etag-multipart`, `checksum:CRC32`, `composite:CRC32`, `stream+checksum:CRC32C`, `stream:CRC32C`, `size-only`. */
  readonly method: string;
  readonly reason?: string;
}

export interface ProofOptions {
  /** Decide by equal listing ETags (step 1). Default true. */
  readonly trustListingEtags?: boolean;
  /** Hash used when both sides are streamed. Default CRC32C. */
  readonly streamHash?: 'CRC32C' | 'SHA256';
  readonly signal?: AbortSignal;
  readonly retry?: RetryOptions;
  /** Called with the bytes read by streaming (progress, statistics). */
  readonly onBytes?: (n: number) => void;
}

const ARCHIVED = new Set(['GLACIER', 'DEEP_ARCHIVE']);
const isMultipartEtag = (etag: string | undefined) => Boolean(etag && /-\d+$/.test(etag));
const isMd5Etag = (etag: string | undefined) => Boolean(etag && /^[0-9a-f]{32}$/i.test(etag));

export function objectInfo(h: HeadObjectCommandOutput): ObjectInfo {
  const checksums: Partial<Record<ChecksumAlgorithm, string>> = {};
  const values: Record<ChecksumAlgorithm, string | undefined> = {
    CRC64NVME: h.ChecksumCRC64NVME,
    CRC32: h.ChecksumCRC32,
    CRC32C: h.ChecksumCRC32C,
    SHA1: h.ChecksumSHA1,
    SHA256: h.ChecksumSHA256,
  };
  for (const alg of CHECKSUM_ALGORITHMS) if (values[alg]) checksums[alg] = values[alg];
  const storageClass = h.StorageClass;
  // An archived object that has a restored copy (x-amz-restore ongoing-request="false") is readable.
  const archived = Boolean(
    storageClass && ARCHIVED.has(storageClass) && !/ongoing-request="false"/.test(h.Restore ?? ''),
  );
  return {
    size: Number(h.ContentLength ?? 0),
    etag: unquote(h.ETag),
    checksums,
    checksumType: (h as { ChecksumType?: string }).ChecksumType,
    sse: h.ServerSideEncryption,
    sseCustomer: Boolean(h.SSECustomerAlgorithm),
    storageClass,
    archived,
  };
}

/**
 * Whether a stored checksum covers the whole object. S3 reports `ChecksumType` (FULL_OBJECT or
 * COMPOSITE); where it does not (older APIs, emulators), a `-N` suffix or a multipart ETag means
 * composite, except CRC64NVME which is always full-object.
 * @see https://docs.aws.amazon.com/AmazonS3/latest/userguide/checking-object-integrity.html#ChecksumTypes
 */
export function isFullObject(info: ObjectInfo, alg: ChecksumAlgorithm): boolean {
  const value = info.checksums[alg];
  if (!value) return false;
  if (alg === 'CRC64NVME') return true;
  if (info.checksumType) return info.checksumType === 'FULL_OBJECT';
  if (/-\d+$/.test(value)) return false;
  return !isMultipartEtag(info.etag);
}

/** What a listing entry says about content, for a proof that needs no HeadObject. */
const listedInfo = (o: ListedObject): ObjectInfo => ({
  size: o.size,
  etag: o.etag,
  checksums: {},
  sseCustomer: false,
  storageClass: o.storageClass,
  archived: false,
});

const plainMd5 = (info: ObjectInfo) =>
  isMd5Etag(info.etag) && !info.sseCustomer && !(info.sse ?? '').startsWith('aws:kms');

export async function headObject(loc: ObjectLocation, options: ProofOptions): Promise<ObjectInfo> {
  const out = await withRetry(
    () =>
      loc.s3.send(
        new HeadObjectCommand({
          Bucket: loc.bucket,
          Key: loc.key,
          ChecksumMode: 'ENABLED',
          ...(loc.versionId ? { VersionId: loc.versionId } : {}),
        }),
        { abortSignal: options.signal },
      ),
    options.retry,
  );
  return objectInfo(out);
}

/** Streams an object through the given hashers; returns their digests and the byte count. */
export async function hashObject(
  loc: ObjectLocation,
  algorithms: readonly HashAlgorithm[],
  options: ProofOptions,
): Promise<{ digests: Partial<Record<HashAlgorithm, string>>; bytes: number }> {
  return withRetry(async () => {
    const out = await loc.s3.send(
      new GetObjectCommand({
        Bucket: loc.bucket,
        Key: loc.key,
        ...(loc.versionId ? { VersionId: loc.versionId } : {}),
      }),
      {
        abortSignal: options.signal,
      },
    );
    const hashers = algorithms.map((a) => [a, createHasher(a)] as const);
    let bytes = 0;
    const body = out.Body as AsyncIterable<Uint8Array> | undefined;
    if (body) {
      for await (const chunk of body) {
        bytes += chunk.byteLength;
        for (const [, h] of hashers) h.update(chunk);
        options.onBytes?.(chunk.byteLength);
      }
    }
    const digests: Partial<Record<HashAlgorithm, string>> = {};
    for (const [a, h] of hashers) digests[a] = await h.digest();
    return { digests, bytes };
  }, options.retry);
}

/**
 * Why a read failed. A denial names what the role lacks: S3 answers 403 (HEAD: no body, so no code)
 * both when `s3:GetObject` is missing and when the object is SSE-KMS and the role may not use its key
 * (`HeadObject` with `ChecksumMode: ENABLED` needs `kms:Decrypt`, like a download).
 * @see https://docs.aws.amazon.com/AmazonS3/latest/API/API_HeadObject.html
 */
export function readFailure(operation: 'HeadObject' | 'GetObject', err: unknown): string {
  const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
  const denied =
    e?.$metadata?.httpStatusCode === 403 || /^(AccessDenied|Forbidden|KMS\.)/.test(e?.name ?? '');
  if (!denied) return `${operation} failed: ${errorCode(err)}`;
  const code = e?.$metadata?.httpStatusCode === 403 ? 'HTTP 403' : errorCode(err);
  return `${operation}${operation === 'HeadObject' ? ' (ChecksumMode ENABLED)' : ''} was denied (${code}): the validator role needs s3:GetObject on the object and, for an SSE-KMS object, kms:Decrypt on its key (RestoreValidation s3KmsKeyArns, and the key policy for a key of another account)`;
}

const decided = (status: ProofStatus, method: string, reason?: string): Proof => ({
  status,
  method,
  ...(reason ? { reason } : {}),
});

/** Proves a restored object against a reference object in a bucket. */
export async function proveAgainstObject(
  ref: ListedObject,
  refLoc: ObjectLocation,
  restored: ListedObject,
  restLoc: ObjectLocation,
  options: ProofOptions = {},
): Promise<Proof> {
  if (ref.size !== restored.size)
    return decided('mismatched', 'size', `size ${restored.size} B, reference ${ref.size} B`);
  if ((options.trustListingEtags ?? true) && ref.etag && ref.etag === restored.etag) {
    return decided('matched', isMultipartEtag(ref.etag) ? 'etag-multipart' : 'etag-md5');
  }
  // Without trusted ETags, a pair whose listings show no stored checksum on either side can only be
  // proven by its bytes: two HeadObject calls would only confirm that, so stream straight away.
  const noneStored = (o: ListedObject) =>
    (o.checksumAlgorithms?.length ?? 0) === 0 && !ARCHIVED.has(o.storageClass ?? '');
  if (!(options.trustListingEtags ?? true) && noneStored(ref) && noneStored(restored))
    return streamProof(listedInfo(ref), refLoc, listedInfo(restored), restLoc, options);
  let refInfo: ObjectInfo;
  let restInfo: ObjectInfo;
  try {
    [refInfo, restInfo] = await Promise.all([headObject(refLoc, options), headObject(restLoc, options)]);
  } catch (err) {
    return decided('unproven', 'head', readFailure('HeadObject', err));
  }
  if (refInfo.size !== restInfo.size)
    return decided('mismatched', 'size', `size ${restInfo.size} B, reference ${refInfo.size} B`);
  for (const alg of CHECKSUM_ALGORITHMS) {
    if (isFullObject(refInfo, alg) && isFullObject(restInfo, alg)) {
      return refInfo.checksums[alg] === restInfo.checksums[alg]
        ? decided('matched', `checksum:${alg}`)
        : decided('mismatched', `checksum:${alg}`, `stored ${alg} differs`);
    }
  }
  for (const alg of CHECKSUM_ALGORITHMS) {
    const a = refInfo.checksums[alg];
    if (a && a === restInfo.checksums[alg] && !isFullObject(refInfo, alg) && !isFullObject(restInfo, alg)) {
      return decided('matched', `composite:${alg}`);
    }
  }
  // `trustListingEtags: false`: only stored checksums or the bytes themselves decide, never an ETag.
  if (options.trustListingEtags ?? true) {
    if (plainMd5(refInfo) && plainMd5(restInfo)) {
      return refInfo.etag === restInfo.etag
        ? decided('matched', 'etag-md5')
        : decided('mismatched', 'etag-md5', 'MD5 ETag differs');
    }
    if (refInfo.etag && refInfo.etag === restInfo.etag && isMultipartEtag(refInfo.etag))
      return decided('matched', 'etag-multipart');
  }
  return streamProof(refInfo, refLoc, restInfo, restLoc, options);
}

async function streamProof(
  refInfo: ObjectInfo,
  refLoc: ObjectLocation,
  restInfo: ObjectInfo,
  restLoc: ObjectLocation,
  options: ProofOptions,
): Promise<Proof> {
  // One download is enough when the other side stored a full-object checksum: compute that one.
  const plans: { read: 'ref' | 'restored'; alg: ChecksumAlgorithm; expected: string }[] = [];
  for (const alg of COMPUTE_PREFERENCE) {
    const onRef = isFullObject(refInfo, alg) ? refInfo.checksums[alg] : undefined;
    const onRest = isFullObject(restInfo, alg) ? restInfo.checksums[alg] : undefined;
    if (onRef && !restInfo.archived) plans.push({ read: 'restored', alg, expected: onRef });
    if (onRest && !refInfo.archived) plans.push({ read: 'ref', alg, expected: onRest });
  }
  const plan = plans[0];
  try {
    if (plan) {
      const loc = plan.read === 'ref' ? refLoc : restLoc;
      const expectedSize = plan.read === 'ref' ? refInfo.size : restInfo.size;
      const { digests, bytes } = await hashObject(loc, [plan.alg], options);
      const method = `stream+checksum:${plan.alg}`;
      if (bytes !== expectedSize)
        return decided('mismatched', method, `read ${bytes} B of ${expectedSize} B`);
      return digests[plan.alg] === plan.expected
        ? decided('matched', method)
        : decided('mismatched', method, `computed ${plan.alg} differs from the stored one`);
    }
    const archived = [
      refInfo.archived ? `reference is ${refInfo.storageClass}` : '',
      restInfo.archived ? `restored is ${restInfo.storageClass}` : '',
    ]
      .filter(Boolean)
      .join(', ');
    if (archived) return decided('unproven', 'archived', `no comparable stored checksum and ${archived}`);
    const alg = options.streamHash ?? 'CRC32C';
    const [a, b] = await Promise.all([
      hashObject(refLoc, [alg], options),
      hashObject(restLoc, [alg], options),
    ]);
    const method = `stream:${alg}`;
    if (a.bytes !== b.bytes)
      return decided('mismatched', method, `read ${b.bytes} B, reference ${a.bytes} B`);
    return a.digests[alg] === b.digests[alg]
      ? decided('matched', method)
      : decided('mismatched', method, `${alg} of the bytes differs`);
  } catch (err) {
    return decided(
      'unproven',
      plan ? `stream+checksum:${plan.alg}` : 'stream',
      readFailure('GetObject', err),
    );
  }
}

/**
 * Part sizes that could have produced a multipart ETag `-N` for an object of `size` bytes: sizes p
 * with ceil(size / p) = N, in whole MiB (AWS CLI, SDKs: 5, 8, 16 MiB …) or whole MB, the common ones
 * first, at most `max` of them.
 * @see https://docs.aws.amazon.com/AmazonS3/latest/userguide/checking-object-integrity.html#large-object-checksums
 */
export function multipartPartSizes(size: number, parts: number, max = 16): number[] {
  if (parts < 1 || size < 1) return [];
  if (parts === 1) return [size];
  const lo = Math.ceil(size / parts);
  const hi = Math.ceil(size / (parts - 1)) - 1;
  const out = new Set<number>();
  for (const unit of [MiB, 1_000_000]) {
    for (let p = Math.ceil(lo / unit) * unit; p <= hi && out.size < 4 * max; p += unit) out.add(p);
  }
  const niceness = (p: number) =>
    p % MiB === 0 && ((p / MiB) & (p / MiB - 1)) === 0
      ? 0
      : p % (8 * MiB) === 0
        ? 1
        : p % (5 * MiB) === 0
          ? 2
          : 3;
  return [...out].sort((a, b) => niceness(a) - niceness(b) || a - b).slice(0, max);
}
const MiB = 1024 * 1024;

/**
 * Proves a restored object against a manifest entry: a checksum, an MD5 ETag or a multipart ETag.
 * A size match alone proves nothing about content: an entry with neither checksum nor ETag, or a
 * multipart ETag that no common part size reproduces from the restored bytes, is unproven (fails).
 */
export async function proveAgainstManifest(
  entry: ListedObject,
  restored: ListedObject,
  restLoc: ObjectLocation,
  options: ProofOptions = {},
): Promise<Proof> {
  if (entry.size !== restored.size)
    return decided('mismatched', 'size', `size ${restored.size} B, manifest ${entry.size} B`);
  const trust = options.trustListingEtags ?? true;
  const expected = parseChecksum(entry.checksum) ?? (entry.etag ? parseChecksum(entry.etag) : undefined);
  const multipartEtag = entry.etag && isMultipartEtag(entry.etag) ? entry.etag : undefined;
  if (!expected) {
    if (multipartEtag) return proveMultipartEtag(multipartEtag, entry.size, restored, restLoc, options);
    return decided(
      'unproven',
      'size-only',
      'the manifest gives no checksum or ETag for it: only the size matched (add a Checksum or ETag column)',
    );
  }
  if (expected.algorithm === 'MD5' && trust && restored.etag === expected.value)
    return decided('matched', 'etag-md5');
  let info: ObjectInfo;
  try {
    info = await headObject(restLoc, options);
  } catch (err) {
    return decided('unproven', 'head', readFailure('HeadObject', err));
  }
  if (expected.algorithm === 'MD5') {
    if (trust && plainMd5(info)) {
      return info.etag === expected.value
        ? decided('matched', 'etag-md5')
        : decided('mismatched', 'etag-md5', 'MD5 ETag differs from the manifest');
    }
  } else if (isFullObject(info, expected.algorithm)) {
    return info.checksums[expected.algorithm] === expected.value
      ? decided('matched', `checksum:${expected.algorithm}`)
      : decided(
          'mismatched',
          `checksum:${expected.algorithm}`,
          `stored ${expected.algorithm} differs from the manifest`,
        );
  }
  if (info.archived) return decided('unproven', 'archived', `restored object is ${info.storageClass}`);
  const method = `stream+checksum:${expected.algorithm}`;
  try {
    const { digests, bytes } = await hashObject(restLoc, [expected.algorithm], options);
    if (bytes !== entry.size) return decided('mismatched', method, `read ${bytes} B of ${entry.size} B`);
    return digests[expected.algorithm] === expected.value
      ? decided('matched', method)
      : decided('mismatched', method, `computed ${expected.algorithm} differs from the manifest`);
  } catch (err) {
    return decided('unproven', method, `GetObject failed: ${errorCode(err)}`);
  }
}

/**
 * A manifest's multipart ETag (MD5 of the parts' MD5s, `-N`): equal listing ETags decide (unless
 * `trustListingEtags: false`); otherwise the restored object is streamed once and the ETag recomputed
 * for every plausible part size. Matched when one reproduces it; unproven when none does (the part
 * size is not recorded anywhere, so a different layout cannot be told from different bytes).
 */
async function proveMultipartEtag(
  etag: string,
  size: number,
  restored: ListedObject,
  restLoc: ObjectLocation,
  options: ProofOptions,
): Promise<Proof> {
  if ((options.trustListingEtags ?? true) && restored.etag === etag)
    return decided('matched', 'etag-multipart');
  const parts = Number(/-(\d+)$/.exec(etag)?.[1] ?? 0);
  const sizes = multipartPartSizes(size, parts);
  const method = 'stream:etag-multipart';
  if (sizes.length === 0) return decided('unproven', method, `multipart ETag ${etag} cannot fit ${size} B`);
  try {
    const { digests, bytes } = await hashObject(
      restLoc,
      sizes.map((p) => `MULTIPART:${p}` as const),
      options,
    );
    if (bytes !== size) return decided('mismatched', method, `read ${bytes} B of ${size} B`);
    if (Object.values(digests).includes(etag.toLowerCase())) return decided('matched', method);
    return decided(
      'unproven',
      method,
      `no part size of ${sizes
        .map((p) => `${p} B`)
        .slice(0, 3)
        .join(', ')}… reproduces the manifest's multipart ETag (different bytes or a different part layout)`,
    );
  } catch (err) {
    return decided('unproven', method, `GetObject failed: ${errorCode(err)}`);
  }
}

/**
 * Streaming hashes in the encodings S3 stores them: base64 of the big-endian digest for the additional
 * checksums (CRC64NVME, CRC32, CRC32C, SHA1, SHA256), hex for MD5 (the ETag of a single-part object).
 * CRC32 uses zlib's native implementation, CRC32C `@node-rs/crc32` (hardware CRC instructions);
 * CRC64NVME falls back to the SDK's implementation, the slowest, so it is computed only when nothing
 * faster can be compared.
 * @see https://docs.aws.amazon.com/AmazonS3/latest/userguide/checking-object-integrity.html
 */

import { createHash } from 'node:crypto';
import { crc32 as zlibCrc32 } from 'node:zlib';
import { Crc64Nvme } from '@aws-sdk/checksums/crc';
import { crc32c } from '../../shared/crc32c';

export const CHECKSUM_ALGORITHMS = ['CRC64NVME', 'CRC32', 'CRC32C', 'SHA1', 'SHA256'] as const;
export type ChecksumAlgorithm = (typeof CHECKSUM_ALGORITHMS)[number];
/** `MULTIPART:<part size>`: the multipart ETag (hex MD5 of the parts' MD5s, `-N`) for that part size. */
export type HashAlgorithm = ChecksumAlgorithm | 'MD5' | `MULTIPART:${number}`;

/** Cheapest first: the order in which an algorithm is chosen when the engine must compute one. */
export const COMPUTE_PREFERENCE: readonly ChecksumAlgorithm[] = [
  'CRC32C',
  'CRC32',
  'SHA1',
  'SHA256',
  'CRC64NVME',
];

export interface StreamHasher {
  update(chunk: Uint8Array): void;
  /** base64 (checksums) or hex (MD5). */
  digest(): Promise<string>;
}

const u32 = (n: number): Buffer => {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n >>> 0, 0);
  return b;
};

const asBuffer = (c: Uint8Array): Buffer =>
  Buffer.isBuffer(c) ? c : Buffer.from(c.buffer, c.byteOffset, c.byteLength);

/** The multipart ETag of a stream uploaded in parts of `partSize` bytes. */
function multipartEtagHasher(partSize: number): StreamHasher {
  const digests: Buffer[] = [];
  let part = createHash('md5');
  let inPart = 0;
  return {
    update: (chunk) => {
      for (let at = 0; at < chunk.byteLength; ) {
        const n = Math.min(partSize - inPart, chunk.byteLength - at);
        part.update(chunk.subarray(at, at + n));
        inPart += n;
        at += n;
        if (inPart === partSize) {
          digests.push(part.digest());
          part = createHash('md5');
          inPart = 0;
        }
      }
    },
    digest: async () => {
      if (inPart > 0 || digests.length === 0) digests.push(part.digest());
      return `${createHash('md5').update(Buffer.concat(digests)).digest('hex')}-${digests.length}`;
    },
  };
}

export function createHasher(algorithm: HashAlgorithm): StreamHasher {
  if (algorithm.startsWith('MULTIPART:')) return multipartEtagHasher(Number(algorithm.slice(10)));
  switch (algorithm) {
    case 'CRC32': {
      let s = 0;
      return {
        update: (c) => {
          s = zlibCrc32(c, s);
        },
        digest: async () => u32(s).toString('base64'),
      };
    }
    case 'CRC32C': {
      let s = 0;
      return {
        update: (c) => {
          s = crc32c(asBuffer(c), s);
        },
        digest: async () => u32(s).toString('base64'),
      };
    }
    case 'CRC64NVME': {
      const h = new Crc64Nvme();
      return {
        update: (c) => h.update(c),
        digest: async () => Buffer.from(await h.digest()).toString('base64'),
      };
    }
    case 'SHA1':
    case 'SHA256': {
      const h = createHash(algorithm === 'SHA1' ? 'sha1' : 'sha256');
      return { update: (c) => void h.update(c), digest: async () => h.digest('base64') };
    }
    case 'MD5': {
      const h = createHash('md5');
      return { update: (c) => void h.update(c), digest: async () => h.digest('hex') };
    }
  }
  throw new Error(`unknown hash algorithm ${algorithm}`);
}

/** Parses a manifest/profile checksum: `ALGORITHM:value` (e.g. `sha256:…`, `crc64nvme:…`) or an MD5 hex. */
export function parseChecksum(
  text: string | undefined,
): { algorithm: ChecksumAlgorithm | 'MD5'; value: string } | undefined {
  if (!text) return undefined;
  const t = text.trim().replace(/^"+|"+$/g, '');
  const m = /^([A-Za-z0-9]+):(.+)$/.exec(t);
  if (m) {
    const alg = (m[1] ?? '').toUpperCase();
    if (alg === 'MD5') return { algorithm: 'MD5', value: (m[2] ?? '').toLowerCase() };
    if ((CHECKSUM_ALGORITHMS as readonly string[]).includes(alg))
      return { algorithm: alg as ChecksumAlgorithm, value: m[2] ?? '' };
    return undefined;
  }
  if (/^[0-9a-f]{32}$/i.test(t)) return { algorithm: 'MD5', value: t.toLowerCase() };
  return undefined;
}

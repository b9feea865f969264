/**
 * A denied HeadObject (ChecksumMode ENABLED) says which permission is missing. S3 answers a HEAD it
 * refuses with a bare 403 (no body, so no error code), whether s3:GetObject or kms:Decrypt on an
 * SSE-KMS object's key is what the role lacks: a local server answers exactly that to the real SDK.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { proveAgainstObject } from '../../functions/s3/proof';

let server: Server;
let s3: S3Client;
const heads: string[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    heads.push(`${req.method} ${req.url} ${String(req.headers['x-amz-checksum-mode'] ?? '')}`);
    res.writeHead(403, { 'x-amz-request-id': 'REQ1', 'x-amz-id-2': 'ID2' });
    res.end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  s3 = new S3Client({
    endpoint: `http://127.0.0.1:${port}`,
    forcePathStyle: true,
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    maxAttempts: 1,
  });
});
afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

describe('proveAgainstObject', () => {
  it('names s3:GetObject and kms:Decrypt when HeadObject with ChecksumMode is denied', async () => {
    const ref = { key: 'a.bin', size: 5, etag: 'opaque-kms-etag-1' };
    const restored = { key: 'a.bin', size: 5, etag: 'opaque-kms-etag-2' };
    const proof = await proveAgainstObject(ref, { s3, bucket: 'source-bucket', key: 'a.bin' }, restored, {
      s3,
      bucket: 'awsbackup-restore-test-abc',
      key: 'a.bin',
    });
    expect(heads.some((h) => h.startsWith('HEAD ') && h.endsWith(' ENABLED'))).toBe(true);
    expect(proof.status).toBe('unproven');
    expect(proof.reason).toMatch(/HeadObject \(ChecksumMode ENABLED\) was denied/);
    expect(proof.reason).toContain('kms:Decrypt');
    expect(proof.reason).toContain('s3:GetObject');
  });
});

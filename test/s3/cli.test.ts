import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DeleteObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../bin/cli';
import { cliTarget } from '../../functions/s3/cli';
import { type Moto, startMoto } from '../support/engines';
import { fixtureClient, makeBucket } from './context';

let moto: Moto;
let s3: S3Client;
let config: string;

beforeAll(async () => {
  moto = await startMoto();
  s3 = fixtureClient(moto.endpoint);
  await makeBucket(s3, 'customer-documents', { 'a.txt': 'alpha', 'b/c.json': '{}' });
  await makeBucket(s3, 'restored-copy', { 'a.txt': 'alpha', 'b/c.json': '{}' });
  const dir = mkdtempSync(join(tmpdir(), 'rv-s3-cli-'));
  config = join(dir, 'validation.config.yaml');
  writeFileSync(
    config,
    [
      'version: 1',
      'profiles:',
      '  - name: documents',
      '    match: { resourceType: S3 }',
      '    checks:',
      '      - { id: same-as-source, compare: { with: source, mode: full } }',
      '      - { id: index-present, keys: [a.txt] }',
      '',
    ].join('\n'),
  );
});
afterAll(async () => moto?.stop());

async function cli(...args: string[]) {
  let out = '';
  let err = '';
  const code = await main(
    ['check', 's3', '--config', config, '--endpoint-url', moto.endpoint, '--region', 'us-east-1', ...args],
    {
      out: (s) => {
        out += s;
      },
      err: (s) => {
        err += s;
      },
      isTTY: false,
    },
  );
  return { code, out, err };
}

describe('restore-validation check s3', () => {
  it('prints a SUCCESSFUL verdict and exits 0 when the bucket matches its source', async () => {
    const r = await cli('--bucket', 'restored-copy', '--source-bucket', 'customer-documents', '--json');
    const json = JSON.parse(r.out) as {
      verdict: string;
      checks: { id: string; status: string; detail: string }[];
    };
    expect(json.verdict).toBe('SUCCESSFUL');
    expect(json.checks.map((c) => [c.id, c.status])).toEqual([
      ['restored-bucket', 'pass'],
      ['same-as-source', 'pass'],
      ['index-present', 'pass'],
    ]);
    expect(r.code).toBe(0);
  });

  it('prints a FAILED verdict naming the missing key and exits 1', async () => {
    await s3.send(new DeleteObjectCommand({ Bucket: 'restored-copy', Key: 'b/c.json' }));
    const r = await cli('--bucket', 'restored-copy', '--source-bucket', 'customer-documents', '--json');
    const json = JSON.parse(r.out) as { verdict: string; message: string };
    expect(json.verdict).toBe('FAILED');
    expect(json.message).toContain('missing: b/c.json');
    expect(r.code).toBe(1);
  });

  it('declares the flags of the issue, --bucket required', () => {
    expect(cliTarget.options.map((o) => o.flags.split(' ')[0])).toEqual([
      '--bucket',
      '--source-bucket',
      '--manifest',
      '--endpoint-url',
      '--region',
      '--recovery-point-time',
    ]);
    expect(cliTarget.options.find((o) => o.flags.startsWith('--bucket'))?.required).toBe(true);
    expect(cliTarget.sourceResourceArn?.({ sourceBucket: 'customer-documents' })).toBe(
      'arn:aws:s3:::customer-documents',
    );
  });
});

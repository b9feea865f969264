import { PutBucketTaggingCommand, type S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { restoredBucketName } from '../../functions/s3/bucket';
import { s3Validator } from '../../functions/s3/validator';
import { runValidator } from '../../shared/validator';
import { type Moto, startMoto } from '../support/engines';
import { fixtureClient, makeBucket, testContext, testJob } from './context';

const RESTORED = 'awsbackup-restore-test-9c8b7a65';
const ARN = (b: string) => `arn:aws:s3:::${b}`;

let moto: Moto;
let s3: S3Client;

beforeAll(async () => {
  moto = await startMoto();
  s3 = fixtureClient(moto.endpoint);
});
afterAll(async () => moto?.stop());
beforeEach(async () => moto.reset());

describe('restoredBucketName', () => {
  it('prefers metadata destinationBucketName over the created ARN when both are given', () => {
    const job = testJob({
      endpoint: '',
      createdResourceArn: ARN('from-arn'),
      metadata: { DestinationBucketName: 'from-metadata' },
    });
    expect(restoredBucketName(job)).toBe('from-metadata');
  });
  it('falls back to the created resource ARN when metadata has no bucket', () => {
    expect(restoredBucketName(testJob({ endpoint: '', createdResourceArn: ARN('from-arn') }))).toBe(
      'from-arn',
    );
  });
});

describe('s3Validator restored bucket', () => {
  it('passes when the restored bucket exists, can be listed and holds objects', async () => {
    await makeBucket(s3, RESTORED, { 'a.txt': 'hello' });
    const run = await runValidator(
      s3Validator,
      testContext({ endpoint: moto.endpoint, createdResourceArn: ARN(RESTORED) }),
    );
    expect(run.verdict.verdict).toBe('SUCCESSFUL');
    expect(run.results[0]).toMatchObject({ id: 'restored-bucket', status: 'pass' });
  });

  it('fails with the reason when the restored bucket does not exist', async () => {
    const run = await runValidator(
      s3Validator,
      testContext({ endpoint: moto.endpoint, createdResourceArn: ARN(RESTORED) }),
    );
    expect(run.verdict.verdict).toBe('FAILED');
    expect(run.results[0]).toMatchObject({ id: 'restored-resource', status: 'fail' });
    expect(run.results[0]?.detail).toContain(`restored bucket ${RESTORED} does not exist`);
  });

  it('fails when the restored bucket is empty', async () => {
    await makeBucket(s3, RESTORED);
    const run = await runValidator(
      s3Validator,
      testContext({ endpoint: moto.endpoint, createdResourceArn: ARN(RESTORED) }),
    );
    expect(run.verdict.verdict).toBe('FAILED');
    expect(run.verdict.message).toContain(`restored bucket ${RESTORED} is empty`);
  });

  it('refuses a bucket that is neither named nor tagged as a restore test', async () => {
    await makeBucket(s3, 'customer-documents', { 'a.txt': 'x' });
    const run = await runValidator(
      s3Validator,
      testContext({ endpoint: moto.endpoint, createdResourceArn: ARN('customer-documents') }),
    );
    expect(run.verdict.verdict).toBe('FAILED');
    expect(run.results[0]?.detail).toMatch(/^safety guard: refusing to validate customer-documents/);
  });

  it('accepts a bucket tagged awsbackup-restore-test whatever its name', async () => {
    await makeBucket(s3, 'restored-elsewhere', { 'a.txt': 'x' });
    await s3.send(
      new PutBucketTaggingCommand({
        Bucket: 'restored-elsewhere',
        Tagging: { TagSet: [{ Key: 'awsbackup-restore-test', Value: 'x' }] },
      }),
    );
    const run = await runValidator(
      s3Validator,
      testContext({ endpoint: moto.endpoint, metadata: { destinationBucketName: 'restored-elsewhere' } }),
    );
    expect(run.verdict.verdict).toBe('SUCCESSFUL');
  });

  it('checks keys and minObjects from the profile', async () => {
    await makeBucket(s3, RESTORED, { 'reports/index.json': '{}', 'reports/a.csv': 'a', 'b.txt': 'b' });
    const run = await runValidator(
      s3Validator,
      testContext({
        endpoint: moto.endpoint,
        createdResourceArn: ARN(RESTORED),
        checks: [
          { id: 'index', keys: ['reports/index.json', 'reports/missing.json'] },
          { id: 'enough', minObjects: 2, include: ['reports/'] },
          { id: 'too-few', minObjects: 3, include: ['reports/'] },
        ],
      }),
    );
    const byId = Object.fromEntries(run.results.map((r) => [r.id, r]));
    expect(byId.index).toMatchObject({ status: 'fail', detail: '1 of 2 keys missing: reports/missing.json' });
    expect(byId.enough).toMatchObject({ status: 'pass' });
    expect(byId['too-few']).toMatchObject({
      status: 'fail',
      detail: 'only 2 objects under reports/, expected at least 3',
    });
  });
});

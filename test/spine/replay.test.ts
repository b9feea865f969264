import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli';
import { type Moto, startMoto } from '../support/engines';
import { FakeBackupApi } from '../support/fake-backup';
import { fixture } from '../support/fixtures';
import { jobFromEvent } from '../support/lifecycle-harness';

const dir = mkdtempSync(join(tmpdir(), 'rv-replay-'));
const BUCKET = 'awsbackup-restore-test-9c8b7a65';
let moto: Moto;
let fake: FakeBackupApi;

const run = runCli;

beforeAll(async () => {
  moto = await startMoto();
  fake = new FakeBackupApi();
  await fake.start();
  // The CLI uses the default credential chain and endpoints, as a user's shell would.
  process.env.AWS_ENDPOINT_URL_BACKUP = fake.endpoint;
  process.env.AWS_ENDPOINT_URL_S3 = moto.endpoint;
  const s3 = new S3Client({ endpoint: moto.endpoint, region: 'us-east-1', forcePathStyle: true });
  await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
  await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'a.txt', Body: 'a' }));
  const event = fixture('completed-s3.json');
  jobFromEvent(fake, event, { Metadata: { destinationBucketName: BUCKET } });
  writeFileSync(join(dir, 'event.json'), JSON.stringify(event));
  writeFileSync(
    join(dir, 'config.yaml'),
    'version: 1\nprofiles: [{name: docs, match: {resourceType: S3}, checks: [{id: has-a, keys: [a.txt]}]}]\n',
  );
});
afterAll(async () => {
  delete process.env.AWS_ENDPOINT_URL_BACKUP;
  delete process.env.AWS_ENDPOINT_URL_S3;
  await fake?.stop();
  await moto?.stop();
});

describe('restore-validation replay', () => {
  it('decides the verdict with --dry-run and reports nothing to AWS Backup', async () => {
    const r = await run([
      'replay',
      '--event',
      join(dir, 'event.json'),
      '--config',
      join(dir, 'config.yaml'),
      '--dry-run',
      '--json',
      '--evidence',
      join(dir, 'ev'),
    ]);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const json = JSON.parse(r.out);
    expect(Object.keys(json)).toEqual(['verdict', 'message', 'checks']);
    expect(json.verdict).toBe('SUCCESSFUL');
    expect(json.checks.map((c: { id: string }) => c.id)).toEqual(['restored-bucket', 'has-a']);
    expect(fake.count('PutRestoreValidationResult')).toBe(0);
    const day = readdirSync(join(dir, 'ev'))[0] ?? '';
    const record = JSON.parse(
      readFileSync(join(dir, 'ev', day, readdirSync(join(dir, 'ev', day))[0] ?? ''), 'utf8'),
    );
    expect(record).toMatchObject({
      mode: 'dry-run',
      reported: false,
      verdict: 'SUCCESSFUL',
      restoreTestingPlanName: 'nightly_restore_tests',
    });
  });

  it('replays a real job by --restore-job-id, the event built from DescribeRestoreJob', async () => {
    const r = await run([
      'replay',
      '--restore-job-id',
      String(fixture('completed-s3.json').detail.restoreJobId),
      '--region',
      'us-east-1',
      '--config',
      join(dir, 'config.yaml'),
      '--dry-run',
      '--json',
    ]);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const json = JSON.parse(r.out);
    expect(json.verdict).toBe('SUCCESSFUL');
    expect(json.checks.map((c: { id: string }) => c.id)).toEqual(['restored-bucket', 'has-a']);
    expect(fake.count('PutRestoreValidationResult')).toBe(0);
  });

  it('exits 2 naming the job when --restore-job-id names no job', async () => {
    const r = await run(['replay', '--restore-job-id', 'NO-SUCH-JOB', '--region', 'us-east-1', '--dry-run']);
    expect(r.code).toBe(2);
    expect(r.err).toContain('no restore job NO-SUCH-JOB in us-east-1');
  });

  it('posts the verdict without --dry-run, once', async () => {
    const first = await run([
      'replay',
      '--event',
      join(dir, 'event.json'),
      '--config',
      join(dir, 'config.yaml'),
    ]);
    expect(first.code).toBe(0);
    expect(first.out).toContain('SUCCESSFUL: 2 of 2 checks passed');
    const second = await run([
      'replay',
      '--event',
      join(dir, 'event.json'),
      '--config',
      join(dir, 'config.yaml'),
    ]);
    expect(second.code).toBe(2);
    expect(second.err).toContain('already-final');
    expect(fake.finalVerdicts()).toHaveLength(1);
  });
});

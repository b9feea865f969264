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

/** Replays the fixture event with the config file `config` of the test folder. */
const replayEvent = (config: string, ...flags: string[]) =>
  run(['replay', '--event', join(dir, 'event.json'), '--config', join(dir, config), ...flags]);

/** The first evidence record written to a local evidence folder (day folder, then job file). */
function firstRecord(folder: string) {
  const day = readdirSync(folder)[0] ?? '';
  const file = readdirSync(join(folder, day))[0] ?? '';
  return JSON.parse(readFileSync(join(folder, day, file), 'utf8'));
}

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
    const r = await replayEvent('config.yaml', '--dry-run', '--json', '--evidence', join(dir, 'ev'));
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const json = JSON.parse(r.out);
    expect(Object.keys(json)).toEqual(['verdict', 'message', 'checks']);
    expect(json.verdict).toBe('SUCCESSFUL');
    expect(json.checks.map((c: { id: string }) => c.id)).toEqual(['restored-bucket', 'has-a']);
    expect(fake.count('PutRestoreValidationResult')).toBe(0);
    const record = firstRecord(join(dir, 'ev'));
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

  it('takes the region from the event when the shell names none', async () => {
    const saved = { AWS_REGION: process.env.AWS_REGION, AWS_CONFIG_FILE: process.env.AWS_CONFIG_FILE };
    delete process.env.AWS_REGION;
    process.env.AWS_CONFIG_FILE = join(dir, 'no-such-aws-config');
    try {
      // Without the event's region there would be none at all (exit 3, "no AWS region").
      const r = await replayEvent('config.yaml', '--dry-run', '--json');
      expect(r.err).toBe('');
      expect(r.code).toBe(0);
      expect(JSON.parse(r.out).verdict).toBe('SUCCESSFUL');
    } finally {
      for (const [k, v] of Object.entries(saved)) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
    }
  });

  it('exits 2 naming the job when --restore-job-id names no job', async () => {
    const r = await run(['replay', '--restore-job-id', 'NO-SUCH-JOB', '--region', 'us-east-1', '--dry-run']);
    expect(r.code).toBe(2);
    expect(r.err).toContain('no restore job NO-SUCH-JOB in us-east-1');
  });

  it('judges the restore time against the objective: a miss is recorded, the verdict stands (onMiss: report)', async () => {
    // The fixture's job ran 22:00:05 → 22:41:53, 41.8 minutes.
    writeFileSync(
      join(dir, 'objectives.yaml'),
      'version: 1\ndefaults: { objectives: { rtoMinutes: 30, rpoMinutes: 120 } }\nprofiles: [{name: docs, match: {resourceType: S3}, checks: [{id: has-a, keys: [a.txt]}]}]\n',
    );
    const r = await replayEvent(
      'objectives.yaml',
      '--dry-run',
      '--json',
      '--evidence',
      join(dir, 'ev-objectives'),
    );
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out).verdict).toBe('SUCCESSFUL');
    const record = firstRecord(join(dir, 'ev-objectives'));
    expect(record.objectives).toEqual({
      onMiss: 'report',
      rto: { objectiveMinutes: 30, measuredMinutes: 41.8, met: false },
      rpo: { objectiveMinutes: 120, met: null },
    });
  });

  it('fails the verdict on a missed objective when the profile says onMiss: fail', async () => {
    writeFileSync(
      join(dir, 'objectives-fail.yaml'),
      'version: 1\ndefaults: { objectives: { rtoMinutes: 300 } }\nprofiles: [{name: docs, match: {resourceType: S3}, objectives: { rtoMinutes: 30, onMiss: fail }, checks: [{id: has-a, keys: [a.txt]}]}]\n',
    );
    const r = await replayEvent('objectives-fail.yaml', '--dry-run', '--json');
    expect(r.code).toBe(1);
    const json = JSON.parse(r.out);
    expect(json.verdict).toBe('FAILED');
    expect(json.checks).toContainEqual(
      expect.objectContaining({
        id: 'rto-objective',
        status: 'fail',
        detail: 'restore time 41.8 min exceeds the objective of 30 min',
      }),
    );
    expect(json.message).toMatch(/^1 of 3 checks failed\. rto-objective failed/);
  });

  it('posts the verdict without --dry-run, once', async () => {
    const first = await replayEvent('config.yaml');
    expect(first.code).toBe(0);
    expect(first.out).toContain('SUCCESSFUL: 2 of 2 checks passed');
    const second = await replayEvent('config.yaml');
    expect(second.code).toBe(2);
    expect(second.err).toContain('already-final');
    expect(fake.finalVerdicts()).toHaveLength(1);
  });
});

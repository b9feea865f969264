import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateTableCommand, DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { CreateBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { runCli } from '../support/cli';
import { type Moto, startMoto } from '../support/engines';
import { FakeBackupApi } from '../support/fake-backup';

const REGION = 'us-east-1';
const ACCOUNT = '123456789012';
const SOURCE = `arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/orders`;
const RESTORED = 'awsbackup-restore-test-orders';
const ROLE = `arn:aws:iam::${ACCOUNT}:role/restore`;
const MEDIA = 'arn:aws:s3:::media-prod';
const RESTORED_BUCKET = 'awsbackup-restore-test-media';

let moto: Moto;
let fake: FakeBackupApi;
const dir = mkdtempSync(join(tmpdir(), 'rv-run-test-'));
const config = join(dir, 'validation.config.yaml');

beforeAll(async () => {
  moto = await startMoto();
  vi.stubEnv('AWS_ENDPOINT_URL', moto.endpoint);
  vi.stubEnv('AWS_ACCESS_KEY_ID', 'testing');
  vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'testing');
  vi.stubEnv('AWS_REGION', REGION);
  const ddb = new DynamoDBClient({ endpoint: moto.endpoint, region: REGION });
  // What the restore would have made: the fake Backup API restores nothing, moto holds the table.
  await ddb.send(
    new CreateTableCommand({
      TableName: RESTORED,
      KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
      AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
      BillingMode: 'PAY_PER_REQUEST',
    }),
  );
  await ddb.send(new PutItemCommand({ TableName: RESTORED, Item: { pk: { S: 'ORDER#1' } } }));
  ddb.destroy();
  const s3 = new S3Client({ endpoint: moto.endpoint, region: REGION, forcePathStyle: true });
  await s3.send(new CreateBucketCommand({ Bucket: RESTORED_BUCKET }));
  await s3.send(new PutObjectCommand({ Bucket: RESTORED_BUCKET, Key: 'logo.png', Body: 'png' }));
  s3.destroy();
  writeFileSync(
    config,
    `version: 1
profiles:
  - name: orders-table
    match: { resourceType: [DynamoDB, DynamoDB.FullyManaged], sourceResourceArn: "${SOURCE}" }
    checks:
      - { id: not-empty, minItems: 1 }
      - { id: first-order, items: [{ pk: "ORDER#1" }] }
  - name: media
    match: { resourceType: S3, sourceResourceArn: "${MEDIA}" }
    checks:
      - { id: logo, keys: [logo.png] }
restoreTesting:
  iamRoleArn: ${ROLE}
  plans:
    - name: nightly
      selections:
        - name: orders
          resourceType: DynamoDB
          resourceArns: ["${SOURCE}"]
          overrides: { targetTableName: ${RESTORED} }
        - name: media
          resourceType: S3
          resourceArns: ["${MEDIA}"]
          overrides: { destinationBucketName: ${RESTORED_BUCKET} }
        - name: orders_unnamed
          resourceType: DynamoDB
          resourceArns: ["${SOURCE}"]
`,
  );
});

beforeEach(async () => {
  await fake?.stop();
  fake = new FakeBackupApi();
  fake.restoreTesting.addRecoveryPoint({
    RecoveryPointArn: `${SOURCE}/backup/01700000000000-abcdef`,
    ResourceArn: SOURCE,
    ResourceType: 'DynamoDB',
    BackupVaultName: 'main',
    CreationDate: new Date(Date.now() - 3_600_000),
    InferredMetadata: { targetTableName: 'orders-restored', encryptionType: 'Default' },
  });
  await fake.start();
  vi.stubEnv('AWS_ENDPOINT_URL_BACKUP', fake.endpoint);
});

afterAll(async () => {
  vi.unstubAllEnvs();
  await fake?.stop();
  await moto?.stop();
});

/** `restore-validation run-test` of the test config's plan nightly, selection `selection`. */
const runTest = (selection: string, ...flags: string[]) =>
  runCli(['run-test', '--config', config, '--plan', 'nightly', '--selection', selection, ...flags]);

describe('restore-validation run-test', () => {
  it('starts the restore with inferred metadata plus overrides, waits, validates and posts the verdict', async () => {
    const evidence = join(dir, 'evidence-posted');
    const r = await runTest('orders', '--poll-seconds', '0', '--json', '--evidence', evidence);
    expect(r.code).toBe(0);
    const out = JSON.parse(r.out) as { verdict: string; checks: Array<{ id: string; status: string }> };
    expect(out.verdict).toBe('SUCCESSFUL');
    expect(
      out.checks.filter((c) => ['not-empty', 'first-order'].includes(c.id)).map((c) => c.status),
    ).toEqual(['pass', 'pass']);
    const start = fake.calls.find((c) => c.operation === 'StartRestoreJob')?.body as {
      Metadata: Record<string, string>;
      IamRoleArn: string;
      ResourceType: string;
    };
    // The override wins over the inferred value; inferred keys without an override are kept.
    expect(start.Metadata).toEqual({ targetTableName: RESTORED, encryptionType: 'Default' });
    expect(start).toMatchObject({ IamRoleArn: ROLE, ResourceType: 'DynamoDB' });
    const [job] = [...fake.jobs.values()];
    expect(fake.finalVerdicts(job?.RestoreJobId)).toEqual([
      expect.objectContaining({ status: 'SUCCESSFUL' }),
    ]);
    // Progress is shown while waiting.
    expect(r.err).toMatch(/RUNNING 50\.00%[\s\S]*COMPLETED/);
    expect(readdirSync(evidence, { recursive: true }).some((f) => String(f).endsWith('.json'))).toBe(true);
  });

  it('validates without posting, and says so, when AWS Backup refuses verdicts for jobs not started by a plan', async () => {
    fake.restoreTesting.refuseValidationOfStartedJobs = true;
    const r = await runTest('orders', '--poll-seconds', '0');
    expect(r.code).toBe(0);
    expect(r.out).toContain('verdict not posted: evidence only');
    expect(r.out).toMatch(/SUCCESSFUL: /);
    expect(r.err).toMatch(/refused a validation result .*InvalidRequestException/);
    expect(fake.accepted).toEqual([]);
  });

  it('prints only the restore job id with --no-wait', async () => {
    const r = await runTest('orders', '--poll-seconds', '0', '--no-wait');
    expect(r.code).toBe(0);
    const [job] = [...fake.jobs.values()];
    expect(r.out.trim()).toBe(job?.RestoreJobId);
    expect(fake.count('DescribeRestoreJob')).toBe(0);
  });

  it('names the restored table like a restore test when nothing else does, so the safety guard accepts it', async () => {
    const r = await runTest('orders_unnamed', '--no-wait');
    expect(r.code).toBe(0);
    const start = fake.calls.find((c) => c.operation === 'StartRestoreJob')?.body as {
      Metadata: Record<string, string>;
    };
    // The inferred name (orders-restored) is replaced; the other inferred keys are kept.
    expect(start.Metadata).toEqual({
      targetTableName: expect.stringMatching(/^awsbackup-restore-test-[0-9a-f]{8}$/),
      encryptionType: 'Default',
    });
  });

  it('tags what a restore of another type made, and says so when the tagging API leaves it untagged', async () => {
    fake.restoreTesting.addRecoveryPoint({
      RecoveryPointArn: `arn:aws:backup:${REGION}:${ACCOUNT}:recovery-point:media-1`,
      ResourceArn: MEDIA,
      ResourceType: 'S3',
      BackupVaultName: 'main',
      CreationDate: new Date(Date.now() - 3_600_000),
    });
    const r = await runTest('media', '--poll-seconds', '0', '--json');
    // moto's TagResources cannot tag S3 and answers with FailedResourcesMap, as AWS does per resource.
    expect(r.err).toContain(
      `note: could not tag arn:aws:s3:::${RESTORED_BUCKET} awsbackup-restore-test (InternalServiceException: Service not yet supported)`,
    );
    // The restore-test name still lets the validators touch it.
    expect(JSON.parse(r.out)).toMatchObject({ verdict: 'SUCCESSFUL' });
    expect(r.code).toBe(0);
  });

  it('reports FAILED with the reason when the restore itself fails', async () => {
    fake.restoreTesting.failStartedJobsWith = 'Access denied to KMS key';
    const r = await runTest('orders', '--poll-seconds', '0', '--json');
    expect(r.code).toBe(1);
    expect(JSON.parse(r.out)).toMatchObject({
      verdict: 'FAILED',
      message: expect.stringContaining('Access denied to KMS key'),
    });
  });

  it('exits 2 for an unknown selection', async () => {
    const r = await runTest('nope');
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/no selection nope in plan nightly/);
  });
});

import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CloudFormationClient, CreateStackCommand } from '@aws-sdk/client-cloudformation';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runReport } from '../../bin/report/index';
import { EvidenceStore } from '../../shared/evidence-store';
import { makeRecords } from '../evidence/fixtures';
import { createEvidenceStore } from '../evidence/moto-tables';
import { runCli } from '../support/cli';
import { type Moto, startMoto } from '../support/engines';
import { motoEvidenceStore } from '../support/evidence-sink';

let moto: Moto;
let store: EvidenceStore;
let dir: string;

beforeAll(async () => {
  moto = await startMoto();
  ({ store } = await motoEvidenceStore(moto.endpoint, 'eu-west-1'));
  dir = mkdtempSync(join(tmpdir(), 'rv-report-store-'));
});
afterAll(async () => {
  await moto?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('report from the evidence store', () => {
  it('reports the indexed validations of the period and the latest coverage when no directory is given', async () => {
    const end = new Date();
    const records = makeRecords({ count: 40, resources: 8, days: 60, end, seed: 9 });
    for (const r of records) await store.put(r);
    // older than the report's 365-day period: left out
    const [old] = makeRecords({ count: 1, end: new Date(end.getTime() - 400 * 86_400_000), days: 1 });
    if (old) await store.put({ ...old, restoreJobId: 'OLD-1' });
    await store.putCoverage({
      generatedAt: end.toISOString(),
      lookbackHours: 192,
      untested: [
        {
          resourceArn: 'arn:aws:s3:::cold',
          resourceType: 'S3',
          restoreTestingPlanName: 'p',
          restoreTestingSelectionName: 's',
          reason: 'no job',
        },
      ],
      notEvaluated: [],
    });
    const out = join(dir, 'store.json');
    const err: string[] = [];
    const code = await runReport(
      { out },
      { stdout: () => {}, stderr: (l) => err.push(l) },
      { store, region: 'eu-west-1' },
    );
    expect(err).toEqual([]);
    expect(code).toBe(0);
    const json = JSON.parse(readFileSync(out, 'utf8'));
    expect(json.validations).toHaveLength(records.length);
    expect(json.source).toBe('evidence store s3://evidence');
    expect(json.untested.map((u: { resourceArn: string }) => u.resourceArn)).toEqual(['arn:aws:s3:::cold']);
    expect(json.validations[0].evidence).toMatch(
      /^https:\/\/eu-west-1\.console\.aws\.amazon\.com\/s3\/object\/evidence\?prefix=evidence%2F\d{4}-\d{2}-\d{2}%2F/,
    );
  });

  it('covers every member account in one report when the bucket is a central evidence account', async () => {
    const s3 = new S3Client({ endpoint: moto.endpoint, forcePathStyle: true, region: 'eu-west-1' });
    const dynamodb = new DynamoDBClient({ endpoint: moto.endpoint, region: 'eu-west-1' });
    await createEvidenceStore(s3, dynamodb, 'org-evidence', 'org-index');
    const at = (prefix: string) =>
      new EvidenceStore({ s3, dynamodb, bucket: 'org-evidence', table: 'org-index', prefix });
    const end = new Date();
    for (const [i, account] of ['111111111111', '222222222222'].entries()) {
      const member = at(`${account}/eu-west-1/`);
      for (const r of makeRecords({ count: 3, resources: 2, days: 10, end, seed: 20 + i }))
        await member.put({ ...r, restoreJobId: `${account}-${r.restoreJobId}`, accountId: account });
      await member.putCoverage({
        generatedAt: end.toISOString(),
        accountId: account,
        region: 'eu-west-1',
        lookbackHours: 192,
        untested: [
          {
            resourceArn: `arn:aws:s3:::never-tested-${account}`,
            resourceType: 'S3',
            restoreTestingPlanName: 'weekly',
            restoreTestingSelectionName: 'buckets',
            reason: 'no restore job in the look-back period',
          },
        ],
        notEvaluated: [],
      });
    }
    const out = join(dir, 'org.html');
    const code = await runReport(
      { out },
      { stdout: () => {}, stderr: () => {} },
      { store: at('evidence/'), region: 'eu-west-1' },
    );
    expect(code).toBe(0);
    const html = readFileSync(out, 'utf8');
    expect(html).toContain('<th>Account</th>');
    expect(html.match(/<td class="id">111111111111<\/td>/g)).toHaveLength(3);
    expect(html.match(/<td class="id">222222222222<\/td>/g)).toHaveLength(3);
    expect(html).toContain('never-tested-111111111111');
    expect(html).toContain('never-tested-222222222222');
    // a one-account report has no account column
    const single = join(dir, 'single.html');
    expect(await runReport({ out: single }, { stdout: () => {}, stderr: () => {} }, { store })).toBe(0);
    expect(readFileSync(single, 'utf8')).not.toContain('<th>Account</th>');
  });
});

describe('report from the deployed stack, as the CLI finds it', () => {
  const env = ['AWS_ENDPOINT_URL_CLOUDFORMATION', 'AWS_ENDPOINT_URL_S3', 'AWS_ENDPOINT_URL_DYNAMODB'];
  beforeAll(async () => {
    for (const k of env) process.env[k] = moto.endpoint;
    const cfn = new CloudFormationClient({ endpoint: moto.endpoint, region: 'eu-west-1' });
    await cfn.send(
      new CreateStackCommand({
        StackName: 'RV-Audit',
        TemplateBody: JSON.stringify({
          Resources: { Topic: { Type: 'AWS::SNS::Topic' } },
          Outputs: {
            OperationsEvidenceBucketName1A2B: { Value: 'evidence' },
            OperationsEvidenceTableName3C4D: { Value: 'evidence-index' },
          },
        }),
      }),
    );
  });
  afterAll(() => {
    for (const k of env) delete process.env[k];
  });

  it('reads the evidence store named by --stack-name for --from/--to, with each record’s SHA-256', async () => {
    const end = new Date('2025-03-20T00:00:00Z');
    const records = makeRecords({ count: 12, resources: 3, days: 10, end, seed: 31 }).map((r) => ({
      ...r,
      restoreJobId: `RANGE-${r.restoreJobId}`,
    }));
    for (const r of records) await store.put(r);
    const out = join(dir, 'range.json');
    const r = await runCli([
      'report',
      '--stack-name',
      'RV-Audit',
      '--region',
      'eu-west-1',
      '--from',
      '2025-03-15T00:00:00Z',
      '--to',
      '2025-03-20T00:00:00Z',
      '--out',
      out,
    ]);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toContain('(from evidence store s3://evidence)');
    const json = JSON.parse(readFileSync(out, 'utf8'));
    const expected = records.filter(
      (v) =>
        v.validationFinishedAt >= '2025-03-15T00:00:00Z' && v.validationFinishedAt < '2025-03-20T00:00:00Z',
    );
    expect(expected.length).toBeGreaterThan(2);
    expect(expected.length).toBeLessThan(records.length);
    expect(json.validations.map((v: { restoreJobId: string }) => v.restoreJobId).sort()).toEqual(
      expected.map((v) => v.restoreJobId).sort(),
    );
    // the index keeps the SHA-256 of the S3 object's bytes
    const first = json.validations[0];
    const s3 = new S3Client({ endpoint: moto.endpoint, forcePathStyle: true, region: 'eu-west-1' });
    const body = await (
      await s3.send(new GetObjectCommand({ Bucket: 'evidence', Key: first.location }))
    ).Body?.transformToString();
    expect(first.sha256).toBe(
      createHash('sha256')
        .update(body ?? '')
        .digest('hex'),
    );
  });

  it('says which stack and region it tried, and what to set, when there is no evidence store', async () => {
    const r = await runCli([
      'report',
      '--stack-name',
      'NoSuchStack',
      '--region',
      'eu-west-1',
      '--out',
      join(dir, 'x.html'),
    ]);
    expect(r.code).toBe(3);
    expect(r.err).toContain('tried the deployed stack NoSuchStack in eu-west-1');
    expect(r.err).toContain('pass --evidence DIR for local evidence files, --stack-name NAME');
    expect(r.err).toContain('or set EVIDENCE_BUCKET and EVIDENCE_TABLE');
  });
});

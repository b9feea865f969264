import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runReport } from '../../bin/report';
import { EvidenceStore } from '../../shared/evidence-store';
import { makeRecords } from '../evidence/fixtures';
import { createEvidenceStore } from '../evidence/moto-tables';
import { type Moto, startMoto } from '../support/engines';

let moto: Moto;
let store: EvidenceStore;
let dir: string;

beforeAll(async () => {
  moto = await startMoto();
  const s3 = new S3Client({ endpoint: moto.endpoint, forcePathStyle: true, region: 'eu-west-1' });
  const dynamodb = new DynamoDBClient({ endpoint: moto.endpoint, region: 'eu-west-1' });
  await createEvidenceStore(s3, dynamodb, 'evidence', 'evidence-index');
  store = new EvidenceStore({
    s3,
    dynamodb,
    bucket: 'evidence',
    table: 'evidence-index',
    prefix: 'evidence/',
  });
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

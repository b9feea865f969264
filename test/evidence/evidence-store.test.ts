import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runtimeSettings } from '../../shared/env';
import { EvidenceStore, putEvidence } from '../../shared/evidence-store';
import { type Moto, startMoto } from '../support/engines';
import { motoEvidenceStore } from '../support/evidence-sink';
import { makeRecord, makeRecords } from './fixtures';
import { createEvidenceStore } from './moto-tables';

let moto: Moto;
let s3: S3Client;
let dynamodb: DynamoDBClient;
let store: EvidenceStore;

beforeAll(async () => {
  moto = await startMoto();
  ({ store, s3, dynamodb } = await motoEvidenceStore(moto.endpoint));
});
afterAll(async () => {
  await moto?.stop();
});

describe('EvidenceStore', () => {
  it('reads back the exact record when one was put', async () => {
    const record = makeRecord(1, { count: 10 });
    const put = await store.put(record);
    expect(put).toEqual({
      key: `evidence/${record.validationFinishedAt.slice(0, 10)}/${record.restoreJobId}.json`,
      index: 'written',
    });
    expect(await store.get(record.restoreJobId)).toEqual(JSON.parse(JSON.stringify(record)));
    const summary = await store.getSummary(record.restoreJobId);
    expect(summary).toMatchObject({
      verdict: record.verdict,
      location: put.key,
      month: record.validationFinishedAt.slice(0, 7),
    });
  });

  it('keeps the newer record when an older one is put after it', async () => {
    const newer = {
      ...makeRecord(2, { count: 10 }),
      verdict: 'FAILED' as const,
      validationFinishedAt: '2026-11-20T10:00:00.000Z',
    };
    const older = {
      ...newer,
      verdict: 'DEFERRED' as const,
      validationFinishedAt: '2026-11-20T09:00:00.000Z',
    };
    expect((await store.put(newer)).index).toBe('written');
    expect((await store.put(older)).index).toBe('stale');
    expect((await store.getSummary(newer.restoreJobId))?.verdict).toBe('FAILED');
  });

  it('indexes only the first writer when onlyIfAbsent is set', async () => {
    const record = makeRecord(3, { count: 10 });
    const [a, b] = await Promise.all([
      store.put(record, { onlyIfAbsent: true }),
      store.put(record, { onlyIfAbsent: true }),
    ]);
    expect([a.index, b.index].sort()).toEqual(['exists', 'written']);
  });

  it('queries by resource, plan and date range when many records are stored', async () => {
    const records = makeRecords({
      count: 60,
      resources: 6,
      days: 90,
      end: new Date('2026-10-31T00:00:00Z'),
      seed: 7,
    });
    const fresh = new EvidenceStore({
      s3,
      dynamodb,
      bucket: 'evidence',
      table: 'evidence-index',
      prefix: 'q/',
    });
    for (const r of records) await fresh.put({ ...r, restoreJobId: `Q-${r.restoreJobId}` });
    const resource = records[0]?.sourceResourceArn ?? '';
    const byResource = await fresh.queryByResource(resource);
    expect(byResource.map((i) => i.restoreJobId)).toEqual(
      records.filter((r) => r.sourceResourceArn === resource).map((r) => `Q-${r.restoreJobId}`),
    );

    const plan = records[1]?.restoreTestingPlanArn ?? '';
    const from = '2026-09-15T00:00:00.000Z';
    const byPlan = await fresh.queryByPlan(plan, { from });
    const expectedPlan = records.filter(
      (r) => r.restoreTestingPlanArn === plan && r.validationFinishedAt >= from,
    );
    expect(byPlan.filter((i) => i.restoreJobId.startsWith('Q-'))).toHaveLength(expectedPlan.length);
    expect(expectedPlan.length).toBeGreaterThan(0);

    const range = { from: '2026-08-20T00:00:00.000Z', to: '2026-10-10T00:00:00.000Z' };
    const byDate = (await fresh.queryByDate(range)).filter((i) => i.restoreJobId.startsWith('Q-'));
    const expectedDate = records.filter(
      (r) => r.validationFinishedAt >= range.from && r.validationFinishedAt < range.to,
    );
    expect(byDate.map((i) => i.restoreJobId).sort()).toEqual(
      expectedDate.map((r) => `Q-${r.restoreJobId}`).sort(),
    );
    // spans three calendar months, so three partitions were read
    expect(new Set(byDate.map((i) => i.month)).size).toBe(3);
  });

  it('reports which jobs have evidence when asked for more than one batch', async () => {
    const ids = Array.from({ length: 230 }, (_, i) => `NOPE-${i}`);
    const record = makeRecord(4, { count: 10 });
    await store.put(record);
    ids.push(record.restoreJobId);
    expect([...(await store.existing(ids))]).toEqual([record.restoreJobId]);
  });

  it('indexes and finds evidence when the table is named by its ARN, as member accounts name the central table', async () => {
    const byArn = new EvidenceStore({
      s3,
      dynamodb,
      bucket: 'evidence',
      table: 'arn:aws:dynamodb:us-east-1:123456789012:table/evidence-index',
      prefix: '222222222222/eu-west-1/',
    });
    const record = makeRecord(5, { count: 10 });
    const put = await byArn.put(record);
    expect(put).toEqual({ key: expect.stringMatching(/^222222222222\/eu-west-1\//), index: 'written' });
    expect([...(await byArn.existing(['NOPE-1', record.restoreJobId]))]).toEqual([record.restoreJobId]);
    // the same item, seen through the table's name in the central account
    expect((await store.getSummary(record.restoreJobId))?.location).toBe(put.key);
  });

  it('grants a claim to exactly one of two concurrent callers', async () => {
    const results = await Promise.all([store.claim('dispatch#J1', 600), store.claim('dispatch#J1', 600)]);
    expect(results.filter(Boolean)).toHaveLength(1);
    // an expired claim is free again
    expect(await store.claim('dispatch#J1', 600, new Date(Date.now() + 3_600_000))).toBe(true);
    // claims never look like evidence
    expect(await store.existing(['claim#dispatch#J1'])).toEqual(new Set());
  });

  it('writes coverage reports and returns the latest', async () => {
    await store.putCoverage({
      generatedAt: '2026-11-01T00:00:00.000Z',
      lookbackHours: 192,
      untested: [],
      notEvaluated: [],
    });
    await store.putCoverage({
      generatedAt: '2026-11-02T00:00:00.000Z',
      lookbackHours: 192,
      untested: [
        {
          resourceArn: 'arn:x',
          resourceType: 'RDS',
          restoreTestingPlanName: 'p',
          restoreTestingSelectionName: 's',
          reason: 'no job',
        },
      ],
      notEvaluated: [],
    });
    expect((await store.latestCoverage())?.untested).toHaveLength(1);
  });
});

describe('putEvidence', () => {
  it('merges the latest coverage of every member account and region for an organization report', async () => {
    await createEvidenceStore(s3, dynamodb, 'org-evidence', 'org-index');
    const at = (prefix: string) =>
      new EvidenceStore({ s3, dynamodb, bucket: 'org-evidence', table: 'org-index', prefix });
    const untested = (arn: string) => ({
      resourceArn: arn,
      resourceType: 'RDS',
      restoreTestingPlanName: 'weekly',
      restoreTestingSelectionName: 'dbs',
      reason: 'no restore job in the look-back period',
    });
    const report = (generatedAt: string, accountId: string, region: string, arns: string[]) => ({
      generatedAt,
      accountId,
      region,
      lookbackHours: 192,
      untested: arns.map(untested),
      notEvaluated: [],
    });
    const a = at('111111111111/eu-west-1/');
    await a.putCoverage(report('2026-11-20T10:00:00.000Z', '111111111111', 'eu-west-1', ['arn:old-a']));
    await a.putCoverage(report('2026-11-25T10:00:00.000Z', '111111111111', 'eu-west-1', ['arn:a']));
    await at('111111111111/us-east-1/').putCoverage(
      report('2026-11-25T09:30:00.000Z', '111111111111', 'us-east-1', ['arn:a-us']),
    );
    await at('222222222222/eu-west-1/').putCoverage(
      report('2026-11-25T10:05:00.000Z', '222222222222', 'eu-west-1', []),
    );
    // the central stack's own validators and reconciler
    const central = at('evidence/');
    await central.putCoverage(report('2026-11-25T10:10:00.000Z', '999999999999', 'eu-west-1', ['arn:c']));
    // an evidence record is not a coverage report and has no say
    await a.put(makeRecord(9, { count: 10 }));

    const merged = await central.organizationCoverage();
    expect(merged?.untested.map((u) => u.resourceArn).sort()).toEqual(['arn:a', 'arn:a-us', 'arn:c']);
    expect(merged?.generatedAt).toBe('2026-11-25T09:30:00.000Z'); // the oldest of the latest
    expect(merged?.accountId).toBeUndefined();
    // a member's own report is still its own
    expect((await a.latestCoverage())?.untested.map((u) => u.resourceArn)).toEqual(['arn:a']);
  });

  it('does nothing when no bucket is configured', async () => {
    expect(await putEvidence({ s3 }, {}, makeRecord(5, { count: 10 }))).toBeUndefined();
  });

  it('writes under EVIDENCE_PREFIX when the runtime settings carry it', async () => {
    const record = makeRecord(7, { count: 10 });
    const put = await putEvidence(
      { s3, dynamodb },
      runtimeSettings({
        EVIDENCE_BUCKET: 'evidence',
        EVIDENCE_TABLE: 'evidence-index',
        EVIDENCE_PREFIX: 'evidence/',
      }),
      record,
    );
    expect(put?.key).toBe(`evidence/${record.validationFinishedAt.slice(0, 10)}/${record.restoreJobId}.json`);
    expect(put?.index).toBe('written');
  });

  it('writes the S3 object only when no table is configured', async () => {
    const record = makeRecord(6, { count: 10 });
    const put = await putEvidence({ s3, dynamodb }, { evidenceBucket: 'evidence' }, record);
    expect(put?.index).toBe('no-index');
    const obj = await s3.send(new GetObjectCommand({ Bucket: 'evidence', Key: put?.key }));
    expect(JSON.parse((await obj.Body?.transformToString()) ?? '{}').restoreJobId).toBe(record.restoreJobId);
  });
});

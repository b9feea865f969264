import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BrowserContext, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveOutput, runReport } from '../../bin/report/index';
import { csvCell } from '../../bin/report/render';
import { type EvidenceRecord, writeEvidenceFile } from '../../shared/evidence';
import type { CoverageReport } from '../../shared/evidence-store';
import { makeRecords } from '../evidence/fixtures';

const COUNT = 1_000;
/** Runs in the page (the test's tsconfig has no DOM lib, hence the cast). */
const backgroundOf = (el: unknown): string =>
  (globalThis as unknown as { getComputedStyle(e: unknown): { backgroundColor: string } }).getComputedStyle(
    el,
  ).backgroundColor;
let dir: string;
let browser: BrowserContext;
let page: Page;
const io = { out: [] as string[], err: [] as string[] };
const capture = { stdout: (l: string) => io.out.push(l), stderr: (l: string) => io.err.push(l) };
const records = makeRecords({ count: COUNT, resources: 60, days: 120, seed: 3 });
const coverage: CoverageReport = {
  generatedAt: '2026-11-24T06:00:00.000Z',
  lookbackHours: 192,
  untested: [
    {
      resourceArn: 'arn:aws:rds:us-east-1:123456789012:db:billing-legacy',
      resourceType: 'RDS',
      restoreTestingPlanName: 'nightly_restore_tests',
      restoreTestingSelectionName: 'rds_all',
      reason: 'no recovery point in the last 192 h (last backup never)',
    },
    {
      resourceArn: 'arn:aws:s3:::audit-<archive>',
      resourceType: 'S3',
      restoreTestingPlanName: 'weekly_restore_tests',
      restoreTestingSelectionName: 's3_all',
      reason: 'no restore job in the last 192 h although a recovery point exists',
    },
  ],
  notEvaluated: [],
  unwatched: [
    {
      region: 'ap-south-1',
      restoreJobId: 'AP-1',
      resourceType: 'EBS',
      status: 'COMPLETED',
      completedAt: '2026-11-23T10:00:00.000Z',
    },
  ],
};

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'rv-report-'));
  const evidence = join(dir, 'evidence');
  for (const r of records) writeEvidenceFile(evidence, r);
  mkdirSync(join(evidence, 'coverage'), { recursive: true });
  writeFileSync(join(evidence, 'coverage', 'latest.json'), JSON.stringify(coverage));
  writeFileSync(join(evidence, 'notes.json'), '{"hello":"world"}');
  // A new, empty profile directory per run (playwright passes it as --user-data-dir).
  browser = await chromium.launchPersistentContext(mkdtempSync(join(tmpdir(), 'rv-chromium-')), {
    executablePath: '/usr/bin/chromium',
    headless: true,
    viewport: { width: 1280, height: 900 },
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
  page = await browser.newPage();
});
afterAll(async () => {
  await browser?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('report', () => {
  it('renders every validation, the charts and the untested resources when given 1,000 evidence files', async () => {
    const out = join(dir, 'report.html');
    expect(await runReport({ evidence: join(dir, 'evidence'), out }, capture)).toBe(0);
    expect(io.err).toEqual(['report: skipped notes.json: not an evidence record or coverage report']);
    const requests: string[] = [];
    page.on('request', (r) => {
      if (!r.url().startsWith('file:')) requests.push(r.url());
    });
    await page.goto(`file://${out}`);

    await expect(page.locator('#validations tbody tr').count()).resolves.toBe(COUNT);
    const failed = records.filter((r) => r.verdict === 'FAILED').length;
    expect(failed).toBeGreaterThan(20);
    await expect(page.locator('#validations tbody tr.verdict-failed').count()).resolves.toBe(failed);
    await expect(page.locator('#validations tbody tr.verdict-failed').first().isVisible()).resolves.toBe(
      true,
    );
    // failed rows are highlighted, successful ones are not
    const failedBg = await page.locator('tr.verdict-failed td').first().evaluate(backgroundOf);
    const okBg = await page.locator('tr.verdict-successful td').first().evaluate(backgroundOf);
    expect(failedBg).not.toBe(okBg);

    // charts: one bar group per period, bars for failures, the rate line, one bar per resource
    const periods = await page.locator('svg.chart-pass-rate g.period').count();
    expect(periods).toBeGreaterThan(10);
    await expect(page.locator('svg.chart-pass-rate rect.bar-bad').count()).resolves.toBeGreaterThan(5);
    await expect(page.locator('svg.chart-pass-rate polyline.rate').count()).resolves.toBe(1);
    await expect(page.locator('svg.chart-restore-time g.resource').count()).resolves.toBe(40);
    await expect(page.locator('svg.chart-data-age g.resource').count()).resolves.toBe(30);
    const box = await page.locator('svg.chart-pass-rate').boundingBox();
    expect(box?.width).toBeGreaterThan(600);
    expect(box?.height).toBeGreaterThan(150);

    // the untested resources are listed, with markup escaped
    await expect(page.locator('#untested-table tbody tr').count()).resolves.toBe(2);
    await expect(page.locator('#untested-table').textContent()).resolves.toContain(
      'arn:aws:s3:::audit-<archive>',
    );

    // links open the evidence file of that row
    const firstLink = page.locator('#validations tbody tr a').first();
    const href = await firstLink.getAttribute('href');
    const newest = [...records].sort((a, b) => (a.validationFinishedAt < b.validationFinishedAt ? 1 : -1))[0];
    expect(href).toBe(`evidence/${newest?.validationFinishedAt.slice(0, 10)}/${newest?.restoreJobId}.json`);
    expect(JSON.parse(readFileSync(join(dir, href ?? ''), 'utf8')).restoreJobId).toBe(newest?.restoreJobId);

    // the "only failed" filter hides successful rows
    await page.locator('#only-failed').check();
    await expect(page.locator('#validations tbody tr.verdict-successful').first().isVisible()).resolves.toBe(
      false,
    );
    await expect(page.locator('#validations tbody tr.verdict-failed').first().isVisible()).resolves.toBe(
      true,
    );
    await page.locator('#only-failed').uncheck();
    await page.evaluate('window.scrollTo(0, 0)');

    // self-contained: no request left the file
    expect(requests).toEqual([]);
    // The top of the report as a person sees it (for a look, not an assertion). A viewport this tall
    // instead of fullPage: a full-page capture lays out all 1,000 rows and took over 30 s once.
    await page.setViewportSize({ width: 1280, height: 1700 });
    await page.screenshot({ path: join(tmpdir(), 'rv-report-screenshot.png') });
  });

  it('writes the same validations as CSV and JSON when asked', async () => {
    expect(await runReport({ evidence: join(dir, 'evidence'), out: join(dir, 'r.csv') }, capture)).toBe(0);
    const csv = readFileSync(join(dir, 'r.csv'), 'utf8').trim().split('\n');
    expect(csv[0]).toMatch(/^finishedAt,restoreJobId,resourceType,/);
    expect(csv).toHaveLength(1 + COUNT + coverage.untested.length);
    expect(csv.filter((l) => l.includes(',FAILED,'))).toHaveLength(
      records.filter((r) => r.verdict === 'FAILED').length,
    );
    expect(csv.at(-1)).toContain('NOT_TESTED');

    expect(
      await runReport({ evidence: join(dir, 'evidence'), out: join(dir, 'r.html'), format: 'json' }, capture),
    ).toBe(0);
    const json = JSON.parse(readFileSync(join(dir, 'r.json'), 'utf8'));
    expect(json.validations).toHaveLength(COUNT);
    expect(json.summary.failed).toBe(records.filter((r) => r.verdict === 'FAILED').length);
    expect(json.untested).toHaveLength(2);
    expect(json.validations[0].evidence).toMatch(/^evidence\/\d{4}-\d{2}-\d{2}\/.+\.json$/);
  });

  it('keeps only the latest record of a job when it was validated twice', async () => {
    const d = mkdtempSync(join(tmpdir(), 'rv-report-dup-'));
    const [a] = makeRecords({ count: 1, verdict: 'SUCCESSFUL' });
    if (!a) throw new Error('fixture');
    writeEvidenceFile(d, { ...a, verdict: 'DEFERRED', validationFinishedAt: '2026-11-01T10:00:00.000Z' });
    writeEvidenceFile(d, { ...a, verdict: 'SUCCESSFUL', validationFinishedAt: '2026-11-02T10:00:00.000Z' });
    expect(await runReport({ evidence: d, out: join(d, 'r.json') }, capture)).toBe(0);
    const json = JSON.parse(readFileSync(join(d, 'r.json'), 'utf8'));
    expect(json.validations.map((v: { verdict: string }) => v.verdict)).toEqual(['SUCCESSFUL']);
    rmSync(d, { recursive: true, force: true });
  });

  it('exits 2 with a reason when the evidence directory does not exist', async () => {
    io.err.length = 0;
    expect(await runReport({ evidence: join(dir, 'nope'), out: join(dir, 'x.html') }, capture)).toBe(2);
    expect(io.err).toEqual([`report: --evidence ${join(dir, 'nope')} is not a directory`]);
  });
});

describe('report for an auditor', () => {
  const ARN_A = 'arn:aws:rds:us-east-1:123456789012:db:orders';
  const ARN_B = 'arn:aws:rds:us-east-1:123456789012:db:billing';
  const base = makeRecords({ count: 1, verdict: 'SUCCESSFUL' })[0] as EvidenceRecord;
  const record = (over: Partial<EvidenceRecord>): EvidenceRecord => ({ ...base, ...over });
  // orders: a good 4-minute-old copy, then a damaged one 72 h old that missed the RPO objective
  const good = record({
    restoreJobId: 'JOB-GOOD',
    sourceResourceArn: ARN_A,
    verdict: 'SUCCESSFUL',
    validationFinishedAt: '2026-11-20T10:00:00.000Z',
    restoreDurationSeconds: 600,
    dataAgeMinutes: 4,
    objectives: {
      onMiss: 'report',
      rto: { objectiveMinutes: 30, measuredMinutes: 10, met: true },
      rpo: { objectiveMinutes: 60, measuredMinutes: 4, met: true },
    },
  });
  const damaged = record({
    restoreJobId: 'JOB-DAMAGED',
    sourceResourceArn: ARN_A,
    verdict: 'FAILED',
    message: '=HYPERLINK("http://evil.example","click")',
    validationFinishedAt: '2026-11-22T10:00:00.000Z',
    restoreDurationSeconds: 900,
    dataAgeMinutes: 4320,
    objectives: {
      onMiss: 'report',
      rto: { objectiveMinutes: 30, measuredMinutes: 15, met: true },
      rpo: { objectiveMinutes: 60, measuredMinutes: 4320, met: false },
    },
    checks: [
      { id: 'orders-present', status: 'pass', detail: 'n = 18234', durationMs: 12 },
      {
        id: 'orders-fresh',
        status: 'fail',
        detail: 'newest row is 72 h older than the recovery point, allowed 90 min',
        durationMs: 9,
      },
    ],
  });
  const billing = record({
    restoreJobId: 'JOB-BILLING',
    sourceResourceArn: ARN_B,
    verdict: 'FAILED',
    validationFinishedAt: '2026-11-23T10:00:00.000Z',
  });
  const sha = (file: string | undefined) =>
    createHash('sha256')
      .update(readFileSync(file ?? ''))
      .digest('hex');
  let d: string;
  let files: Record<string, string>;
  beforeAll(() => {
    d = mkdtempSync(join(tmpdir(), 'rv-report-audit-'));
    files = Object.fromEntries(
      [good, damaged, billing].map((r) => [r.restoreJobId, writeEvidenceFile(join(d, 'evidence'), r)]),
    );
    writeFileSync(
      join(d, 'evidence', 'coverage.json'),
      JSON.stringify({
        ...coverage,
        untested: [],
        unwatched: [],
        notEvaluated: ['weekly_restore_tests/by_tag'],
      }),
    );
  });
  afterAll(() => rmSync(d, { recursive: true, force: true }));

  it('shows the last successful validation per resource with its age, objectives, hash and per-check detail', async () => {
    const out = join(d, 'audit.html');
    expect(await runReport({ evidence: join(d, 'evidence'), out }, capture)).toBe(0);
    await page.goto(`file://${out}`);

    // the per-resource table of the last successful validation
    const rows = page.locator('#last-successful-table tbody tr');
    await expect(rows.count()).resolves.toBe(2);
    const orders = rows.filter({ hasText: ARN_A });
    await expect(orders.locator('td').nth(2).textContent()).resolves.toBe('2026-11-20 10:00');
    await expect(orders.locator('td.age').textContent()).resolves.toMatch(/^\d+(\.\d)? d$/);
    await expect(orders.locator('td').nth(4).textContent()).resolves.toBe('10 min / 30 min');
    await expect(orders.locator('td').nth(5).textContent()).resolves.toBe('4 min / 60 min');
    await expect(orders.locator('code.sha').textContent()).resolves.toBe(sha(files['JOB-GOOD']));
    await expect(rows.filter({ hasText: ARN_B }).textContent()).resolves.toContain(
      'none: 1 validation, last FAILED',
    );

    // a missed objective is red, in the validations table, with the objective beside it
    const damagedRow = page.locator('#validations tbody tr').filter({ hasText: 'JOB-DAMAGED' });
    const miss = damagedRow.locator('td.miss');
    await expect(miss.textContent()).resolves.toBe('3.0 d / 60 min, missed');
    await expect(miss.evaluate(backgroundOf)).resolves.toBe('rgb(255, 235, 233)');
    await expect(damagedRow.locator('code.sha').textContent()).resolves.toBe(sha(files['JOB-DAMAGED']));
    // per-check detail, failed first, in place of the truncated message
    await expect(damagedRow.locator('ul.checks li').allTextContents()).resolves.toEqual([
      'orders-fresh fail: newest row is 72 h older than the recovery point, allowed 90 min',
      'orders-present pass: n = 18234',
    ]);

    // medians over successful validations only; misses counted
    await expect(page.locator('#tile-median-age b').textContent()).resolves.toBe('4 min');
    await expect(page.locator('#tile-objectives b').textContent()).resolves.toBe('1');
    // the large data age gets a days axis; every tick and bar label has its unit
    const ageLabels = await page.locator('svg.chart-data-age text').allTextContents();
    expect(ageLabels).toContain('data age at the recovery point (days)');
    expect(ageLabels.filter((t) => /^\d+(\.\d)? d$/.test(t)).length).toBeGreaterThanOrEqual(6);
    const axisTitles = await page.locator('svg.chart-pass-rate text.axis-title').allTextContents();
    expect(axisTitles).toEqual(['validations', 'pass rate %', 'day (UTC, MM-DD)']);

    // selections that could not be evaluated are listed, not dropped
    await expect(page.locator('#not-evaluated-table tbody tr').allTextContents()).resolves.toEqual([
      'weekly_restore_tests/by_tag',
    ]);
  });

  it('keeps not-evaluated selections, objectives, hashes and check detail in CSV and JSON, formulas defused', async () => {
    expect(await runReport({ evidence: join(d, 'evidence'), out: join(d, 'a.csv') }, capture)).toBe(0);
    const csv = readFileSync(join(d, 'a.csv'), 'utf8');
    expect(csv).toContain(',NOT_EVALUATED,');
    expect(csv).toContain('weekly_restore_tests/by_tag');
    expect(csv).toContain(`"'=HYPERLINK(""http://evil.example"",""click"")"`);
    expect(csv).toContain(',60,false,');
    expect(csv).toContain(sha(files['JOB-DAMAGED']));
    expect(csv).toContain('orders-fresh fail: newest row is 72 h older');

    expect(await runReport({ evidence: join(d, 'evidence'), out: join(d, 'a.json') }, capture)).toBe(0);
    const json = JSON.parse(readFileSync(join(d, 'a.json'), 'utf8'));
    expect(json.notEvaluated).toEqual(['weekly_restore_tests/by_tag']);
    expect(json.summary).toMatchObject({
      notEvaluated: 1,
      untested: 0,
      objectivesMissed: 1,
      medianDataAgeMinutes: 4,
    });
    const orders = json.resources.find((r: { resourceArn: string }) => r.resourceArn === ARN_A);
    expect(orders.lastSuccessful).toMatchObject({
      restoreJobId: 'JOB-GOOD',
      rpoObjectiveMinutes: 60,
      rpoMet: true,
    });
  });

  it('says "unknown", not 0, for never-tested resources when no coverage report exists', async () => {
    const e = mkdtempSync(join(tmpdir(), 'rv-report-nocov-'));
    writeEvidenceFile(e, good);
    io.out.length = 0;
    expect(await runReport({ evidence: e, out: join(e, 'r.html') }, capture)).toBe(0);
    expect(io.out.at(-1)).toContain('resources never tested: unknown (no coverage report)');
    await page.goto(`file://${join(e, 'r.html')}`);
    await expect(page.locator('#tile-untested b').textContent()).resolves.toBe('unknown');
    await expect(page.locator('#coverage-unknown').textContent()).resolves.toMatch(
      /^Unknown: no coverage report/,
    );
    expect(await runReport({ evidence: e, out: join(e, 'r.json') }, capture)).toBe(0);
    expect(JSON.parse(readFileSync(join(e, 'r.json'), 'utf8')).summary.untested).toBeNull();
    rmSync(e, { recursive: true, force: true });
  });
});

describe('csvCell', () => {
  it('defuses formula-leading text as OWASP describes, tab and carriage return included', () => {
    expect(csvCell('=1+1')).toBe("'=1+1");
    expect(csvCell('+1')).toBe("'+1");
    expect(csvCell('-2')).toBe("'-2");
    expect(csvCell('@SUM(A1)')).toBe("'@SUM(A1)");
    expect(csvCell('\t=1+1')).toBe("'\t=1+1");
    expect(csvCell('\r=1+1')).toBe(`"'\r=1+1"`);
    expect(csvCell('a,"b"')).toBe('"a,""b"""');
    expect(csvCell(-5)).toBe('-5');
    expect(csvCell(false)).toBe('false');
    expect(csvCell(undefined)).toBe('');
  });
});

describe('resolveOutput', () => {
  it('follows the extension when no format is given and fixes the default name when one is', () => {
    expect(resolveOutput({ out: '/tmp/a.csv' })).toEqual({ out: '/tmp/a.csv', format: 'csv' });
    expect(resolveOutput({ out: '/tmp/a.html', format: 'json' })).toEqual({
      out: '/tmp/a.json',
      format: 'json',
    });
    expect(resolveOutput({ out: '/tmp/a.html' })).toEqual({ out: '/tmp/a.html', format: 'html' });
    // the CLI passes format 'html' by default: the file name decides then
    expect(resolveOutput({ out: '/tmp/a.csv', format: 'html' })).toEqual({
      out: '/tmp/a.csv',
      format: 'csv',
    });
  });
});

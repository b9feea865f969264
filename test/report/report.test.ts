import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BrowserContext, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveOutput, runReport } from '../../bin/report';
import { writeEvidenceFile } from '../../shared/evidence';
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
    await page.screenshot({
      path: join(tmpdir(), 'rv-report-screenshot.png'),
      fullPage: true,
      clip: { x: 0, y: 0, width: 1280, height: 1700 },
    });
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

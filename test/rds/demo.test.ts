import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { runDemo } from '../../bin/demo';
import type { EvidenceRecord } from '../../shared/evidence';

const out = mkdtempSync(join(tmpdir(), 'rv-demo-test-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

const filesUnder = (dir: string): string[] =>
  readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? filesUnder(join(dir, e.name)) : [join(dir, e.name)],
  );

describe('demo', () => {
  it('passes the good restore, fails the damaged one with precise reasons and writes evidence when run', async () => {
    const before = new Set(readdirSync(tmpdir()));
    const writes: string[] = [];
    const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      writes.push(String(chunk));
      return true;
    });
    let code: number;
    try {
      code = await runDemo({ outDir: out, json: true });
    } finally {
      spy.mockRestore();
    }
    expect(code).toBe(0);
    const result = JSON.parse(writes.join('')) as {
      ok: boolean;
      evidenceDir: string;
      restores: Array<{
        verdict: string;
        posted: string;
        checks: Array<{ id: string; status: string; detail: string }>;
      }>;
    };
    expect(result.ok).toBe(true);
    const [good, damaged] = result.restores;
    expect(good).toMatchObject({ verdict: 'SUCCESSFUL', posted: 'SUCCESSFUL' });
    expect(damaged).toMatchObject({ verdict: 'FAILED', posted: 'FAILED' });
    const failed = Object.fromEntries(
      (damaged?.checks ?? []).filter((c) => c.status === 'fail').map((c) => [c.id, c.detail]),
    );
    expect(failed).toEqual({
      'order-items-present': 'column n is 0, below min 1000',
      'orders-fresh': expect.stringMatching(/^data is 4320 minutes older than the recovery point/),
      'every-order-has-items': 'column n is 5000, expected 0',
      // The truncated table exists but is empty: tables fails it too.
      schema: 'order_items: exists, 0 rows (min 1)',
    });
    const evidence = filesUnder(result.evidenceDir).filter((f) => f.endsWith('.json'));
    expect(evidence).toHaveLength(2);
    const records = evidence.map(
      (f) =>
        JSON.parse(readFileSync(f, 'utf8')) as Pick<
          EvidenceRecord,
          'verdict' | 'dataAgeMinutes' | 'objectives'
        >,
    );
    expect(records.map((r) => r.verdict).sort()).toEqual(['FAILED', 'SUCCESSFUL']);
    expect(records.find((r) => r.verdict === 'SUCCESSFUL')?.dataAgeMinutes).toBe(4);
    // the objectives are judged: the good copy met the RPO, the damaged 72-hour-old one missed it
    expect(records.find((r) => r.verdict === 'SUCCESSFUL')?.objectives?.rpo).toEqual({
      objectiveMinutes: 60,
      measuredMinutes: 4,
      met: true,
    });
    expect(records.find((r) => r.verdict === 'FAILED')?.objectives?.rpo?.met).toBe(false);
    expect(existsSync(join(out, 'validation.config.yaml'))).toBe(true);
    // Nothing left running or on disk from the servers.
    expect(readdirSync(tmpdir()).filter((d) => d.startsWith('rv-demo-') && !before.has(d))).toEqual([]);
  });
});

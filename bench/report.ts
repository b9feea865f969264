/**
 * Report generation for 100,000 evidence records (local evidence files, the `report --evidence`
 * path): wall time and peak memory (max RSS of a separate process), against the targets < 10 s and
 * < 300 MB. Baseline, measured in the same run: a process that only walks, reads and parses the
 * same files (the floor of any report built from files).
 *
 *   npx tsx bench/report.ts [COUNT]
 */

import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeEvidenceFile } from '../shared/evidence';
import { makeRecord, rng } from '../test/evidence/fixtures';
import { judge } from './_targets';

const TARGET_MS = 10_000;
const TARGET_MB = 300;

type Measured = { ms: number; cpuMs: number; maxRssMb: number };

function child(args: string[]): Measured {
  const out = execFileSync(
    process.execPath,
    ['--import', 'tsx', join(import.meta.dirname, '_report-child.ts'), ...args],
    {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
      maxBuffer: 1 << 20,
    },
  );
  return JSON.parse(out.trim().split('\n').pop() ?? '{}') as Measured;
}

export default async function bench(count = 100_000): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'rv-bench-report-'));
  try {
    const evidence = join(dir, 'evidence');
    const t0 = performance.now();
    const rand = rng(42);
    const opts = { count, resources: Math.max(5, Math.floor(count / 50)), days: 365 };
    for (let i = 0; i < count; i++) writeEvidenceFile(evidence, makeRecord(i, opts, rand));
    console.log(
      `fixture: ${count} evidence files over 365 days, ${opts.resources} resources, written in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
    );

    const baseline = child(['read', evidence]);
    const html = join(dir, 'report.html');
    const report = child(['report', evidence, html]);
    const csv = child(['report', evidence, join(dir, 'report.csv')]);
    const mb = (f: string) => (statSync(f).size / 1e6).toFixed(1);

    const s = (m: number) => `${(m / 1000).toFixed(2)} s`;
    const line = (name: string, m: Measured, file?: string) =>
      console.log(
        `${name}: wall ${s(m.ms)}, CPU ${s(m.cpuMs)}, peak RSS ${m.maxRssMb.toFixed(0)} MB${file ? `, ${mb(file)} MB written` : ''}`,
      );
    line('baseline (read + parse only)', baseline);
    line('report html', report, html);
    line('report csv ', csv, join(dir, 'report.csv'));
    console.log(
      `load average during the run: ${loadavg()
        .map((l) => l.toFixed(1))
        .join(' ')} on ${cpus().length} CPUs (wall time inflates with it; CPU time does not)`,
    );
    console.log(
      `vs baseline: CPU ×${(report.cpuMs / baseline.cpuMs).toFixed(2)}, wall ×${(report.ms / baseline.ms).toFixed(2)}, memory ×${(report.maxRssMb / baseline.maxRssMb).toFixed(2)}`,
    );
    const worst = Math.max(report.maxRssMb, csv.maxRssMb);
    judge(`report/${count} records, CPU time`, report.cpuMs / 1000, '<', TARGET_MS / 1000, 's');
    judge(`report/${count} records, wall time`, report.ms / 1000, '<', TARGET_MS / 1000, 's');
    judge(`report/${count} records, peak RSS`, worst, '<', TARGET_MB, 'MB');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  bench(Number(process.argv[2]) || undefined).catch((err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  });
}

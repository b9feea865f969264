/**
 * Child process of bench/report.ts, so each measurement gets its own peak RSS:
 *   tsx bench/_report-child.ts report DIR OUT   → runs the report
 *   tsx bench/_report-child.ts read DIR         → baseline: reads + parses every file, nothing else
 * Prints one JSON line: {ms, cpuMs, maxRssMb} (CPU time: what the run costs on an idle machine).
 */
import { runReport } from '../bin/report/index';
import { loadEvidenceDir } from '../bin/report/load';

const [mode, dir, out] = process.argv.slice(2);
if (!dir) throw new Error('usage: _report-child.ts report|read DIR [OUT]');
const started = performance.now();
const cpu0 = process.cpuUsage();
if (mode === 'report') {
  const code = await runReport(
    { evidence: dir, out },
    { stdout: () => {}, stderr: (l) => process.stderr.write(`${l}\n`) },
  );
  if (code !== 0) throw new Error(`report exited ${code}`);
} else {
  // The floor any report from files pays: walk, read and parse every file (summaries dropped).
  const { summaries } = await loadEvidenceDir(dir);
  if (summaries.length === 0) throw new Error('no evidence read');
}
const ms = performance.now() - started;
const cpu = process.cpuUsage(cpu0);
const cpuMs = (cpu.user + cpu.system) / 1000;
process.stdout.write(`${JSON.stringify({ ms, cpuMs, maxRssMb: process.resourceUsage().maxRSS / 1024 })}\n`);

/**
 * `npm run bench [-- NAME ...]`: runs every benchmark in bench/ (or the named ones). Each prints what
 * it measured, the baseline it measured in the same run, and the ratio against its target. Targets
 * live here and in the benchmarks, never in tests: these machines are shared and noisy.
 */
import { readdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import { allJudged, describe } from './_targets';

// Node 20 is supported on purpose; the SDK's end-of-support notice would clutter every result.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const dir = import.meta.dirname;
const all = readdirSync(dir)
  .filter((f) => f.endsWith('.ts') && f !== 'run.ts' && !f.startsWith('_'))
  .map((f) => basename(f, '.ts'))
  .sort();
const wanted = process.argv.slice(2);
const unknown = wanted.filter((w) => !all.includes(w));
if (unknown.length) {
  process.stderr.write(`unknown benchmark(s) ${unknown.join(', ')}; available: ${all.join(', ')}\n`);
  process.exit(2);
}
let failed = 0;
const notJudged: string[] = [];
for (const name of wanted.length ? wanted : all) {
  const before = allJudged().length;
  process.stdout.write(`\n=== bench ${name} ===\n`);
  const started = performance.now();
  try {
    const mod = (await import(join(dir, `${name}.ts`))) as { default?: () => Promise<void> };
    if (typeof mod.default !== 'function') throw new Error(`bench/${name}.ts has no default export`);
    await mod.default();
  } catch (err) {
    failed++;
    process.stdout.write(`bench ${name} failed: ${err instanceof Error ? err.stack : String(err)}\n`);
  }
  // A bench that died (or judged nothing) must not drop out of the closing list unnoticed.
  if (allJudged().length === before) notJudged.push(name);
  process.stdout.write(`=== ${name}: ${((performance.now() - started) / 1000).toFixed(1)} s ===\n`);
}
const targets = allJudged();
const met = targets.filter((t) => t.met).length;
process.stdout.write(`\n=== targets: ${met} met, ${targets.length - met + notJudged.length} missed ===\n`);
for (const t of targets) process.stdout.write(`${t.met ? 'met   ' : 'MISSED'} ${describe(t)}\n`);
for (const name of notJudged)
  process.stdout.write(`MISSED ${name}: no target judged (the bench failed; see above)\n`);
process.exit(failed ? 1 : 0);

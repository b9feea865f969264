/**
 * Builds every Lambda entry with the shared esbuild options (infra/bundling.ts) into
 * `dist/functions/<name>/index.mjs`, printing sizes. `npm run bundle`, or import
 * {@link bundleOne} / {@link bundleAll} (the e2e test and the benchmark do).
 */
import { mkdirSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build, type Metafile } from 'esbuild';
import { BUNDLE_FILE, discoverEntries, esbuildOptions, PROJECT_ROOT } from '../infra/bundling';

export interface BundleResult {
  readonly name: string;
  readonly entry: string;
  readonly outFile: string;
  /** Size of the `.mjs` file in bytes (the source map is separate and not loaded by Lambda unless asked). */
  readonly bytes: number;
  readonly buildMs: number;
  readonly metafile: Metafile;
}

/**
 * Bundles one entry file into `outFile` (an `.mjs` path) with the shared options and writes the
 * esbuild metafile beside it as `<outFile>.meta.json` (inspect with https://esbuild.github.io/analyze/).
 */
export async function bundleOne(entry: string, outFile: string): Promise<BundleResult> {
  const started = performance.now();
  const absOut = resolve(outFile);
  mkdirSync(dirname(absOut), { recursive: true });
  const result = await build({
    ...esbuildOptions,
    mainFields: [...esbuildOptions.mainFields],
    entryPoints: [resolve(entry)],
    outfile: absOut,
    absWorkingDir: PROJECT_ROOT,
    metafile: true,
  });
  writeFileSync(`${absOut}.meta.json`, JSON.stringify(result.metafile));
  return {
    name: relative(PROJECT_ROOT, resolve(entry)),
    entry: resolve(entry),
    outFile: absOut,
    bytes: statSync(absOut).size,
    buildMs: performance.now() - started,
    metafile: result.metafile,
  };
}

/** An entry that did not build (esbuild's message, e.g. an unresolved import). */
export interface BundleFailure {
  readonly name: string;
  readonly entry: string;
  readonly error: string;
}

/**
 * Bundles every discovered entry into `<outDir>/<name>/index.mjs`, sequentially (2 shared cores),
 * carrying on past entries that fail so one broken function does not hide the others.
 */
export async function bundleEach(
  outDir: string = join(PROJECT_ROOT, 'dist', 'functions'),
): Promise<Array<BundleResult | BundleFailure>> {
  const results: Array<BundleResult | BundleFailure> = [];
  for (const [name, entry] of Object.entries(discoverEntries())) {
    try {
      const r = await bundleOne(entry, join(outDir, name, BUNDLE_FILE));
      results.push({ ...r, name });
    } catch (err) {
      results.push({ name, entry, error: (err as Error).message.split('\n').slice(0, 3).join(' ') });
    }
  }
  return results;
}

/** Like {@link bundleEach} but throws on the first entry that fails. */
export async function bundleAll(
  outDir: string = join(PROJECT_ROOT, 'dist', 'functions'),
): Promise<BundleResult[]> {
  const results = await bundleEach(outDir);
  const failed = results.find((r): r is BundleFailure => 'error' in r);
  if (failed) throw new Error(`${failed.name} (${relative(PROJECT_ROOT, failed.entry)}): ${failed.error}`);
  return results as BundleResult[];
}

/** The `n` largest inputs of a bundle by bytes kept in the output (why a bundle is big). */
export function largestInputs(result: BundleResult, n = 5): Array<{ path: string; bytes: number }> {
  const outputs = Object.values(result.metafile.outputs);
  const inputs = new Map<string, number>();
  for (const out of outputs) {
    for (const [path, info] of Object.entries(out.inputs))
      inputs.set(path, (inputs.get(path) ?? 0) + info.bytesInOutput);
  }
  return [...inputs.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, n)
    .map(([path, bytes]) => ({ path, bytes }));
}

/** Sums bytes per top-level package (`@aws-sdk/client-rds`, `shared`, ...) for a bundle. */
export function bytesByPackage(result: BundleResult): Array<{ pkg: string; bytes: number }> {
  const byPkg = new Map<string, number>();
  for (const out of Object.values(result.metafile.outputs)) {
    for (const [path, info] of Object.entries(out.inputs)) {
      const m = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(path);
      const pkg = m?.[1] ?? path.split('/')[0] ?? path;
      byPkg.set(pkg, (byPkg.get(pkg) ?? 0) + info.bytesInOutput);
    }
  }
  return [...byPkg.entries()].sort((a, b) => b[1] - a[1]).map(([pkg, bytes]) => ({ pkg, bytes }));
}

export function formatBytes(bytes: number): string {
  return bytes >= 1024 * 1024 ? `${(bytes / 1024 / 1024).toFixed(2)} MB` : `${(bytes / 1024).toFixed(1)} kB`;
}

async function main(): Promise<void> {
  const outDir = process.argv[2] ? resolve(process.argv[2]) : join(PROJECT_ROOT, 'dist', 'functions');
  const results = await bundleEach(outDir);
  if (results.length === 0) {
    process.stderr.write('no Lambda entries found under functions/**/handler.ts\n');
    process.exitCode = 1;
    return;
  }
  for (const r of results) {
    if ('error' in r) {
      process.stdout.write(`${r.name.padEnd(24)} FAILED: ${r.error}\n`);
      process.exitCode = 1;
      continue;
    }
    const flag = r.bytes > 1024 * 1024 ? '  (over 1 MB)' : '';
    process.stdout.write(
      `${r.name.padEnd(24)} ${formatBytes(r.bytes).padStart(10)}  ${Math.round(r.buildMs)} ms  ${relative(PROJECT_ROOT, r.outFile)}${flag}\n`,
    );
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  main().catch((err: unknown) => {
    process.stderr.write(`bundle failed: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  });
}

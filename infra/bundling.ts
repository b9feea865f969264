/**
 * The ONE esbuild configuration every Lambda bundle is built with: by the CDK (`NodejsFunction`
 * bundling, derived with {@link toCdkBundling}) and by `scripts/bundle.ts` / the benchmark / the
 * end-to-end test (esbuild's JS API). Keeping one object means what the tests run is what ships.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BuildOptions } from 'esbuild';

/** Repository root (this file lives in `infra/`; in the npm package it is bundled into `lib/`). */
export const PROJECT_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/**
 * The file NodejsFunction takes as `depsLockFilePath`: the repository's lockfile, or, in an installed
 * package (npm never publishes package-lock.json), its package.json. The file only has to exist and
 * name npm as the package manager: dependencies are bundled, never installed.
 */
export const DEPS_LOCK_FILE = existsSync(join(PROJECT_ROOT, 'package-lock.json'))
  ? join(PROJECT_ROOT, 'package-lock.json')
  : join(PROJECT_ROOT, 'package.json');

/**
 * ESM bundles that include the AWS SDK need a real `require`: some SDK dependencies call
 * `require("node:https")` at run time and esbuild's ESM shim throws `Dynamic require of "node:https"
 * is not supported` without this banner.
 */
export const ESM_REQUIRE_BANNER =
  "import { createRequire } from 'module'; const require = createRequire(import.meta.url);";

/** Node version the Lambda runtime runs (`Runtime.NODEJS_24_X`). */
export const NODE_TARGET = 'node24';

/**
 * The shared esbuild options (no entry points / outfile: callers add those).
 *
 * - The AWS SDK is bundled, never external: the Lambda runtime's copy has lacked
 *   `PutRestoreValidationResult`, and a bundled, tree-shaken client also imports faster.
 * - `mainFields: module,main` makes esbuild pick the SDK's ES module builds, which tree-shake.
 * - `charset: utf8` writes non-ASCII text as is instead of `\uXXXX` escapes: character tables
 *   (iconv-lite for mysql2, tr46 for mongodb) shrink by almost half.
 * @see https://docs.aws.amazon.com/lambda/latest/dg/lambda-nodejs.html (runtime-included SDK)
 */
export const esbuildOptions = {
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: NODE_TARGET,
  minify: true,
  sourcemap: true,
  mainFields: ['module', 'main'],
  // Native addon, platform-specific: shared/crc32c.ts loads it at run time if present, else uses JS.
  // Only optional native addons loaded with a JS fallback (shared/crc32c.ts): a `.node` binary
  // cannot be bundled, and the Lambda copy falls back to JS. Never the AWS SDK.
  external: ['@node-rs/crc32'] as string[],
  banner: { js: ESM_REQUIRE_BANNER },
  legalComments: 'none',
  charset: 'utf8',
  logLevel: 'warning',
} as const satisfies BuildOptions;

/** The file name Lambda loads (`index.handler` → `index.mjs` for ESM). */
export const BUNDLE_FILE = 'index.mjs';

/**
 * Lambda entries that are not discovered by the `functions/**\/handler.ts` glob (name → entry,
 * relative to the project root). Add step handlers with other file names here.
 */
export const EXTRA_ENTRIES: Readonly<Record<string, string>> = {
  'ebs-steps': 'functions/ebs/steps.ts',
  'ebs-janitor': 'functions/ebs/janitor.ts',
  's3-worker': 'functions/s3/worker.ts',
  's3-merge': 'functions/s3/merge.ts',
};

/**
 * Every Lambda entry: `functions/**\/handler.ts` (named by its folder path below `functions/`,
 * `/` → `-`, e.g. `rds`, `reconciler`, `s3-steps`) plus {@link EXTRA_ENTRIES}. Sorted by name.
 */
export function discoverEntries(root: string = PROJECT_ROOT): Record<string, string> {
  const found: Record<string, string> = {};
  const functionsDir = join(root, 'functions');
  const walk = (dir: string): void => {
    if (!existsSync(dir)) return;
    for (const name of readdirSync(dir)) {
      if (name === 'node_modules' || name.startsWith('.')) continue;
      const full = join(dir, name);
      if (statSync(full).isDirectory()) walk(full);
      else if (name === 'handler.ts') {
        const rel = relative(functionsDir, dirname(full)).split(/[\\/]/).join('-');
        found[rel || basename(dirname(full))] = full;
      }
    }
  };
  walk(functionsDir);
  for (const [name, entry] of Object.entries(EXTRA_ENTRIES)) found[name] = resolve(root, entry);
  return Object.fromEntries(Object.entries(found).sort(([a], [b]) => a.localeCompare(b)));
}

/** The `NodejsFunction` bundling props, mapped field by field from {@link esbuildOptions}. */
export interface CdkBundlingFields {
  readonly format: 'esm';
  readonly target: string;
  readonly minify: boolean;
  readonly sourceMap: boolean;
  readonly mainFields: string[];
  readonly externalModules: string[];
  readonly banner: string;
  readonly esbuildArgs: Record<string, string>;
  readonly logLevel: 'warning';
  readonly forceDockerBundling: false;
}

/**
 * Maps {@link esbuildOptions} onto `NodejsFunction`'s `bundling` props. Kept as plain data (no
 * aws-cdk-lib import) so scripts and benchmarks load this module cheaply; the construct converts
 * the string enums. `bundle`/`platform` are always on for NodejsFunction.
 */
export function cdkBundlingFields(options: typeof esbuildOptions = esbuildOptions): CdkBundlingFields {
  return {
    format: options.format,
    target: options.target,
    minify: options.minify,
    sourceMap: options.sourcemap,
    mainFields: [...options.mainFields],
    externalModules: [...options.external],
    banner: options.banner.js,
    // Options without an enum-free NodejsFunction field go as CLI flags, so these fields spread
    // straight into `nodejs.BundlingOptions` (only format/logLevel need the CDK enums).
    esbuildArgs: { '--legal-comments': options.legalComments, '--charset': options.charset },
    logLevel: options.logLevel,
    // Docker is neither needed nor available offline; esbuild is a local dependency.
    forceDockerBundling: false,
  };
}

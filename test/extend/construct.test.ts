/**
 * addValidator / addCheck on the RestoreValidation construct: the template (rules, claims, permissions,
 * layer) with bundling skipped, and the generated bundles themselves built with the shared esbuild
 * options and run: the custom validator's handler and the check extension layer.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, aws_iam as iam, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { buildSync } from 'esbuild';
import { checkKind, parseConfig } from 'restore-validation';
import { describe, expect, it } from 'vitest';
import { esbuildOptions, PROJECT_ROOT } from '../../infra/bundling';
import { customValidatorHandlerSource, validatorNameIn } from '../../infra/constructs/custom-validator';
import { RestoreValidation } from '../../infra/restore-validation';
import { runtimeSettings } from '../../shared/env';
import {
  EXTENSIONS_ENV,
  loadCheckExtensions,
  parseValidatorClaims,
  VALIDATOR_CLAIMS_ENV,
} from '../../shared/extend';

const EC2_EXAMPLE = join(PROJECT_ROOT, 'examples', 'ec2-http-health', 'validator.ts');
const ORPHANS = join(PROJECT_ROOT, 'examples', 'sql-invariant-check', 'orphans.ts');
const PLAN = 'arn:aws:backup:us-east-1:123456789012:restore-testing-plan:nightly_restore_tests-1a2b3c4d';

function build() {
  const dir = mkdtempSync(join(tmpdir(), 'rv-construct-'));
  const configPath = join(dir, 'validation.config.yaml');
  writeFileSync(
    configPath,
    'version: 1\nprofiles:\n  - name: web\n    match: { resourceType: EC2 }\n    options: { port: 8080 }\n',
  );
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new Stack(app, 'Test', { env: { account: '123456789012', region: 'us-east-1' } });
  const rv = new RestoreValidation(stack, 'RV', {
    configPath,
    resourceTypes: ['ec2', 'rds'],
    restoreTestingPlanArns: [PLAN],
  });
  return { stack, rv };
}

type Fn = {
  Properties: {
    Environment?: { Variables?: Record<string, unknown> };
    Description?: string;
    Layers?: unknown[];
  };
};
const functionsOf = (t: Template) => Object.values(t.findResources('AWS::Lambda::Function')) as Fn[];

describe('RestoreValidation.addValidator', () => {
  it('deploys the validator with a rule for its resource type and the construct plan filter', () => {
    const { stack, rv } = build();
    const custom = rv.addValidator({
      entry: EC2_EXAMPLE,
      match: { resourceType: 'EC2', sourceResourceArn: 'arn:aws:ec2:*:*:instance/i-0a1b*' },
    });
    const t = Template.fromStack(stack);
    t.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: {
        source: ['aws.backup'],
        'detail-type': ['Restore Job State Change'],
        detail: { status: ['COMPLETED'], resourceType: ['EC2'], restoreTestingPlanArn: [PLAN] },
      },
      Targets: Match.arrayWith([
        Match.objectLike({
          Arn: stack.resolve(custom.function.functionArn),
          DeadLetterConfig: Match.anyValue(),
        }),
      ]),
    });
    expect(custom.claim).toEqual({
      validator: 'ec2-http-health',
      match: { resourceType: 'EC2', sourceResourceArn: 'arn:aws:ec2:*:*:instance/i-0a1b*' },
    });
  });

  it('tells every validator function the claims, so the built-in EC2 validator yields the claimed jobs', () => {
    const { stack, rv } = build();
    rv.addValidator({
      entry: EC2_EXAMPLE,
      match: { resourceType: 'EC2', sourceResourceArn: 'arn:aws:ec2:*:*:instance/i-0a1b*' },
    });
    const fns = functionsOf(Template.fromStack(stack)).filter(
      (f) => f.Properties.Environment?.Variables?.RESTORE_VALIDATION_CONFIG,
    );
    expect(fns.length).toBe(3); // ec2, rds, custom
    for (const f of fns) {
      const claims = parseValidatorClaims(
        String(f.Properties.Environment?.Variables?.[VALIDATOR_CLAIMS_ENV]),
      );
      expect(claims.map((c) => c.validator)).toEqual(['ec2-http-health']);
    }
  });

  it('shares the lifecycle settings and grants the built-in type read permissions', () => {
    const { stack, rv } = build();
    const custom = rv.addValidator({
      entry: EC2_EXAMPLE,
      match: { resourceType: 'EC2' },
      permissions: [new iam.PolicyStatement({ actions: ['cloudwatch:GetMetricData'], resources: ['*'] })],
    });
    const t = Template.fromStack(stack);
    const env =
      (
        functionsOf(t).find((f) =>
          f.Properties.Description?.startsWith('Custom validator ec2-http-health'),
        ) as Fn
      ).Properties.Environment?.Variables ?? {};
    expect(env.RESTORE_VALIDATION_CONFIG).toBe('/var/task/restore-validation.config.json');
    expect(env.IDEMPOTENCY_TABLE_NAME).toEqual(stack.resolve(rv.idempotencyTable.tableName));
    const roleRef = stack.resolve(custom.role.roleName);
    const statements = Object.values(t.findResources('AWS::IAM::Policy'))
      .filter((p) => JSON.stringify(p.Properties.Roles) === JSON.stringify([roleRef]))
      .flatMap((p) => p.Properties.PolicyDocument.Statement as { Action: string | string[] }[]);
    const actions = statements.flatMap((s) => ([] as string[]).concat(s.Action));
    expect(actions).toEqual(
      expect.arrayContaining([
        'backup:PutRestoreValidationResult',
        'ec2:DescribeInstances',
        'cloudwatch:GetMetricData',
      ]),
    );
  });

  it('refuses a match the config schema rejects, a missing entry and a duplicate name', () => {
    const { rv } = build();
    expect(() => rv.addValidator({ entry: EC2_EXAMPLE, match: { resourceType: 'Nope' as 'EC2' } })).toThrow(
      /match: resourceType/,
    );
    expect(() =>
      rv.addValidator({ entry: join(PROJECT_ROOT, 'nope.ts'), match: { resourceType: 'EC2' } }),
    ).toThrow(/entry .*nope\.ts does not exist/);
    rv.addValidator({ entry: EC2_EXAMPLE, match: { resourceType: 'EC2' } });
    expect(() =>
      rv.addValidator({ entry: EC2_EXAMPLE, name: 'ec2-http-health', match: { resourceType: 'EC2' } }),
    ).toThrow(/already added/);
  });

  it('reads the validator name from the module source', () => {
    expect(
      validatorNameIn("export const validator = defineValidator<HttpFacts>({\n  name: 'ec2-http-health',\n"),
    ).toBe('ec2-http-health');
    expect(validatorNameIn('defineValidator(spec)')).toBeUndefined();
  });
});

describe('RestoreValidation.addCheck', () => {
  it('adds the extension layer and its runtime path to every validator, including custom ones added later', () => {
    const { stack, rv } = build();
    const ext = rv.addCheck({ entry: ORPHANS });
    rv.addValidator({ entry: EC2_EXAMPLE, match: { resourceType: 'EC2' } });
    const t = Template.fromStack(stack);
    t.resourceCountIs('AWS::Lambda::LayerVersion', 1);
    expect(ext.runtimePath).toBe('/opt/restore-validation/extensions/orphans.mjs');
    const withExt = functionsOf(t).filter(
      (f) => f.Properties.Environment?.Variables?.[EXTENSIONS_ENV] === ext.runtimePath,
    );
    expect(withExt).toHaveLength(3);
    for (const f of withExt) expect(f.Properties.Layers).toEqual([stack.resolve(ext.layer.layerVersionArn)]);
  });

  it('limits the extension to the given types', () => {
    const { stack, rv } = build();
    rv.addCheck({ entry: ORPHANS, types: ['rds'] });
    const withExt = functionsOf(Template.fromStack(stack)).filter(
      (f) => f.Properties.Environment?.Variables?.[EXTENSIONS_ENV],
    );
    expect(withExt.map((f) => f.Properties.Description)).toEqual([expect.stringContaining('RDS')]);
  });
});

describe('generated bundles', () => {
  const out = mkdtempSync(join(tmpdir(), 'rv-bundles-'));
  /**
   * Both generated handlers in one esbuild build, as a deployment bundles them (minified): esbuild
   * parses the shared code once for both entries, where two builds parsed it twice.
   */
  const handlerBundles = (() => {
    let built: { validator: string; misnamed: string } | undefined;
    return () => {
      if (built) return built;
      const entries = { validator: 'ec2-http-health', misnamed: 'orders-web' };
      for (const [file, claimed] of Object.entries(entries))
        writeFileSync(join(out, `${file}.ts`), customValidatorHandlerSource(EC2_EXAMPLE, claimed));
      buildSync({
        ...esbuildOptions,
        mainFields: [...esbuildOptions.mainFields],
        absWorkingDir: PROJECT_ROOT,
        entryPoints: Object.keys(entries).map((file) => join(out, `${file}.ts`)),
        outdir: join(out, 'bundles'),
        outExtension: { '.js': '.mjs' },
        logLevel: 'error',
      });
      built = {
        validator: join(out, 'bundles', 'validator.mjs'),
        misnamed: join(out, 'bundles', 'misnamed.mjs'),
      };
      return built;
    };
  })();

  it('runs the custom validator handler bundle through the shared lifecycle', async () => {
    const { handler } = (await import(handlerBundles().validator)) as {
      handler: (e: unknown, c: unknown) => Promise<{ outcome: string; message: string }>;
    };
    const event = JSON.parse(
      '{"version":"0","id":"1","detail-type":"Restore Job State Change","source":"aws.backup","account":"123456789012","time":"2026-11-24T22:41:58Z","region":"us-east-1","resources":[],"detail":{"restoreJobId":"J1","resourceType":"EC2","status":"RUNNING","creationDate":"2026-11-24T22:00:05.121Z"}}',
    );
    const result = await handler(event, {
      functionName: 'f',
      getRemainingTimeInMillis: () => 60_000,
      awsRequestId: 'r',
    });
    expect(result.outcome).toBe('ignored');
  });

  it('refuses at cold start a module whose validator has another name than the one claimed', async () => {
    await expect(import(handlerBundles().misnamed)).rejects.toThrow(
      /the validator is named "ec2-http-health", but addValidator claimed jobs for "orders-web"/,
    );
  });

  it('registers the kind of an extension layer bundle into this process when loaded', async () => {
    const file = join(out, 'layer', 'orphans.mjs');
    buildSync({
      ...esbuildOptions,
      mainFields: [...esbuildOptions.mainFields],
      absWorkingDir: PROJECT_ROOT,
      entryPoints: [ORPHANS],
      outfile: file,
      alias: { 'restore-validation': join(PROJECT_ROOT, 'shared', 'extension-api.ts') },
    });
    // The layer carries the module's code, not a second copy of the package.
    const text = (await import('node:fs')).readFileSync(file, 'utf8');
    expect(text.length).toBeLessThan(20_000);
    expect(checkKind('orphans')).toBeUndefined();
    expect(await loadCheckExtensions(runtimeSettings({ [EXTENSIONS_ENV]: file }).extensionFiles)).toEqual([
      file,
    ]);
    expect(checkKind('orphans')).toBeDefined();
    expect(() =>
      parseConfig({
        version: 1,
        profiles: [{ name: 'p', checks: [{ id: 'x', orphans: { child: 'a', column: 'b', parent: 'c' } }] }],
      }),
    ).not.toThrow();
  });
});

describe('cdk-nag', () => {
  it('keeps the real app nag-clean with a custom validator and a check extension added', async () => {
    const { mkdirSync, rmSync } = await import('node:fs');
    const { buildApp } = await import('../../infra/app');
    const outdir = join(PROJECT_ROOT, '.tmp', 'extend-nag.out');
    rmSync(outdir, { recursive: true, force: true });
    mkdirSync(outdir, { recursive: true });
    const { app, stack } = buildApp(new App({ outdir, context: { 'aws:cdk:bundling-stacks': [] } }));
    stack.validation.addCheck({ entry: ORPHANS });
    stack.validation.addValidator({
      entry: EC2_EXAMPLE,
      match: { resourceType: 'EC2', restoreTestingPlan: 'nightly_*' },
    });
    expect(() => app.synth()).not.toThrow();
  });

  it("reports a user's own wildcard permission on the custom validator's role", async () => {
    const { mkdirSync, rmSync } = await import('node:fs');
    const { buildApp } = await import('../../infra/app');
    const outdir = join(PROJECT_ROOT, '.tmp', 'extend-nag-wide.out');
    rmSync(outdir, { recursive: true, force: true });
    mkdirSync(outdir, { recursive: true });
    const { app, stack } = buildApp(new App({ outdir, context: { 'aws:cdk:bundling-stacks': [] } }));
    stack.validation.addValidator({
      entry: EC2_EXAMPLE,
      match: { resourceType: 'EC2' },
      permissions: [new iam.PolicyStatement({ actions: ['s3:*'], resources: ['*'] })],
    });
    expect(() => app.synth()).toThrow(
      /Ec2HttpHealthCustomValidator[\s\S]*AwsSolutions-IAM5\[Action::s3:\*\]/,
    );
  });
});

import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { App, aws_iam as iam, Stack, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { describe, expect, it } from 'vitest';
import { buildApp } from '../../infra/app';
import { PROJECT_ROOT } from '../../infra/bundling';
import { RestoreValidation } from '../../infra/restore-validation';
import { propsFromContext } from '../../infra/stack';

function freshApp(name: string): { app: App; outdir: string } {
  const outdir = join(PROJECT_ROOT, '.tmp', `infra-${name}.out`);
  rmSync(outdir, { recursive: true, force: true });
  mkdirSync(outdir, { recursive: true });
  // The real app, config and cdk.json feature flags (they change the templates nag reads, e.g.
  // minimised policies), bundling skipped: nag inspects templates, not code.
  const { context } = JSON.parse(readFileSync(join(PROJECT_ROOT, 'cdk.json'), 'utf8')) as {
    context?: object;
  };
  return { app: new App({ outdir, context: { ...context, 'aws:cdk:bundling-stacks': [] } }), outdir };
}

describe('cdk app', () => {
  // The real app synthesizing clean, with a VPC, and as member and central stacks: variants.test.ts.
  it('fails synth and writes the validation report when a finding is not acknowledged', () => {
    const { app, outdir } = freshApp('nag-dirty');
    const { stack } = buildApp(app);
    new iam.Role(stack, 'TooWide', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      inlinePolicies: {
        wide: new iam.PolicyDocument({
          statements: [new iam.PolicyStatement({ actions: ['s3:*'], resources: ['*'] })],
        }),
      },
    });
    expect(() => app.synth()).toThrow(/TooWide[\s\S]*AwsSolutions-IAM5\[Action::s3:\*\]/);
    const report = JSON.parse(readFileSync(join(outdir, 'validation-report.json'), 'utf8')) as {
      pluginReports: Array<{
        pluginName: string;
        violations: Array<{ ruleName: string; violatingConstructs: Array<{ constructPath: string }> }>;
      }>;
    };
    const nag = report.pluginReports
      .filter((p) => p.pluginName === 'AwsSolutions')
      .flatMap((p) => p.violations);
    expect(nag.map((v) => v.ruleName)).toContain('AwsSolutions-IAM5[Action::s3:*]');
    // Only the deliberately wide role is reported: everything the stack creates is clean or waived.
    const paths = nag.flatMap((v) => v.violatingConstructs.map((c) => c.constructPath));
    expect(paths.length).toBeGreaterThan(0);
    for (const p of paths) expect(p).toContain('TooWide');
  });
});

describe('cdk-nag with a file system helper', () => {
  it('finds nothing unacknowledged in the EFS and FSx content-check permissions when fileSystemHelper is set', () => {
    const { app } = freshApp('nag-fs-helper');
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
    const stack = new Stack(app, 'WithHelper', { env: { account: '123456789012', region: 'us-east-1' } });
    const rv = new RestoreValidation(stack, 'RestoreValidation', {
      resourceTypes: ['efs', 'fsx'],
      fileSystemHelper: {
        instanceId: 'i-0123456789abcdef0',
        mountTargetSecurityGroupId: 'sg-0123456789abcdef0',
      },
    });
    expect(rv.functions.efs).toBeDefined();
    // An unacknowledged finding throws with its rule and path.
    expect(() => app.synth()).not.toThrow();
  });
});

describe('propsFromContext', () => {
  it('reads comma-separated -c values and JSON arrays from cdk.json', () => {
    const ctx: Record<string, unknown> = {
      'restore-validation:configPath': 'my.yaml',
      'restore-validation:resourceTypes': 'rds, s3',
      'restore-validation:restoreTestingPlanArns': [
        'arn:aws:backup:us-east-1:123456789012:restore-testing-plan:p-1',
      ],
      'restore-validation:dryRun': 'true',
    };
    expect(propsFromContext((k) => ctx[k])).toEqual({
      validation: {
        configPath: 'my.yaml',
        resourceTypes: ['rds', 's3'],
        restoreTestingPlanArns: ['arn:aws:backup:us-east-1:123456789012:restore-testing-plan:p-1'],
        dryRun: true,
      },
    });
    expect(propsFromContext(() => undefined)).toEqual({ validation: {} });
    const helper: Record<string, unknown> = {
      'restore-validation:fileSystemHelperInstanceId': 'i-0123456789abcdef0',
      'restore-validation:fileSystemMountTargetSecurityGroupId': 'sg-0123456789abcdef0',
    };
    expect(propsFromContext((k) => helper[k]).validation?.fileSystemHelper).toEqual({
      instanceId: 'i-0123456789abcdef0',
      mountTargetSecurityGroupId: 'sg-0123456789abcdef0',
    });
  });
});

import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { App, aws_iam as iam } from 'aws-cdk-lib';
import { describe, expect, it } from 'vitest';
import { buildApp } from '../../infra/app';
import { PROJECT_ROOT } from '../../infra/bundling';
import { propsFromContext } from '../../infra/stack';

function freshApp(name: string): { app: App; outdir: string } {
  const outdir = join(PROJECT_ROOT, '.tmp', `infra-${name}.out`);
  rmSync(outdir, { recursive: true, force: true });
  mkdirSync(outdir, { recursive: true });
  // The real app and config, bundling skipped: nag inspects templates, not code.
  return { app: new App({ outdir, context: { 'aws:cdk:bundling-stacks': [] } }), outdir };
}

describe('cdk app', () => {
  it('synthesizes the real app with zero unacknowledged cdk-nag findings', () => {
    const { app } = freshApp('nag-clean');
    const { stack } = buildApp(app);
    const assembly = app.synth();
    expect(assembly.getStackByName(stack.stackName).template.Resources).toBeDefined();
  });

  it('fails synth and writes the validation report when a finding is not acknowledged', () => {
    const { app, outdir } = freshApp('nag-dirty');
    const { stack } = buildApp(app);
    new iam.Role(stack, 'TooWide', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      inlinePolicies: { wide: new iam.PolicyDocument({ statements: [new iam.PolicyStatement({ actions: ['s3:*'], resources: ['*'] })] }) },
    });
    expect(() => app.synth()).toThrow(/TooWide[\s\S]*AwsSolutions-IAM5\[Action::s3:\*\]/);
    const report = readFileSync(join(outdir, 'validation-report.json'), 'utf8');
    expect(report).toContain('AwsSolutions-IAM5[Action::s3:*]');
    // Only the deliberately wide role is reported: everything the construct creates is clean or waived.
    const paths = [...report.matchAll(/"constructPath":\s*"([^"]+)"/g)].map((m) => m[1]);
    expect(paths.length).toBeGreaterThan(0);
    for (const p of paths) expect(p).toContain('TooWide');
  });
});

describe('propsFromContext', () => {
  it('reads comma-separated -c values and JSON arrays from cdk.json', () => {
    const ctx: Record<string, unknown> = {
      'restore-validation:configPath': 'my.yaml',
      'restore-validation:resourceTypes': 'rds, s3',
      'restore-validation:restoreTestingPlanArns': ['arn:aws:backup:us-east-1:123456789012:restore-testing-plan:p-1'],
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
  });
});

/**
 * Every deployable variant, synthesized as `cdk synth` does (cdk.json feature flags, cdk-nag, bundling
 * skipped): the default app, the VPC variant (the stack's own vpcId lookup, from cached context), a
 * member and a central stack of docs/operations.md, and the StackSets template. Each template is
 * linted with cfn-lint (the image's Python tools) when it is installed; without it the lint test is
 * skipped and says why. One synth of one app for all of them: synthesis is the slow part.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { App, CliCredentialsStackSynthesizer, type Stack } from 'aws-cdk-lib';
import type { CloudAssembly } from 'aws-cdk-lib/cx-api';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../infra/app';
import { PROJECT_ROOT } from '../../infra/bundling';
import { assetsBucketSynthesizer, propsFromContext, RestoreValidationStack } from '../../infra/stack';

const MEMBER = '111111111111';
const CENTRAL = '999999999999';
const REGION = 'eu-west-1';
const VPC_ID = 'vpc-0123456789abcdef0';
/** The bucket name of the StackSets recipe in docs/operations.md. */
// biome-ignore lint/suspicious/noTemplateCurlyInString: a CloudFormation placeholder, filled in by CloudFormation
const ASSETS_BUCKET = 'org-restore-validation-assets-${AWS::Region}';

/** What `cdk context` caches for the VPC lookup (two AZs, private subnets with egress). */
const vpcContext = {
  [`vpc-provider:account=${MEMBER}:filter.vpc-id=${VPC_ID}:region=${REGION}:returnAsymmetricSubnets=true`]: {
    vpcId: VPC_ID,
    vpcCidrBlock: '10.0.0.0/16',
    ownerAccountId: MEMBER,
    availabilityZones: [],
    subnetGroups: [
      {
        name: 'Private',
        type: 'Private',
        subnets: [
          {
            subnetId: 'subnet-0aaa',
            cidr: '10.0.1.0/24',
            availabilityZone: `${REGION}a`,
            routeTableId: 'rtb-0aaa',
          },
          {
            subnetId: 'subnet-0bbb',
            cidr: '10.0.2.0/24',
            availabilityZone: `${REGION}b`,
            routeTableId: 'rtb-0bbb',
          },
        ],
      },
    ],
  },
};

/** A central stack's outputs, as a member passes them (ARNs as they are: docs/operations.md). */
const central = {
  bucketName: 'restorevalidationcentral-operationsevidencebucket-abc123',
  tableArn: `arn:aws:dynamodb:${REGION}:${CENTRAL}:table/RestoreValidationCentral-OperationsEvidenceIndex-XYZ`,
  busArn: `arn:aws:events:${REGION}:${CENTRAL}:event-bus/restore-validation-central`,
  sinkArn: `arn:aws:oam:${REGION}:${CENTRAL}:sink/a1b2c3d4-5678-90ab-cdef-EXAMPLE11111`,
  reconcilerRoleArn: `arn:aws:iam::${CENTRAL}:role/RestoreValidationCentral-OperationsReconcilerRole-ABC`,
};

const outdir = join(PROJECT_ROOT, '.tmp', 'infra-variants.out');
let assembly: CloudAssembly;
const stacks: Record<string, Stack> = {};

beforeAll(() => {
  rmSync(outdir, { recursive: true, force: true });
  mkdirSync(outdir, { recursive: true });
  const { context } = JSON.parse(readFileSync(join(PROJECT_ROOT, 'cdk.json'), 'utf8')) as {
    context?: object;
  };
  const app = new App({ outdir, context: { ...context, ...vpcContext, 'aws:cdk:bundling-stacks': [] } });
  // The real app (cdk-nag plugin included): its default stack, then the other variants beside it.
  stacks.default = buildApp(app).stack;
  stacks.vpc = new RestoreValidationStack(app, 'WithVpc', {
    env: { account: MEMBER, region: REGION },
    vpcId: VPC_ID,
  });
  stacks.member = new RestoreValidationStack(app, 'Member', {
    env: { account: MEMBER, region: REGION },
    operations: {
      centralEvidence: { bucketName: central.bucketName, tableArn: central.tableArn },
      forwardEventsTo: { eventBusArn: central.busArn },
      forwardMetricsTo: { sinkArn: central.sinkArn },
      centralReconciler: { reconcilerRoleArn: central.reconcilerRoleArn },
    },
  });
  stacks.central = new RestoreValidationStack(app, 'Central', {
    env: { account: CENTRAL, region: REGION },
    operations: {
      centralEventBus: { memberAccountIds: [MEMBER, '222222222222'] },
      memberAccounts: [
        { roleArn: `arn:aws:iam::${MEMBER}:role/restore-validation-central-read` },
        { roleArn: 'arn:aws:iam::222222222222:role/restore-validation-central-read' },
      ],
      memberRegions: [REGION, 'us-east-1'],
    },
  });
  stacks.stacksets = new RestoreValidationStack(app, 'StackSets', {
    synthesizer: assetsBucketSynthesizer(ASSETS_BUCKET),
  });
  // An unacknowledged cdk-nag finding in any variant throws here, naming the rule and the path.
  assembly = app.synth();
});

const templateOf = (name: string) => assembly.getStackByName(stacks[name]?.stackName ?? '').template;
const templateFile = (name: string) => join(outdir, stacks[name]?.templateFile ?? '');

describe('synthesized variants', () => {
  it('synthesizes every variant with zero unacknowledged cdk-nag findings', () => {
    for (const name of ['default', 'vpc', 'member', 'central', 'stacksets'])
      expect(Object.keys(templateOf(name).Resources ?? {}).length, name).toBeGreaterThan(0);
  });

  it('puts the database validators in the looked-up VPC and prints the selection overrides in the VPC variant', () => {
    const t = templateOf('vpc');
    const inVpc = Object.values(
      t.Resources as Record<string, { Type: string; Properties: Record<string, unknown> }>,
    )
      .filter((r) => r.Type === 'AWS::Lambda::Function' && r.Properties.VpcConfig)
      .map((r) => r.Properties.VpcConfig as { SubnetIds: string[] });
    expect(inVpc.length).toBeGreaterThanOrEqual(4);
    for (const c of inVpc) expect(c.SubnetIds).toEqual(['subnet-0aaa', 'subnet-0bbb']);
    expect(Object.keys(t.Outputs ?? {}).some((k) => k.includes('DatabaseRestoreMetadataOverrides'))).toBe(
      true,
    );
    expect(
      Object.keys(templateOf('default').Outputs ?? {}).some((k) =>
        k.includes('DatabaseRestoreMetadataOverrides'),
      ),
    ).toBe(false);
  });

  it('makes the member trust the central reconciler role as given and index into the central table ARN', () => {
    const t = JSON.stringify(templateOf('member'));
    expect(t).toContain(`"AWS":"${central.reconcilerRoleArn}"`);
    expect(t).toContain(`"EVIDENCE_TABLE":"${central.tableArn}"`);
    expect(t).not.toMatch(/arn:aws:[a-z]+:[^"]*arn:aws:/);
  });

  it('refuses central outputs wrapped in another ARN prefix, naming the prop and the fix', () => {
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
    const wrapped = (operations: object) => () =>
      new RestoreValidationStack(app, `Wrapped${Object.keys(operations)[0]}`, {
        env: { account: MEMBER, region: REGION },
        operations,
      });
    expect(
      wrapped({
        centralReconciler: { reconcilerRoleArn: `arn:aws:iam::${CENTRAL}:role/${central.reconcilerRoleArn}` },
      }),
    ).toThrow(
      /centralReconciler\.reconcilerRoleArn .* is not a valid ARN: expected arn:aws:iam::<account>:role\/<name>/,
    );
    expect(
      wrapped({
        centralEvidence: {
          bucketName: central.bucketName,
          tableArn: `arn:aws:dynamodb:${REGION}:${CENTRAL}:table/${central.tableArn}`,
        },
      }),
    ).toThrow(/centralEvidence\.tableArn .* is not a valid ARN/);
  });
});

describe('the StackSets template', () => {
  it('needs no parameter and no CDK bootstrap in the target accounts', () => {
    const t = templateOf('stacksets');
    expect(t.Parameters ?? {}).toEqual({});
    expect(t.Rules ?? {}).toEqual({});
    expect(JSON.stringify(t)).not.toMatch(/cdk-[a-z0-9]{9}-|BootstrapVersion/);
    // The same template from the context key the docs use.
    const fromContext = propsFromContext((k) =>
      k === 'restore-validation:assetsBucketName' ? ASSETS_BUCKET : undefined,
    );
    expect(fromContext.synthesizer).toBeInstanceOf(CliCredentialsStackSynthesizer);
  });

  it("takes every function code from the regional assets bucket, published with the caller's credentials", () => {
    const t = templateOf('stacksets');
    const codes = Object.values(
      t.Resources as Record<string, { Type: string; Properties: { Code?: unknown } }>,
    )
      .filter((r) => r.Type === 'AWS::Lambda::Function')
      .map((r) => r.Properties.Code as { S3Bucket: unknown; S3Key: string });
    expect(codes.length).toBeGreaterThan(10);
    for (const c of codes) {
      expect(c.S3Bucket).toEqual({ 'Fn::Sub': ASSETS_BUCKET });
      expect(c.S3Key).toMatch(/^restore-validation\/[0-9a-f]{64}\.zip$/);
    }
    const manifest = JSON.parse(
      readFileSync(join(outdir, `${stacks.stacksets?.artifactId}.assets.json`), 'utf8'),
    ) as {
      files: Record<string, { destinations: Record<string, { bucketName: string; assumeRoleArn?: string }> }>;
    };
    const destinations = Object.values(manifest.files).flatMap((f) => Object.values(f.destinations));
    expect(destinations.length).toBeGreaterThan(0);
    for (const d of destinations) {
      expect(d.bucketName).toBe(ASSETS_BUCKET);
      expect(d.assumeRoleArn).toBeUndefined();
    }
  });

  it('is too large for --template-body but within the 1 MB of --template-url, which the recipe uses', () => {
    const bytes = statSync(templateFile('stacksets')).size;
    expect(bytes).toBeGreaterThan(51_200);
    expect(bytes).toBeLessThan(1_000_000);
    const docs = readFileSync(join(PROJECT_ROOT, 'docs', 'operations.md'), 'utf8');
    const recipe = docs.slice(
      docs.indexOf('**CloudFormation StackSets**'),
      docs.indexOf('### Central evidence account'),
    );
    expect(recipe).toContain(`restore-validation:assetsBucketName=${ASSETS_BUCKET}`);
    expect(recipe).toContain('--template-url');
    expect(recipe).not.toContain('--template-body file://');
    expect(recipe).toContain('cdk publish-assets');
  });
});

describe('cfn-lint', () => {
  const cfnLint = spawnSync('cfn-lint', ['--version'], { encoding: 'utf8' });
  const installed = cfnLint.status === 0;

  it("finds no error in any variant's template", (ctx) => {
    if (!installed)
      ctx.skip('cfn-lint is not installed (pip install cfn-lint): the templates were not linted');
    const files = ['default', 'vpc', 'member', 'central', 'stacksets'].map(templateFile);
    const run = spawnSync('cfn-lint', ['--format', 'json', '--', ...files], {
      encoding: 'utf8',
      maxBuffer: 64 << 20,
    });
    // Exit status is a bit mask: 2 errors, 4 warnings, 8 informational; anything else is a crash.
    expect(run.status === 0 || (run.status ?? 1) & 14, run.stderr).toBeTruthy();
    const findings = JSON.parse(run.stdout || '[]') as Array<{
      Level: string;
      Rule: { Id: string };
      Message: string;
      Filename: string;
    }>;
    const errors = findings.filter((f) => f.Level === 'Error');
    expect(errors.map((e) => `${e.Filename}: ${e.Rule.Id} ${e.Message}`)).toEqual([]);
  }, 300_000); // cfn-lint over five templates is CPU-bound: minutes on a busy 2-core machine
});

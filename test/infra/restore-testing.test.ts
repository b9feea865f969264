import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, aws_ec2 as ec2, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../infra/bundling';
import { RestoreValidation, type RestoreValidationProps } from '../../infra/restore-validation';
import { loadConfigFile } from '../../shared/config';
import { ConfigError } from '../../shared/errors';

const FUNCTIONS = join(PROJECT_ROOT, 'test', 'infra', 'fixtures', 'functions');
const dir = mkdtempSync(join(tmpdir(), 'rv-restore-testing-'));

function configFile(yaml: string): string {
  const file = join(dir, `${Math.random().toString(36).slice(2)}.yaml`);
  writeFileSync(file, yaml);
  return file;
}

const PROFILES = `
version: 1
profiles:
  - name: orders-db
    match: { resourceType: RDS, sourceResourceArn: "arn:aws:rds:*:*:db:orders-*" }
    connection: { database: orders, iamAuth: true, user: validator }
    checks:
      - { id: orders, sql: select 1 as n, expect: { n: { min: 1 } } }
`;

const PLAN = `${PROFILES}
restoreTesting:
  plans:
    - name: nightly_restore_tests
      schedule: cron(0 2 ? * * *)
      timezone: Europe/Berlin
      startWindowHours: 8
      recoveryPoints: { selectionWindowDays: 7, includeVaults: ["arn:aws:backup:us-east-1:123456789012:backup-vault:main"] }
      selections:
        - name: orders_db
          resourceType: RDS
          resourceArns: ["arn:aws:rds:us-east-1:123456789012:db:orders-prod"]
          validationWindowHours: 2
        - name: app_servers
          resourceType: EC2
          conditions: { stringEquals: { backup: nightly } }
        - name: volumes
          resourceType: EBS
          resourceArns: ["*"]
        - name: documents
          resourceType: S3
          resourceArns: ["*"]
          overrides: { newBucket: "true" }
`;

function build(yaml: string, props: Partial<RestoreValidationProps> = {}, withVpc = true) {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new Stack(app, 'Test', { env: { account: '123456789012', region: 'us-east-1' } });
  const vpc = withVpc ? new ec2.Vpc(stack, 'Vpc', { maxAzs: 2, natGateways: 1 }) : undefined;
  const construct = new RestoreValidation(stack, 'RV', {
    configPath: configFile(yaml),
    functionsDir: FUNCTIONS,
    resourceTypes: ['rds', 'ec2', 'ebs', 's3'],
    ...(vpc ? { vpc } : {}),
    ...props,
  });
  return { stack, construct, template: Template.fromStack(stack) };
}

describe('restore testing plans and selections', () => {
  it('synthesizes the plan with its schedule, window and recovery point selection', () => {
    const { template } = build(PLAN);
    template.hasResourceProperties('AWS::Backup::RestoreTestingPlan', {
      RestoreTestingPlanName: 'nightly_restore_tests',
      ScheduleExpression: 'cron(0 2 ? * * *)',
      ScheduleExpressionTimezone: 'Europe/Berlin',
      StartWindowHours: 8,
      RecoveryPointSelection: {
        Algorithm: 'LATEST_WITHIN_WINDOW',
        IncludeVaults: ['arn:aws:backup:us-east-1:123456789012:backup-vault:main'],
        RecoveryPointTypes: ['CONTINUOUS', 'SNAPSHOT'],
        SelectionWindowDays: 7,
      },
    });
  });

  it('gives a database selection the validators security group, subnet group and IAM auth', () => {
    const { template, construct, stack } = build(PLAN);
    const sg = stack.resolve(construct.securityGroup?.securityGroupId);
    const subnetGroup = stack.resolve(construct.dbSubnetGroup?.subnetGroupName);
    const sel = template.findResources('AWS::Backup::RestoreTestingSelection', {
      Properties: { RestoreTestingSelectionName: 'orders_db' },
    });
    const props = Object.values(sel)[0]?.Properties;
    expect(props.ProtectedResourceType).toBe('RDS');
    expect(props.ProtectedResourceArns).toEqual(['arn:aws:rds:us-east-1:123456789012:db:orders-prod']);
    expect(props.ValidationWindowHours).toBe(2);
    expect(props.RestoreMetadataOverrides.dbSubnetGroupName).toEqual(subnetGroup);
    expect(JSON.stringify(props.RestoreMetadataOverrides.vpcSecurityGroupIds)).toContain(
      JSON.stringify(sg).slice(1, -1),
    );
    expect(props.RestoreMetadataOverrides.enableIamDatabaseAuthentication).toBe('true');
    // The plan is referenced, so the selection is created after it.
    expect(props.RestoreTestingPlanName).toEqual({ Ref: expect.stringMatching(/Plannightly/) });
  });

  it('keeps the backed-up instance profile for EC2 (SSM) and selects by tag conditions', () => {
    const { template } = build(PLAN);
    template.hasResourceProperties('AWS::Backup::RestoreTestingSelection', {
      RestoreTestingSelectionName: 'app_servers',
      ProtectedResourceType: 'EC2',
      ProtectedResourceConditions: { StringEquals: [{ Key: 'aws:ResourceTag/backup', Value: 'nightly' }] },
      RestoreMetadataOverrides: { iamInstanceProfileName: 'UseBackedUpValue' },
      ProtectedResourceArns: Match.absent(),
      ValidationWindowHours: 4,
    });
  });

  it('pins EBS restores to an AZ of the helper subnets and keeps user overrides', () => {
    const { template, stack } = build(PLAN);
    const helperAzs = (stack.node.findChild('Vpc') as ec2.Vpc).selectSubnets().availabilityZones;
    const volumes = Object.values(
      template.findResources('AWS::Backup::RestoreTestingSelection', {
        Properties: { RestoreTestingSelectionName: 'volumes' },
      }),
    )[0]?.Properties;
    expect(helperAzs.length).toBeGreaterThan(0);
    expect(helperAzs).toContain(volumes?.RestoreMetadataOverrides?.availabilityZone);
    template.hasResourceProperties('AWS::Backup::RestoreTestingSelection', {
      RestoreTestingSelectionName: 'documents',
      RestoreMetadataOverrides: { newBucket: 'true' },
    });
  });

  it('creates the restore role for AWS Backup with the restore policies and every selection uses it', () => {
    const { template } = build(PLAN);
    const roles = template.findResources('AWS::IAM::Role', {
      Properties: {
        AssumeRolePolicyDocument: {
          Statement: [Match.objectLike({ Principal: { Service: 'backup.amazonaws.com' } })],
        },
      },
    });
    const [logicalId, role] = Object.entries(roles)[0] ?? [];
    expect(JSON.stringify(role?.Properties.ManagedPolicyArns)).toContain(
      'AWSBackupServiceRolePolicyForRestores',
    );
    expect(JSON.stringify(role?.Properties.ManagedPolicyArns)).toContain(
      'AWSBackupServiceRolePolicyForS3Restore',
    );
    const selections = Object.values(template.findResources('AWS::Backup::RestoreTestingSelection'));
    expect(selections).toHaveLength(4);
    for (const s of selections) expect(s.Properties.IamRoleArn).toEqual({ 'Fn::GetAtt': [logicalId, 'Arn'] });
  });

  it('uses the role the config names instead of creating one', () => {
    const arn = 'arn:aws:iam::123456789012:role/my-restore-role';
    const { template } = build(PLAN.replace('restoreTesting:\n', `restoreTesting:\n  iamRoleArn: ${arn}\n`));
    template.hasResourceProperties('AWS::Backup::RestoreTestingSelection', { IamRoleArn: arn });
    expect(
      Object.keys(
        template.findResources('AWS::IAM::Role', {
          Properties: {
            AssumeRolePolicyDocument: {
              Statement: [Match.objectLike({ Principal: { Service: 'backup.amazonaws.com' } })],
            },
          },
        }),
      ),
    ).toHaveLength(0);
  });

  it('warns when a database selection has no VPC to land in', () => {
    const { stack } = build(PLAN, {}, false);
    const warnings = stack.node
      .findAll()
      .flatMap((c) => c.node.metadata)
      .filter((m) => m.type === 'aws:cdk:warning')
      .map((m) => String(m.data));
    expect(warnings.some((w) => w.includes('orders_db') && w.includes('dbSubnetGroupName'))).toBe(true);
  });

  it('creates nothing without a restoreTesting section (hand-made plans keep working)', () => {
    const { template, construct } = build(PROFILES);
    expect(construct.restoreTesting).toBeUndefined();
    template.resourceCountIs('AWS::Backup::RestoreTestingPlan', 0);
  });
});

describe('restoreTesting config rules (checked before synth)', () => {
  const bad = (plan: string) =>
    `version: 1\nrestoreTesting:\n  plans:\n${plan
      .trim()
      .split('\n')
      .map((l) => `    ${l}`)
      .join('\n')}\n`;
  const cases: Array<[string, string, RegExp, RegExp]> = [
    [
      'a plan name with a dash',
      '- name: nightly-tests\n  selections: [{ name: a, resourceType: RDS, resourceArns: ["*"] }]',
      /restoreTesting\.plans\[0\]\.name/,
      /letters, digits and underscores.*replace "-"/,
    ],
    [
      'a plan name longer than 50',
      `- name: ${'a'.repeat(51)}\n  selections: [{ name: a, resourceType: RDS, resourceArns: ["*"] }]`,
      /plans\[0\]\.name/,
      /1 to 50 characters/,
    ],
    [
      '31 ARNs',
      `- name: p\n  selections: [{ name: a, resourceType: RDS, resourceArns: [${Array.from({ length: 31 }, (_, i) => `"arn:aws:rds:us-east-1:123456789012:db:d${i}"`).join(', ')}] }]`,
      /selections\[0\]\.resourceArns/,
      /at most 30 resourceArns.*split it/,
    ],
    [
      'ARNs and conditions together',
      '- name: p\n  selections: [{ name: a, resourceType: RDS, resourceArns: ["*"], conditions: { stringEquals: { a: b } } }]',
      /selections\[0\]\.conditions/,
      /not both/,
    ],
    [
      'a resource ARN without its account or resource',
      '- name: p\n  selections: [{ name: a, resourceType: RDS, resourceArns: ["arn:aws:rds:us-east-1:orders-prod"] }]',
      /selections\[0\]\.resourceArns\[0\]/,
      /expected a resource ARN/,
    ],
    [
      'a resource ARN cut short after the service',
      '- name: p\n  selections: [{ name: a, resourceType: RDS, resourceArns: ["arn:aws:rds"] }]',
      /selections\[0\]\.resourceArns\[0\]/,
      /expected a resource ARN/,
    ],
    [
      'a validation window of 169 hours',
      '- name: p\n  selections: [{ name: a, resourceType: RDS, resourceArns: ["*"], validationWindowHours: 169 }]',
      /validationWindowHours/,
      /1 to 168/,
    ],
    [
      'a start window of 0 hours',
      '- name: p\n  startWindowHours: 0\n  selections: [{ name: a, resourceType: RDS, resourceArns: ["*"] }]',
      /startWindowHours/,
      /1 to 168/,
    ],
    [
      'a start window of 169 hours',
      '- name: p\n  startWindowHours: 169\n  selections: [{ name: a, resourceType: RDS, resourceArns: ["*"] }]',
      /startWindowHours/,
      /1 to 168/,
    ],
    [
      'an unknown resource type',
      '- name: p\n  selections: [{ name: a, resourceType: Redshift, resourceArns: ["*"] }]',
      /resourceType/,
      /must be one of Aurora, DocumentDB/,
    ],
  ];
  for (const [what, plan, path, fix] of cases) {
    it(`fails with the file, the path and the fix for ${what}`, () => {
      const file = configFile(bad(plan));
      let error: unknown;
      try {
        loadConfigFile(file);
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(ConfigError);
      const message = String((error as Error).message);
      expect(message).toContain(file);
      expect(message).toMatch(path);
      expect(message).toMatch(fix);
    });
  }

  it('also fails synth, before any resource is made', () => {
    expect(() =>
      build(bad('- name: bad-name\n  selections: [{ name: a, resourceType: RDS, resourceArns: ["*"] }]')),
    ).toThrow(/plans\[0\]\.name/);
  });
});

describe("the repository's own config", () => {
  it('carries an example plan with one selection per common type, so a fresh clone synthesizes them', () => {
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
    const stack = new Stack(app, 'Repo', { env: { account: '123456789012', region: 'us-east-1' } });
    new RestoreValidation(stack, 'RV', { configPath: join(PROJECT_ROOT, 'validation.config.yaml') });
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::Backup::RestoreTestingPlan', 1);
    const types = Object.values(template.findResources('AWS::Backup::RestoreTestingSelection')).map(
      (s) => s.Properties.ProtectedResourceType,
    );
    expect(types.sort()).toEqual(['DynamoDB', 'EBS', 'EC2', 'RDS', 'S3']);
  });
});

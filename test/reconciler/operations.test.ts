import { App, Duration, aws_lambda as lambda, Stack, Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { describe, expect, it } from 'vitest';
import {
  OperationsPropsError,
  RestoreValidationOperations,
  type RestoreValidationOperationsProps,
} from '../../infra/constructs/operations';

function build(props: RestoreValidationOperationsProps = {}) {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new Stack(app, 'Ops', { env: { account: '123456789012', region: 'eu-west-1' } });
  const ops = new RestoreValidationOperations(stack, 'Ops', props);
  const validator = new lambda.Function(stack, 'RdsValidator', {
    runtime: lambda.Runtime.NODEJS_24_X,
    handler: 'index.handler',
    code: lambda.Code.fromInline('exports.handler = async () => {}'),
  });
  ops.attachValidators({ rds: validator });
  return { stack, ops, template: Template.fromStack(stack) };
}

describe('RestoreValidationOperations', () => {
  it('passes cdk-nag on its own: each wildcard it grants is acknowledged where it is granted', () => {
    // Not only inside RestoreValidationStack: the reconciler's waivers live with its statements.
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
    const stack = new Stack(app, 'OpsAlone', { env: { account: '123456789012', region: 'eu-west-1' } });
    const ops = new RestoreValidationOperations(stack, 'Ops', {});
    expect(() => app.synth()).not.toThrow();
    const reasons = ops.reconcilerRole.node.metadata
      .filter((m) => m.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
      .flatMap((m) => Object.values(m.data as Record<string, string>));
    expect(reasons).toContain(
      'ReadRestoreJobsAndPostVerdicts: AWS Backup has no resource-level permissions for ListRestoreJobs, DescribeRestoreJob, PutRestoreValidationResult, ListRestoreTestingPlans or ListProtectedResources: Resource must be *',
    );
  });

  it('creates a versioned, private, TLS-only evidence bucket with Object Lock when a retention is given', () => {
    const { template } = build({ objectLockRetention: Duration.days(400) });
    template.hasResourceProperties('AWS::S3::Bucket', {
      VersioningConfiguration: { Status: 'Enabled' },
      ObjectLockEnabled: true,
      ObjectLockConfiguration: {
        ObjectLockEnabled: 'Enabled',
        Rule: { DefaultRetention: { Mode: 'GOVERNANCE', Days: 400 } },
      },
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      },
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }],
      },
    });
    template.hasResourceProperties('AWS::S3::BucketPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ]),
      },
    });
  });

  it('creates the index table with the three query indexes the evidence store uses', () => {
    const { template } = build();
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      KeySchema: [{ AttributeName: 'restoreJobId', KeyType: 'HASH' }],
      TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
      GlobalSecondaryIndexes: Match.arrayWith([
        Match.objectLike({
          IndexName: 'byResource',
          KeySchema: [
            { AttributeName: 'sourceResourceArn', KeyType: 'HASH' },
            { AttributeName: 'finishedAt', KeyType: 'RANGE' },
          ],
        }),
        Match.objectLike({ IndexName: 'byPlan' }),
        Match.objectLike({ IndexName: 'byMonth' }),
      ]),
    });
  });

  it('runs the reconciler on a schedule and alarms when its heartbeat goes missing', () => {
    const { template } = build({ reconcilerSchedule: Duration.minutes(15) });
    template.hasResourceProperties('AWS::Events::Rule', { ScheduleExpression: 'rate(15 minutes)' });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'ReconcilerRuns',
      Namespace: 'RestoreValidation',
      Period: 1800,
      ComparisonOperator: 'LessThanThreshold',
      TreatMissingData: 'breaching',
      AlarmActions: Match.anyValue(),
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'UntestedResources',
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
    });
    template.resourceCountIs('AWS::CloudWatch::Dashboard', 1);
  });

  it('alarms when a validation misses a recovery objective', () => {
    const { template } = build();
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'ObjectivesMissed',
      Namespace: 'RestoreValidation',
      Dimensions: [{ Name: 'service', Value: 'restore-validation' }],
      Statistic: 'Sum',
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      TreatMissingData: 'notBreaching',
      AlarmActions: Match.anyValue(),
    });
  });

  it('lets the reconciler sweep only DB instances tagged as ours, and nothing when told not to', () => {
    const statementsOf = (template: Template) =>
      Object.values(template.findResources('AWS::IAM::Policy')).flatMap(
        (p) =>
          p.Properties.PolicyDocument.Statement as { Sid?: string; Condition?: unknown; Action: unknown }[],
      );
    const on = build();
    on.template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ RECONCILER_SWEEP_INSTANCES: 'true' }) },
    });
    const del = statementsOf(on.template).find((s) => s.Sid === 'DeleteTemporaryInstances');
    expect(del).toMatchObject({
      Action: 'rds:DeleteDBInstance',
      Condition: { Null: { 'aws:ResourceTag/restore-validation:created-by': 'false' } },
    });
    const off = build({ sweepTemporaryInstances: false });
    const sids = statementsOf(off.template).map((s) => s.Sid);
    expect(sids).not.toContain('DeleteTemporaryInstances');
    expect(sids).not.toContain('FindTemporaryInstances');
    expect(JSON.stringify(off.template.toJSON())).not.toContain('RECONCILER_SWEEP_INSTANCES');
  });

  it('puts the reconciler in dry-run mode with the deployment, and only then', () => {
    build({ dryRun: true }).template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({
          RECONCILER_INTERVAL_MINUTES: Match.anyValue(),
          RESTORE_VALIDATION_DRY_RUN: 'true',
        }),
      },
    });
    expect(JSON.stringify(build().template.toJSON())).not.toContain('RESTORE_VALIDATION_DRY_RUN');
  });

  it('gives the reconciler only what it uses: invoke on the attached validators, evidence writes under its prefix', () => {
    const { template, stack } = build();
    const policies = Object.values(template.findResources('AWS::IAM::Policy')).flatMap(
      (p) =>
        p.Properties.PolicyDocument.Statement as {
          Sid?: string;
          Action: string | string[];
          Resource: unknown;
        }[],
    );
    const bySid = (sid: string) => policies.find((s) => s.Sid === sid);
    expect(JSON.stringify(stack.resolve(bySid('InvokeValidators')?.Resource))).toContain('RdsValidator');
    expect(JSON.stringify(bySid('WriteEvidence')?.Resource)).toContain('/evidence/*');
    expect(bySid('EvidenceIndexAndClaims')?.Action).toEqual(['dynamodb:PutItem', 'dynamodb:BatchGetItem']);
    expect(policies.flatMap((s) => ([] as string[]).concat(s.Action))).not.toContain('s3:*');
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({
          VALIDATOR_FUNCTIONS: Match.anyValue(),
          EVIDENCE_PREFIX: 'evidence/',
          RECONCILER_INTERVAL_MINUTES: '30',
        }),
      },
    });
  });

  it('watches regions without a stack when asked, with an alarm of their own', () => {
    const { template, ops } = build({ watchRegions: ['eu-central-1', 'us-west-2'] });
    expect(ops.unwatchedRestoresAlarm).toBeDefined();
    template.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'UnwatchedRestoreTests' });
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ RECONCILER_WATCH_REGIONS: 'eu-central-1,us-west-2' }) },
    });
    expect(build().ops.unwatchedRestoresAlarm).toBeUndefined();
  });

  it('rejects props that cannot work together, naming the fix', () => {
    expect(() => build({ objectLockMode: 'COMPLIANCE' })).toThrow(OperationsPropsError);
    expect(() => build({ reconcilerSchedule: Duration.minutes(1) })).toThrow(/use 5 minutes to 6 hours/);
    expect(() =>
      build({ centralEvidence: { bucketName: 'central' }, objectLockRetention: Duration.days(1) }),
    ).toThrow(/central bucket/);
  });

  it('writes to the central bucket under an account/region prefix when one is given', () => {
    const { template } = build({ centralEvidence: { bucketName: 'org-restore-evidence' } });
    template.resourcePropertiesCountIs(
      'AWS::S3::Bucket',
      { VersioningConfiguration: { Status: 'Enabled' } },
      0,
    );
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ EVIDENCE_BUCKET: 'org-restore-evidence' }) },
    });
  });
});

/**
 * What a real account needs of the synthesized templates (issue 18): KMS for S3 checksums, the
 * DynamoDB tag fallback, Step Functions log groups under /aws/vendedlogs/, and an alarm an SRE can
 * live with. Asserted on statements, conditions and properties, never on logical ids.
 */
import { join } from 'node:path';
import { App, Duration, aws_ec2 as ec2, type aws_iam as iam, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../infra/bundling';
import { RestoreValidationOperations } from '../../infra/constructs/operations';
import { nagFlatten } from '../../infra/nag';
import { RestoreValidation, type RestoreValidationProps } from '../../infra/restore-validation';

const FIXTURES = join(PROJECT_ROOT, 'test', 'infra', 'fixtures');

function build(props: RestoreValidationProps = {}) {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new Stack(app, 'Test', { env: { account: '123456789012', region: 'us-east-1' } });
  const construct = new RestoreValidation(stack, 'RV', {
    configPath: join(FIXTURES, 'valid.config.yaml'),
    functionsDir: join(FIXTURES, 'functions'),
    ...props,
  });
  return { stack, construct, template: Template.fromStack(stack) };
}

type Statement = { Sid?: string; Action: string | string[]; Resource: unknown; Condition?: unknown };
function statementsOf(template: Template, stack: Stack, role: iam.IRole): Statement[] {
  const roleRef = JSON.stringify([stack.resolve(role.roleName)]);
  return Object.values(template.findResources('AWS::IAM::Policy'))
    .filter((p) => JSON.stringify(p.Properties.Roles) === roleRef)
    .flatMap((p) => p.Properties.PolicyDocument.Statement as Statement[]);
}
const actionsOf = (s: Statement): string[] => ([] as string[]).concat(s.Action);
/** The S3 objects' kms:Decrypt (the alarm topic's key grant is another statement). */
const decryptOf = (statements: Statement[]) =>
  statements.filter(
    (s) => actionsOf(s).includes('kms:Decrypt') && !JSON.stringify(s.Resource).includes('Fn::GetAtt'),
  );
/** A resolved value with pseudo parameters as this test stack's values (aws, us-east-1, 123456789012). */
const flat = (v: unknown): unknown => {
  if (Array.isArray(v)) return v.map(flat);
  if (v && typeof v === 'object' && !('Fn::Join' in v) && !('Ref' in v))
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, flat(x)]));
  return nagFlatten(v)
    .replaceAll('<AWS::Partition>', 'aws')
    .replaceAll('<AWS::Region>', 'us-east-1')
    .replaceAll('<AWS::AccountId>', '123456789012');
};

describe('S3 validator and KMS-encrypted objects', () => {
  it('may decrypt through S3 only, only for the compared buckets, in the validator and the map workers', () => {
    const { stack, construct, template } = build();
    const worker = construct.s3DistributedMap?.workerFunction.role as iam.IRole;
    for (const role of [construct.roles.s3 as iam.IRole, worker]) {
      const [decrypt, ...others] = decryptOf(statementsOf(template, stack, role));
      expect(others).toEqual([]);
      expect(flat(decrypt?.Resource)).toBe('arn:aws:kms:us-east-1:123456789012:key/*');
      expect(flat(decrypt?.Condition)).toEqual({
        StringEquals: { 'kms:ViaService': 's3.us-east-1.amazonaws.com' },
        StringLike: {
          'kms:EncryptionContext:aws:s3:arn': [
            'arn:aws:s3:::awsbackup-restore-test-*',
            'arn:aws:s3:::awsbackup-restore-test-*/*',
            'arn:aws:s3:::media-*',
            'arn:aws:s3:::media-*/*',
          ],
        },
      });
    }
    // No other validator gets kms:Decrypt for S3 objects.
    expect(decryptOf(statementsOf(template, stack, construct.roles.rds as iam.IRole))).toEqual([]);
  });

  it('limits kms:Decrypt to the keys s3KmsKeyArns names, keeping the conditions', () => {
    const key = 'arn:aws:kms:us-east-1:444455556666:key/1234abcd-12ab-34cd-56ef-1234567890ab';
    const { stack, construct, template } = build({ s3KmsKeyArns: [key] });
    const [decrypt] = decryptOf(statementsOf(template, stack, construct.roles.s3 as iam.IRole));
    expect(decrypt?.Resource).toBe(key);
    expect(flat(decrypt?.Condition)).toMatchObject({
      StringEquals: { 'kms:ViaService': 's3.us-east-1.amazonaws.com' },
    });
  });

  it('rejects an empty s3KmsKeyArns and an alias in it, with the fix', () => {
    expect(() => build({ s3KmsKeyArns: [] })).toThrow(/s3KmsKeyArns is empty/);
    expect(() => build({ s3KmsKeyArns: ['arn:aws:kms:us-east-1:123456789012:alias/orders'] })).toThrow(
      /not a KMS key ARN: expected arn:aws:kms:<region>:<account>:key\/<key id>/,
    );
  });
});

describe('DynamoDB validator tag fallback', () => {
  it('may read the tags of any table of the account and region, and the data of tables tagged as restore tests only', () => {
    const { stack, construct, template } = build();
    const ddb = statementsOf(template, stack, construct.roles.dynamodb as iam.IRole);
    const tags = ddb.filter((s) => actionsOf(s).includes('dynamodb:ListTagsOfResource'));
    expect(tags).toHaveLength(1);
    expect(actionsOf(tags[0] as Statement)).toEqual(['dynamodb:ListTagsOfResource']);
    expect(flat(tags[0]?.Resource)).toBe('arn:aws:dynamodb:us-east-1:123456789012:table/*');
    const tagged = ddb.find((s) => s.Sid === 'ReadTablesTaggedAsRestoreTests');
    expect(tagged?.Condition).toEqual({ Null: { 'aws:ResourceTag/awsbackup-restore-test': 'false' } });
    expect(
      actionsOf(tagged as Statement).every((a) => /^dynamodb:(Describe|Scan|Query|Get|BatchGet)/.test(a)),
    ).toBe(true);
  });
});

describe('Step Functions log groups', () => {
  it('puts every state machine log group (EBS helper, S3 Distributed Map) under /aws/vendedlogs/states/, named per stack', () => {
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
    const stack = new Stack(app, 'Test', { env: { account: '123456789012', region: 'us-east-1' } });
    new RestoreValidation(stack, 'RV', {
      configPath: join(FIXTURES, 'valid.config.yaml'),
      functionsDir: join(FIXTURES, 'functions'),
      vpc: new ec2.Vpc(stack, 'Vpc', { maxAzs: 2, natGateways: 1 }),
    });
    const template = Template.fromStack(stack);
    const machines = Object.values(template.findResources('AWS::StepFunctions::StateMachine'));
    expect(machines).toHaveLength(2);
    const groups = template.findResources('AWS::Logs::LogGroup');
    const names = machines.map((m) => {
      const arn = m.Properties.LoggingConfiguration.Destinations[0].CloudWatchLogsLogGroup.LogGroupArn;
      const group = groups[arn['Fn::GetAtt'][0] as string];
      return nagFlatten(group?.Properties.LogGroupName);
    });
    for (const name of names) expect(name).toMatch(/^\/aws\/vendedlogs\/states\/<AWS::StackName>-.+$/);
    expect(new Set(names).size).toBe(2);
  });
});

describe('ReconcilerErrorsAlarm', () => {
  const alarmOf = (schedule?: Duration) => {
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
    const stack = new Stack(app, 'Ops', { env: { account: '123456789012', region: 'us-east-1' } });
    const ops = new RestoreValidationOperations(stack, 'Operations', {
      ...(schedule ? { reconcilerSchedule: schedule } : {}),
    });
    const template = Template.fromStack(stack);
    const topic = stack.resolve(ops.alarmTopic.topicArn);
    return { template, topic, fn: stack.resolve(ops.reconciler.functionName) };
  };

  it('alarms once per outage: one period per pass, missing data keeps the state, OK when a pass succeeds', () => {
    const { template, topic, fn } = alarmOf();
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AWS/Lambda',
      MetricName: 'Errors',
      Dimensions: [{ Name: 'FunctionName', Value: fn }],
      Statistic: 'Sum',
      // The default schedule: every 30 minutes, so every period holds one pass.
      Period: 1800,
      EvaluationPeriods: 1,
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      // Not NOT_BREACHING: a period without a pass would turn it OK and the next failure would notify again.
      TreatMissingData: 'ignore',
      AlarmActions: [topic],
      OKActions: [topic],
    });
  });

  it('follows the reconciler schedule', () => {
    const { template, fn } = alarmOf(Duration.hours(2));
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'Errors',
      Dimensions: [{ Name: 'FunctionName', Value: fn }],
      Period: 7200,
      TreatMissingData: 'ignore',
    });
    // The other alarms still notify on ALARM only.
    const okActions = Object.values(template.findResources('AWS::CloudWatch::Alarm')).filter(
      (a) => a.Properties.OKActions,
    );
    expect(okActions).toHaveLength(1);
    expect(okActions[0]?.Properties).toMatchObject({ MetricName: 'Errors', Namespace: 'AWS/Lambda' });
  });
});

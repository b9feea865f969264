import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { CentralPropsError, METRICS_LINK_FILTER } from '../../infra/constructs/central';
import {
  RestoreValidationOperations,
  type RestoreValidationOperationsProps,
} from '../../infra/constructs/operations';
import { RestoreValidationStack } from '../../infra/stack';

const CENTRAL = '111111111111';
const MEMBER_A = '222222222222';
const MEMBER_B = '333333333333';
const BUS_ARN = `arn:aws:events:eu-west-1:${CENTRAL}:event-bus/restore-validation-central`;
const ROLE_A = `arn:aws:iam::${MEMBER_A}:role/restore-validation-central-read`;
const ROLE_B = `arn:aws:iam::${MEMBER_B}:role/restore-validation-central-read`;
const SINK_ARN = `arn:aws:oam:eu-west-1:${CENTRAL}:sink/a1b2c3d4-5678-90ab-cdef-EXAMPLE11111`;
const TABLE_ARN = `arn:aws:dynamodb:eu-west-1:${CENTRAL}:table/org-restore-evidence`;

/** The value of the one output whose logical id contains `name` (ids carry the construct path). */
const outputNamed = (template: Template, name: string): unknown => {
  const found = Object.entries(template.findOutputs('*')).filter(([id]) => id.includes(name));
  expect(found).toHaveLength(1);
  return (found[0]?.[1] as { Value: unknown } | undefined)?.Value;
};
type Resource = { Properties: Record<string, unknown> };
const only = (template: Template, type: string): Record<string, unknown> => {
  const found = Object.values(template.findResources(type)) as Resource[];
  expect(found).toHaveLength(1);
  return (found[0] as Resource).Properties;
};

function build(account: string, props: RestoreValidationOperationsProps) {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new Stack(app, 'Ops', { env: { account, region: 'eu-west-1' } });
  const ops = new RestoreValidationOperations(stack, 'Ops', props);
  return { ops, template: Template.fromStack(stack) };
}

describe('member stack event forwarding', () => {
  it('forwards restore-job state changes to the central bus through a role scoped to that bus when forwardEventsTo is set', () => {
    const { template } = build(MEMBER_A, { forwardEventsTo: { eventBusArn: BUS_ARN } });
    template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: { source: ['aws.backup'], 'detail-type': ['Restore Job State Change'] },
      Targets: [
        Match.objectLike({
          Arn: BUS_ARN,
          RoleArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('ForwardingRole'), 'Arn'] },
          DeadLetterConfig: {
            Arn: { 'Fn::GetAtt': [Match.stringLikeRegexp('ForwardingDlq'), 'Arn'] },
          },
        }),
      ],
    });
    template.hasResourceProperties('AWS::SQS::Queue', { SqsManagedSseEnabled: true });
    template.hasResourceProperties('AWS::IAM::Role', {
      AssumeRolePolicyDocument: {
        Statement: [Match.objectLike({ Principal: { Service: 'events.amazonaws.com' } })],
      },
    });
    const policies = template.findResources('AWS::IAM::Policy', {
      Properties: { Roles: [{ Ref: Match.stringLikeRegexp('ForwardingRole') }] },
    });
    const statements = Object.values(policies).flatMap(
      (p) =>
        (p as { Properties: { PolicyDocument: { Statement: unknown[] } } }).Properties.PolicyDocument
          .Statement,
    );
    expect(statements).toEqual([{ Effect: 'Allow', Action: 'events:PutEvents', Resource: BUS_ARN }]);
    // The DLQ accepts messages from this rule only.
    template.hasResourceProperties('AWS::SQS::QueuePolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Action: 'sqs:SendMessage',
            Principal: { Service: 'events.amazonaws.com' },
            Condition: { ArnEquals: { 'aws:SourceArn': Match.anyValue() } },
          }),
        ]),
      },
    });
  });

  it('creates no forwarding rule when forwardEventsTo is not set', () => {
    const { template, ops } = build(MEMBER_A, {});
    expect(ops.forwarding).toBeUndefined();
    template.resourceCountIs('AWS::SQS::Queue', 0);
    expect(Object.keys(template.findResources('AWS::Events::EventBus'))).toEqual([]);
  });
});

describe('central stack receiver', () => {
  it('lets exactly the member accounts put events on the bus and write their own evidence prefix when centralEventBus is set', () => {
    const { template } = build(CENTRAL, {
      centralEventBus: { memberAccountIds: [MEMBER_A, MEMBER_B] },
    });
    template.resourceCountIs('AWS::Events::EventBus', 1);
    const policies = template.findResources('AWS::Events::EventBusPolicy');
    const statements = Object.values(policies).map(
      (p) => (p as { Properties: { Statement: Record<string, unknown> } }).Properties.Statement,
    );
    expect(statements).toHaveLength(1);
    expect(statements[0]).toMatchObject({
      Sid: 'cdk-MemberAccountsPutEvents',
      Effect: 'Allow',
      Action: 'events:PutEvents',
    });
    expect(JSON.stringify((statements[0] as { Resource: unknown }).Resource)).toMatch(
      /^\{"Fn::GetAtt":\["OpsCentralReceiverBus[0-9A-F]+","Arn"\]\}$/,
    );
    const principals = JSON.stringify((statements[0] as { Principal: unknown }).Principal);
    expect(principals).toContain(`:iam::${MEMBER_A}:root`);
    expect(principals).toContain(`:iam::${MEMBER_B}:root`);
    expect(principals).not.toContain(CENTRAL);

    template.hasResourceProperties('AWS::S3::BucketPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Sid: `MemberEvidence${MEMBER_A}`,
            Action: 's3:PutObject',
            Principal: { AWS: { 'Fn::Join': ['', Match.arrayWith([`:iam::${MEMBER_A}:root`])] } },
            Resource: {
              'Fn::Join': [
                '',
                [{ 'Fn::GetAtt': [Match.stringLikeRegexp('EvidenceBucket'), 'Arn'] }, `/${MEMBER_A}/*`],
              ],
            },
          }),
        ]),
      },
    });
  });

  it('lets exactly the member accounts index evidence in a table they can reach when centralEventBus is set', () => {
    const { template } = build(CENTRAL, {
      centralEventBus: { memberAccountIds: [MEMBER_A, MEMBER_B, MEMBER_A] },
    });
    const table = only(template, 'AWS::DynamoDB::Table');
    // DynamoDB refuses cross-account access to tables encrypted with the AWS managed key.
    expect(JSON.stringify(table.SSESpecification ?? {})).not.toContain('"SSEEnabled":true');
    const statements = (table.ResourcePolicy as { PolicyDocument: { Statement: Record<string, unknown>[] } })
      .PolicyDocument.Statement;
    expect(statements).toHaveLength(1);
    expect(statements[0]).toMatchObject({
      Sid: 'MemberEvidenceIndex',
      Effect: 'Allow',
      Action: ['dynamodb:PutItem', 'dynamodb:BatchGetItem'],
      Resource: '*',
    });
    const principals = JSON.stringify(statements[0]?.Principal);
    expect(principals.match(/:iam::\d{12}:root/g)?.sort()).toEqual([
      `:iam::${MEMBER_A}:root`,
      `:iam::${MEMBER_B}:root`,
    ]);
    expect(outputNamed(template, 'EvidenceTableArn')).toEqual({
      'Fn::GetAtt': [expect.stringMatching(/EvidenceIndex/), 'Arn'],
    });
  });

  it('keeps the AWS managed key and no resource policy on a single-account table', () => {
    const { template } = build(MEMBER_A, {});
    const table = only(template, 'AWS::DynamoDB::Table');
    expect(table.SSESpecification).toEqual({ SSEEnabled: true }); // the AWS managed key
    expect(table.ResourcePolicy).toBeUndefined();
    template.resourceCountIs('AWS::Oam::Sink', 0);
  });

  it('accepts metric links from exactly the member accounts, for metrics only, when centralEventBus is set', () => {
    const { template } = build(CENTRAL, { centralEventBus: { memberAccountIds: [MEMBER_A, MEMBER_B] } });
    const sink = only(template, 'AWS::Oam::Sink');
    expect(sink.Name).toBe('restore-validation-central');
    expect(sink.Policy).toEqual({
      Version: '2012-10-17',
      Statement: [
        {
          Sid: 'MemberAccountsLinkMetrics',
          Effect: 'Allow',
          Principal: { AWS: [MEMBER_A, MEMBER_B] },
          Action: ['oam:CreateLink', 'oam:UpdateLink'],
          Resource: '*',
          Condition: { 'ForAllValues:StringEquals': { 'oam:ResourceTypes': ['AWS::CloudWatch::Metric'] } },
        },
      ],
    });
    expect(outputNamed(template, 'CentralMetricsSinkArn')).toEqual({
      'Fn::GetAtt': [expect.stringMatching(/MetricsSink/), 'Arn'],
    });
  });

  it('draws one line per member account on the organization row of the central dashboard', () => {
    const { template } = build(CENTRAL, { centralEventBus: { memberAccountIds: [MEMBER_A, MEMBER_B] } });
    const body = JSON.stringify(only(template, 'AWS::CloudWatch::Dashboard').DashboardBody);
    expect(body).toContain('Failed validations per day by account');
    for (const a of [MEMBER_A, MEMBER_B]) {
      // validations, failed and timed out: one metric per widget per account
      expect(body.split(`\\"accountId\\":\\"${a}\\"`).length - 1).toBe(3);
    }
    const single = JSON.stringify(
      only(build(MEMBER_A, {}).template, 'AWS::CloudWatch::Dashboard').DashboardBody,
    );
    expect(single).not.toContain('by account');
  });

  it('archives the forwarded restore-job events for 400 days when centralEventBus is set', () => {
    const { template } = build(CENTRAL, { centralEventBus: { memberAccountIds: [MEMBER_A] } });
    expect(only(template, 'AWS::Events::Archive')).toMatchObject({
      SourceArn: { 'Fn::GetAtt': [expect.stringMatching(/CentralReceiverBus/), 'Arn'] },
      EventPattern: { source: ['aws.backup'], 'detail-type': ['Restore Job State Change'] },
      RetentionDays: 400,
    });
    build(MEMBER_A, {}).template.resourceCountIs('AWS::Events::Archive', 0);
  });

  it('refuses a member account id that is not 12 digits when centralEventBus is set', () => {
    expect(() => build(CENTRAL, { centralEventBus: { memberAccountIds: ['12345'] } })).toThrow(
      CentralPropsError,
    );
    expect(() => build(CENTRAL, { centralEventBus: { memberAccountIds: [] } })).toThrow(/at least one/);
  });

  it('lets the reconciler assume exactly the member roles and passes them on when memberAccounts is set', () => {
    const { template } = build(CENTRAL, {
      memberAccounts: [{ roleArn: ROLE_A }, { roleArn: ROLE_B }],
      watchRegions: ['us-east-1'],
    });
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({
          RECONCILER_MEMBER_ROLE_ARNS: JSON.stringify([ROLE_A, ROLE_B]),
          RECONCILER_MEMBER_REGIONS: 'us-east-1,eu-west-1',
        }),
      },
    });
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          {
            Sid: 'AssumeMemberAccountRoles',
            Effect: 'Allow',
            Action: 'sts:AssumeRole',
            Resource: [ROLE_A, ROLE_B],
          },
        ]),
      },
    });
  });
});

describe('member metrics link', () => {
  it('links the RestoreValidation namespace and nothing else to the central sink when forwardMetricsTo is set', () => {
    const { template } = build(MEMBER_A, { forwardMetricsTo: { sinkArn: SINK_ARN } });
    expect(only(template, 'AWS::Oam::Link')).toEqual({
      SinkIdentifier: SINK_ARN,
      ResourceTypes: ['AWS::CloudWatch::Metric'],
      LabelTemplate: '$AccountName',
      LinkConfiguration: { MetricConfiguration: { Filter: "Namespace = 'RestoreValidation'" } },
    });
    expect(METRICS_LINK_FILTER).toBe("Namespace = 'RestoreValidation'");
    template.resourceCountIs('AWS::Oam::Link', 1);
    build(MEMBER_A, {}).template.resourceCountIs('AWS::Oam::Link', 0);
  });

  it('refuses a sink in another region or an ARN that is not a sink, naming the fix', () => {
    expect(() =>
      build(MEMBER_A, { forwardMetricsTo: { sinkArn: SINK_ARN.replace('eu-west-1', 'us-east-1') } }),
    ).toThrow(/sink.*us-east-1 but this stack is in eu-west-1: metric links are regional/);
    expect(() => build(MEMBER_A, { forwardMetricsTo: { sinkArn: BUS_ARN } })).toThrow(CentralPropsError);
  });
});

describe('member evidence in the central table', () => {
  it('names the central table by its ARN in every function that indexes evidence', () => {
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
    const stack = new RestoreValidationStack(app, 'Member', {
      env: { account: MEMBER_A, region: 'eu-west-1' },
      operations: { centralEvidence: { bucketName: 'org-restore-evidence', tableArn: TABLE_ARN } },
    });
    const template = Template.fromStack(stack);
    const fns = Object.values(template.findResources('AWS::Lambda::Function')) as Resource[];
    const tables = fns
      .map(
        (f) => (f.Properties.Environment as { Variables?: Record<string, unknown> } | undefined)?.Variables,
      )
      .filter((v) => v?.EVIDENCE_TABLE !== undefined)
      .map((v) => v?.EVIDENCE_TABLE);
    // the reconciler and every validator
    expect(tables.length).toBeGreaterThan(5);
    expect(new Set(tables)).toEqual(new Set([TABLE_ARN]));
    template.resourceCountIs('AWS::DynamoDB::Table', 1); // the idempotency table only
  });
});

describe('member read role for the central reconciler', () => {
  it('trusts exactly the central reconciler role and may only list restore jobs when centralReconciler is set', () => {
    const reconcilerRoleArn = `arn:aws:iam::${CENTRAL}:role/central-reconciler`;
    const { template } = build(MEMBER_A, { centralReconciler: { reconcilerRoleArn } });
    template.hasResourceProperties('AWS::IAM::Role', {
      RoleName: 'restore-validation-central-read',
      AssumeRolePolicyDocument: {
        Statement: [{ Action: 'sts:AssumeRole', Effect: 'Allow', Principal: { AWS: reconcilerRoleArn } }],
      },
    });
    const policies = template.findResources('AWS::IAM::Policy', {
      Properties: { Roles: [{ Ref: Match.stringLikeRegexp('CentralReadRole') }] },
    });
    const statements = Object.values(policies).flatMap(
      (p) =>
        (p as { Properties: { PolicyDocument: { Statement: unknown[] } } }).Properties.PolicyDocument
          .Statement,
    );
    expect(statements).toEqual([
      { Sid: 'ListRestoreJobs', Effect: 'Allow', Action: 'backup:ListRestoreJobs', Resource: '*' },
    ]);
  });

  it('names the central bus restore-validation-central by default when centralEventBus is set', () => {
    const { template } = build(CENTRAL, { centralEventBus: { memberAccountIds: [MEMBER_A] } });
    template.hasResourceProperties('AWS::Events::EventBus', { Name: 'restore-validation-central' });
  });
});

// cdk-nag on the member and central stacks (and cfn-lint on them): variants.test.ts.

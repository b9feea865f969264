import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  App,
  Duration,
  aws_ec2 as ec2,
  type aws_iam as iam,
  aws_lambda as lambda,
  Stack,
  Validations,
} from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { beforeAll, describe, expect, it } from 'vitest';
import { EbsHelper } from '../../infra/constructs/ebs-helper';
import { CREATED_BY_TAG, RESTORE_TEST_TAG } from '../../shared/guard';

type State = {
  Type: string;
  Next?: string;
  End?: boolean;
  Catch?: { ErrorEquals: string[]; Next: string; ResultPath?: string }[];
  Branches?: { StartAt: string; States: Record<string, State> }[];
  Choices?: { Next: string }[];
  Default?: string;
};

/** The state machine definition with CloudFormation tokens replaced by a placeholder. */
function definition(template: Template): { StartAt: string; States: Record<string, State> } {
  const sm = Object.values(template.findResources('AWS::StepFunctions::StateMachine'))[0];
  const def = sm?.Properties.DefinitionString as { 'Fn::Join': [string, unknown[]] };
  const text = def['Fn::Join'][1].map((part) => (typeof part === 'string' ? part : 'TOKEN')).join('');
  return JSON.parse(text);
}

type Statement = {
  Sid?: string;
  Action: string | string[];
  Condition?: Record<string, Record<string, string>>;
};
function statementsOf(template: Template, stack: Stack, role: iam.IRole): Statement[] {
  const roleRef = stack.resolve(role.roleName);
  return Object.values(template.findResources('AWS::IAM::Policy'))
    .filter((p) => JSON.stringify(p.Properties.Roles) === JSON.stringify([roleRef]))
    .flatMap((p) => p.Properties.PolicyDocument.Statement as Statement[]);
}

describe('EbsHelper', () => {
  let stack: Stack;
  let helper: EbsHelper;
  let template: Template;
  let validator: lambda.Function;

  beforeAll(() => {
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
    stack = new Stack(app, 'T', { env: { account: '123456789012', region: 'us-east-1' } });
    const vpc = new ec2.Vpc(stack, 'Vpc', { maxAzs: 3 });
    helper = new EbsHelper(stack, 'Ebs', { vpc, helperMaxDuration: Duration.minutes(45) });
    validator = new lambda.Function(stack, 'Validator', {
      runtime: lambda.Runtime.NODEJS_22_X,
      handler: 'index.handler',
      code: lambda.Code.fromInline('exports.handler = async () => {}'),
    });
    helper.attachTo(validator);
    template = Template.fromStack(stack);
  });

  it('sends every failure after launch to clean-up through one catch-all', () => {
    const def = definition(template);
    expect(def.StartAt).toBe('LaunchHelper');
    const parallel = def.States.WithHelper;
    expect(parallel?.Type).toBe('Parallel');
    expect(parallel?.Catch).toEqual([
      { ErrorEquals: ['States.ALL'], Next: 'DetachVolume', ResultPath: '$.error' },
    ]);
    expect(parallel?.Next).toBe('DetachVolume');
    expect(def.States.LaunchHelper?.Catch?.[0]).toMatchObject({
      ErrorEquals: ['States.ALL'],
      Next: 'DetachVolume',
    });
    // The branch holds the steps that need the helper; the clean-up is outside it.
    expect(Object.keys(parallel?.Branches?.[0]?.States ?? {})).toEqual(
      expect.arrayContaining(['AttachVolume', 'WaitForSsm', 'StartMountCheck', 'PollMountCheck']),
    );
    expect(Object.keys(parallel?.Branches?.[0]?.States ?? {})).not.toContain('TerminateHelper');
  });

  it('terminates after detach even when detach fails, and reports even when terminate fails', () => {
    const def = definition(template);
    expect(def.States.DetachVolume?.Catch?.[0]).toMatchObject({
      ErrorEquals: ['States.ALL'],
      Next: 'TerminateHelper',
    });
    expect(def.States['DetachVolumeReady?']?.Choices?.[0]?.Next).toBe('TerminateHelper');
    expect(def.States.TerminateHelper?.Catch?.[0]).toMatchObject({
      ErrorEquals: ['States.ALL'],
      Next: 'ReportVerdict',
    });
    expect(def.States.TerminateHelper?.Next).toBe('ReportVerdict');
  });

  it('posts FAILED through a fallback when ReportVerdict fails all its retries, and fails the execution only after that', () => {
    const def = definition(template);
    expect(def.States.ReportVerdict?.Catch).toEqual([
      { ErrorEquals: ['States.ALL'], Next: 'ReportFailure', ResultPath: '$.reportError' },
    ]);
    expect(def.States.ReportFailure?.Next).toBe('Done');
    expect(def.States.ReportFailure?.Catch?.[0]).toMatchObject({
      ErrorEquals: ['States.ALL'],
      Next: 'VerdictNotPosted',
    });
    expect(def.States.VerdictNotPosted?.Type).toBe('Fail');
  });

  it('sends FAILED, TIMED_OUT and ABORTED executions of this state machine to the clean-up step', () => {
    template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: {
        source: ['aws.states'],
        'detail-type': ['Step Functions Execution Status Change'],
        detail: {
          stateMachineArn: [{ Ref: Match.stringLikeRegexp('^EbsStateMachine') }],
          status: ['FAILED', 'TIMED_OUT', 'ABORTED'],
        },
      },
      Targets: [
        Match.objectLike({
          Arn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^EbsSteps'), 'Arn'] },
          InputTransformer: {
            InputPathsMap: { detail: '$.detail' },
            InputTemplate: '{"step":"executionEnded","detail":<detail>}',
          },
        }),
      ],
    });
  });

  it('gives the execution the helper lifetime plus clean-up time', () => {
    template.hasResourceProperties('AWS::StepFunctions::StateMachine', {
      DefinitionString: Match.objectLike({
        'Fn::Join': Match.arrayWith([Match.arrayWith([Match.stringLikeRegexp('"TimeoutSeconds":3900')])]),
      }),
    });
  });

  it('lets helpers in with no inbound rule and out only on HTTPS', () => {
    const sg = Object.values(template.findResources('AWS::EC2::SecurityGroup')).find((s) =>
      String(s.Properties.GroupDescription).includes('EBS helpers'),
    );
    expect(sg?.Properties.SecurityGroupIngress).toBeUndefined();
    expect(sg?.Properties.SecurityGroupEgress).toEqual([
      expect.objectContaining({ IpProtocol: 'tcp', FromPort: 443, ToPort: 443 }),
    ]);
  });

  it('makes helpers SSM-managed and nothing more', () => {
    template.hasResourceProperties('AWS::IAM::Role', {
      AssumeRolePolicyDocument: Match.objectLike({
        Statement: [Match.objectLike({ Principal: { Service: 'ec2.amazonaws.com' } })],
      }),
      ManagedPolicyArns: [
        Match.objectLike({
          'Fn::Join': Match.arrayWith([Match.arrayWith([':iam::aws:policy/AmazonSSMManagedInstanceCore'])]),
        }),
      ],
    });
  });

  it('lets the steps launch only tagged helpers and touch only restore-test volumes and our instances', () => {
    const s = statementsOf(template, stack, helper.stepsFunction.role as iam.IRole);
    const sid = (id: string) => s.find((x) => x.Sid === id);
    expect(sid('LaunchTaggedHelper')?.Condition).toEqual({
      Null: { [`aws:RequestTag/${CREATED_BY_TAG}`]: 'false' },
    });
    expect(sid('AttachRestoredVolumes')?.Condition).toEqual({
      Null: { [`aws:ResourceTag/${RESTORE_TEST_TAG}`]: 'false' },
    });
    expect(sid('AttachToOurHelpers')?.Action).toContain('ec2:TerminateInstances');
    expect(sid('AttachToOurHelpers')?.Condition).toEqual({
      Null: { [`aws:ResourceTag/${CREATED_BY_TAG}`]: 'false' },
    });
    expect(sid('TagAtLaunch')?.Condition).toEqual({ StringEquals: { 'ec2:CreateAction': 'RunInstances' } });
    // Nothing may terminate or detach without a tag condition.
    for (const st of s) {
      const actions = ([] as string[]).concat(st.Action);
      if (actions.some((a) => ['ec2:TerminateInstances', 'ec2:DetachVolume', 'ec2:AttachVolume'].includes(a)))
        expect(st.Condition).toBeDefined();
    }
  });

  it('lets the steps attach volumes encrypted with a customer managed key, only via EC2 for an AWS resource', () => {
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          {
            Sid: 'AttachEncryptedVolumes',
            Effect: 'Allow',
            Action: 'kms:CreateGrant',
            Resource: {
              'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':kms:us-east-1:123456789012:key/*']],
            },
            Condition: {
              Bool: { 'kms:GrantIsForAWSResource': true },
              StringEquals: { 'kms:ViaService': 'ec2.us-east-1.amazonaws.com' },
            },
          },
        ]),
      },
    });
    // Named keys narrow the resource (a restored volume keeps its source's key, maybe another account's).
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
    const s = new Stack(app, 'K', { env: { account: '123456789012', region: 'eu-west-1' } });
    const key = 'arn:aws:kms:eu-west-1:210987654321:key/1234abcd-12ab-34cd-56ef-1234567890ab';
    new EbsHelper(s, 'Ebs', { vpc: new ec2.Vpc(s, 'Vpc', { maxAzs: 1 }), kmsKeyArns: [key] });
    Template.fromStack(s).hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Sid: 'AttachEncryptedVolumes',
            Resource: key,
            Condition: Match.objectLike({
              StringEquals: { 'kms:ViaService': 'ec2.eu-west-1.amazonaws.com' },
            }),
          }),
        ]),
      },
    });
  });

  it('runs the janitor on a schedule with tag-conditioned clean-up rights', () => {
    template.hasResourceProperties('AWS::Events::Rule', { ScheduleExpression: 'rate(15 minutes)' });
    const s = statementsOf(template, stack, helper.janitor.role as iam.IRole);
    const terminate = s.find((x) => ([] as string[]).concat(x.Action).includes('ec2:TerminateInstances'));
    expect(terminate?.Condition).toEqual({ Null: { [`aws:ResourceTag/${CREATED_BY_TAG}`]: 'false' } });
  });

  it('gives the validator the helper settings, the right to start this state machine only and to read the window', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({
          EBS_STATE_MACHINE_ARN: Match.anyValue(),
          EBS_HELPER_SUBNET_IDS: Match.anyValue(),
          EBS_HELPER_INSTANCE_TYPE: 't4g.micro',
          EBS_HELPER_MAX_MINUTES: '45',
          EBS_HELPER_AMI_PARAMETER: '/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-arm64',
        }),
      },
    });
    const s = statementsOf(template, stack, validator.role as iam.IRole);
    expect(s).toEqual([
      expect.objectContaining({
        Action: 'states:StartExecution',
        Resource: stack.resolve(helper.stateMachine.stateMachineArn),
      }),
      expect.objectContaining({
        Sid: 'ReadValidationWindow',
        Action: 'backup:ListRestoreTestingSelections',
        Resource: {
          'Fn::Join': [
            '',
            ['arn:', { Ref: 'AWS::Partition' }, ':backup:us-east-1:123456789012:restore-testing-plan:*'],
          ],
        },
      }),
    ]);
  });

  it('refuses a helper lifetime too short for the work', () => {
    const s = new Stack(new App({ context: { 'aws:cdk:bundling-stacks': [] } }), 'S');
    expect(
      () => new EbsHelper(s, 'E', { vpc: new ec2.Vpc(s, 'V'), helperMaxDuration: Duration.minutes(5) }),
    ).toThrow(/at least 15 minutes/);
  });

  it('synthesizes with zero unacknowledged cdk-nag AwsSolutions findings', () => {
    const outdir = mkdtempSync(join(tmpdir(), 'rv-ebs-nag-'));
    try {
      const app = new App({ outdir, context: { 'aws:cdk:bundling-stacks': [] } });
      Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
      const s = new Stack(app, 'N', { env: { account: '123456789012', region: 'us-east-1' } });
      const vpc = new ec2.Vpc(s, 'Vpc', { maxAzs: 2 });
      // The test VPC is not part of the construct.
      Validations.of(vpc).acknowledge({ id: 'AwsSolutions-VPC7', reason: 'test VPC' });
      new EbsHelper(s, 'Ebs', { vpc });
      expect(() => app.synth()).not.toThrow();
    } finally {
      rmSync(outdir, { recursive: true, force: true });
    }
  });
});

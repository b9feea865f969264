/**
 * The S3 Distributed Map construct, synthesised with bundling skipped: the map iterates the planned
 * ranges with a bounded concurrency and writes results to S3, each child loops the worker until its
 * range is done, the map's failure still reaches the merge step, and each role gets only what it needs.
 */
import { App, aws_lambda as lambda, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { S3DistributedMap } from '../../infra/constructs/s3-distributed-map';

function synth(props: ConstructorParameters<typeof S3DistributedMap>[2] = {}) {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new Stack(app, 'Test', { env: { account: '123456789012', region: 'us-east-1' } });
  const map = new S3DistributedMap(stack, 'S3Map', props);
  const validator = new lambda.Function(stack, 'Validator', {
    runtime: lambda.Runtime.NODEJS_24_X,
    handler: 'index.handler',
    code: lambda.Code.fromInline('export const handler = async () => {};'),
  });
  map.attachTo(validator);
  return { template: Template.fromStack(stack), stack, map };
}

function definitionOf(template: Template): Record<string, unknown> {
  const sm = Object.values(template.findResources('AWS::StepFunctions::StateMachine'))[0] as {
    Properties: { DefinitionString: unknown };
  };
  // The definition is an Fn::Join of strings and tokens; the tokens are ARNs, irrelevant to the shape.
  const join = (sm.Properties.DefinitionString as { 'Fn::Join': [string, unknown[]] })['Fn::Join'];
  const text = join[1].map((p) => (typeof p === 'string' ? p : 'TOKEN')).join('');
  return JSON.parse(text) as Record<string, unknown>;
}

describe('S3DistributedMap', () => {
  it('maps the planned ranges with bounded concurrency, writes results to S3 and then merges', () => {
    const { template } = synth({ maxConcurrency: 40 });
    const def = definitionOf(template) as {
      StartAt: string;
      States: Record<string, Record<string, unknown>>;
    };
    const map = def.States[def.StartAt] as Record<string, unknown>;
    expect(map).toMatchObject({
      Type: 'Map',
      ItemsPath: '$.ranges',
      MaxConcurrency: 40,
      ToleratedFailurePercentage: 100,
      ResultPath: '$.map',
      Next: 'MergeAndReport',
      ItemSelector: {
        'params.$': '$.params',
        'range.$': '$$.Map.Item.Value',
        'index.$': '$$.Map.Item.Index',
      },
      ItemProcessor: { ProcessorConfig: { Mode: 'DISTRIBUTED', ExecutionType: 'STANDARD' } },
    });
    expect(map.ResultWriter).toMatchObject({
      Resource: 'arn:TOKEN:states:::s3:putObject',
      Parameters: { Prefix: 's3-compare' },
    });
    expect(map.Catch).toEqual([
      { ErrorEquals: ['States.ALL'], ResultPath: '$.mapError', Next: 'ReportMapFailure' },
    ]);
    const child = (map.ItemProcessor as { States: Record<string, Record<string, unknown>> }).States;
    expect(child['RangeDone?']).toMatchObject({
      Type: 'Choice',
      Choices: [{ Variable: '$.done', BooleanEquals: true, Next: 'RangeCompared' }],
      Default: 'CompareRange',
    });
  });

  it('lets the worker read the buckets and the merge step post the verdict, and nothing else', () => {
    const { template } = synth({ readableBuckets: ['customer-*', 'awsbackup-restore-test-*'] });
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Sid: 'ReadObjects',
            Action: [
              's3:GetObject',
              's3:GetObjectVersion',
              's3:GetObjectAttributes',
              's3:GetObjectVersionAttributes',
            ],
            Resource: [
              { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':s3:::customer-*/*']] },
              { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':s3:::awsbackup-restore-test-*/*']] },
            ],
          }),
        ]),
      },
    });
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Sid: 'PostVerdict',
            Action: [
              'backup:DescribeRestoreJob',
              'backup:GetRestoreJobMetadata',
              'backup:PutRestoreValidationResult',
            ],
          }),
        ]),
      },
    });
    // No worker statement grants a write to any bucket.
    const policies = template.findResources('AWS::IAM::Policy');
    const workerWrites = Object.entries(policies)
      .filter(([id]) => id.includes('Worker'))
      .flatMap(
        ([, p]) =>
          (p as { Properties: { PolicyDocument: { Statement: { Action: string | string[] }[] } } }).Properties
            .PolicyDocument.Statement,
      )
      .flatMap((s) => ([] as string[]).concat(s.Action))
      .filter((a) => /^s3:(Put|Delete)/.test(a));
    expect(workerWrites).toEqual([]);
  });

  it('gives the validator the state machine ARN and StartExecution on it only', () => {
    const { template } = synth();
    template.hasResourceProperties('AWS::Lambda::Function', {
      Handler: 'index.handler',
      Environment: {
        Variables: { S3_COMPARE_STATE_MACHINE_ARN: { Ref: Match.stringLikeRegexp('S3MapStateMachine') } },
      },
    });
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Action: 'states:StartExecution',
            Resource: { Ref: Match.stringLikeRegexp('S3MapStateMachine') },
          }),
        ]),
      },
    });
  });

  it('rejects a map concurrency outside what Step Functions allows, with the fix', () => {
    expect(() => synth({ maxConcurrency: 0 })).toThrow(
      /maxConcurrency 0 must be an integer from 1 to 10,000/,
    );
    expect(() => synth({ readableBuckets: [] })).toThrow(/readableBuckets is empty/);
  });
});

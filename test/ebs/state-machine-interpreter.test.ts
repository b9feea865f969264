/**
 * The synthesized EBS helper state machine run in a real Amazon States Language interpreter (moto's
 * Step Functions, `execute_state_machine`), not only the in-process runner: the definition CDK
 * produced must carry each step's output into the next (Parallel `$[0]`, the `$.ready` choices,
 * `payloadResponseOnly`) and visit the steps in the runner's order. moto cannot run Node Lambdas
 * without Docker, so its "simple" Lambda answers each invocation with the next queued output: the
 * outputs the real steps return.
 */
import { CreateFunctionCommand, LambdaClient } from '@aws-sdk/client-lambda';
import {
  CreateStateMachineCommand,
  DescribeExecutionCommand,
  GetExecutionHistoryCommand,
  type HistoryEvent,
  SFNClient,
  StartExecutionCommand,
} from '@aws-sdk/client-sfn';
import { App, Duration, aws_ec2 as ec2, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EbsHelper } from '../../infra/constructs/ebs-helper';
import { type Moto, startMoto } from '../support/engines';

let moto: Moto;
const region = 'us-east-1';
const creds = { accessKeyId: 'a', secretAccessKey: 'b' };
const FUNCTION_ARN = 'arn:aws:lambda:us-east-1:123456789012:function:ebs-steps';

/** The definition with the steps function's ARN and the partition filled in. */
function synthesizedDefinition(): string {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new Stack(app, 'T', { env: { account: '123456789012', region } });
  new EbsHelper(stack, 'Ebs', {
    vpc: new ec2.Vpc(stack, 'Vpc', { maxAzs: 1 }),
    helperMaxDuration: Duration.minutes(30),
  });
  const [sm] = Object.values(Template.fromStack(stack).findResources('AWS::StepFunctions::StateMachine'));
  if (!sm) throw new Error('no state machine synthesized');
  const parts = (sm.Properties.DefinitionString as { 'Fn::Join': [string, unknown[]] })['Fn::Join'][1];
  return parts
    .map((p) => {
      if (typeof p === 'string') return p;
      if (JSON.stringify(p).includes('AWS::Partition')) return 'aws';
      if (JSON.stringify(p).includes('Steps')) return FUNCTION_ARN;
      throw new Error(`unexpected token in the definition: ${JSON.stringify(p)}`);
    })
    .join('');
}

beforeAll(async () => {
  moto = await startMoto();
});
afterAll(async () => {
  await moto?.stop();
});

describe('EBS helper state machine in an interpreter', () => {
  it('runs the synthesized definition through every step in order and ends with the verdict', async () => {
    const post = (path: string, body: unknown) =>
      fetch(`${moto.endpoint}${path}`, {
        method: 'POST',
        body: JSON.stringify(body),
        headers: { 'content-type': 'application/json' },
      });
    await post('/moto-api/config', {
      lambda: { use_docker: false },
      stepfunctions: { execute_state_machine: true },
    });
    const cfg = { region, endpoint: moto.endpoint, credentials: creds };
    // IAM's query API directly (the project has no IAM client): moto's Lambda wants an existing role.
    await fetch(moto.endpoint, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        // moto routes by the signing service in the header (it does not verify signatures).
        authorization:
          'AWS4-HMAC-SHA256 Credential=a/20260101/us-east-1/iam/aws4_request, SignedHeaders=host, Signature=0',
      },
      body: 'Action=CreateRole&Version=2010-05-08&RoleName=sfn&AssumeRolePolicyDocument=%7B%7D',
    });
    const role = 'arn:aws:iam::123456789012:role/sfn';
    await new LambdaClient(cfg).send(
      new CreateFunctionCommand({
        FunctionName: 'ebs-steps',
        Runtime: 'nodejs20.x',
        Role: role,
        Handler: 'index.handler',
        Code: { ZipFile: Buffer.from('PK\u0005\u0006'.padEnd(22, '\u0000'), 'latin1') },
      }),
    );
    // What each step returns, in the runner's order (the state grows as the real steps grow it).
    const base = { restoreJobId: 'job-1', volumeId: 'vol-0abc', checks: [], stateResults: [], dryRun: false };
    const outputs = [
      { ...base, instanceId: 'i-0helper', ready: false }, // LaunchHelper
      { ...base, instanceId: 'i-0helper', ready: true }, // AttachVolume
      { ...base, instanceId: 'i-0helper', ready: true }, // WaitForSsm
      { ...base, instanceId: 'i-0helper', commandId: 'cmd-1', ready: false }, // StartMountCheck
      { ...base, instanceId: 'i-0helper', commandId: 'cmd-1', ready: true, mountCheck: { ok: true } }, // PollMountCheck
      { ...base, instanceId: 'i-0helper', ready: true, cleanup: { detached: 'volume available' } }, // DetachVolume
      {
        ...base,
        instanceId: 'i-0helper',
        cleanup: { detached: 'volume available', terminated: 'terminated' },
      }, // TerminateHelper
      { ...base, verdict: { status: 'SUCCESSFUL', message: 'all passed', posted: 'posted' } }, // ReportVerdict
    ];
    const queued = await post('/moto-api/static/lambda-simple/response', {
      results: outputs.map((o) => JSON.stringify(o)),
      region,
    });
    expect(queued.ok).toBe(true);
    const sfn = new SFNClient(cfg);
    const sm = await sfn.send(
      new CreateStateMachineCommand({
        name: 'ebs-helper',
        definition: synthesizedDefinition(),
        roleArn: role,
      }),
    );
    const ex = await sfn.send(
      new StartExecutionCommand({
        stateMachineArn: sm.stateMachineArn,
        name: 'ebs-job-1',
        input: JSON.stringify(base),
      }),
    );
    let status = 'RUNNING';
    let output: string | undefined;
    // Wait for the condition (the execution ending), not for a time.
    for (let i = 0; i < 600 && status === 'RUNNING'; i++) {
      const described = await sfn.send(new DescribeExecutionCommand({ executionArn: ex.executionArn }));
      status = described.status ?? 'RUNNING';
      output = described.output;
      if (status === 'RUNNING') await new Promise((r) => setTimeout(r, 100));
    }
    expect(status).toBe('SUCCEEDED');
    expect(JSON.parse(output ?? '{}')).toMatchObject({ verdict: { status: 'SUCCESSFUL' } });
    const events: HistoryEvent[] =
      (await sfn.send(new GetExecutionHistoryCommand({ executionArn: ex.executionArn, maxResults: 1000 })))
        .events ?? [];
    const entered = events.map((e) => e.stateEnteredEventDetails?.name).filter(Boolean);
    expect(entered.filter((n) => !n?.endsWith('?'))).toEqual([
      'LaunchHelper',
      'WithHelper',
      'AttachVolume',
      'WaitForSsm',
      'StartMountCheck',
      'PollMountCheck',
      'Collected',
      'DetachVolume',
      'TerminateHelper',
      'ReportVerdict',
      'Done',
    ]);
    // Each step got the state the previous one returned: the Parallel's output is its branch's ($[0]).
    const input = (name: string) =>
      JSON.parse(
        events.find((e) => e.stateEnteredEventDetails?.name === name)?.stateEnteredEventDetails?.input ??
          '{}',
      );
    expect(input('DetachVolume')).toMatchObject({ commandId: 'cmd-1', mountCheck: { ok: true } });
    expect(input('ReportVerdict')).toMatchObject({ cleanup: { terminated: 'terminated' } });
  });
});

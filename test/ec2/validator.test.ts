import {
  DescribeInstanceStatusCommand,
  DescribeInstancesCommand,
  EC2Client,
  GetConsoleOutputCommand,
  type InstanceStateName,
  type SummaryStatus,
} from '@aws-sdk/client-ec2';
import {
  type CommandInvocationStatus,
  DescribeInstanceInformationCommand,
  GetCommandInvocationCommand,
  SendCommandCommand,
  SSMClient,
} from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { ec2Settings } from '../../functions/ec2/settings';
import { curlScript, ec2Validator, judgeConsole } from '../../functions/ec2/validator';
import { runValidator } from '../../shared/validator';
import { config, contextInput, job } from '../ebs/context';

const ID = 'i-0abc1234def567890';
const ARN = `arn:aws:ec2:us-east-1:123456789012:instance/${ID}`;
const ec2 = mockClient(EC2Client);
const ssm = mockClient(SSMClient);

function instance(extra: Record<string, unknown> = {}) {
  ec2.on(DescribeInstancesCommand).resolves({
    Reservations: [
      {
        Instances: [
          {
            InstanceId: ID,
            State: { Name: 'running' },
            InstanceType: 't3.micro',
            Placement: { AvailabilityZone: 'us-east-1a' },
            Tags: [{ Key: 'awsbackup-restore-test', Value: '' }],
            IamInstanceProfile: { Arn: 'arn:aws:iam::123456789012:instance-profile/app' },
            ...extra,
          },
        ],
      },
    ],
  });
}

function status(system: string, inst: string, state = 'running') {
  ec2.on(DescribeInstanceStatusCommand).resolves({
    InstanceStatuses: [
      {
        InstanceId: ID,
        InstanceState: { Name: state as InstanceStateName },
        SystemStatus: { Status: system as SummaryStatus },
        InstanceStatus: { Status: inst as SummaryStatus },
      },
    ],
  });
}

function ssmOutput(stdout: string, code = 0, status = code === 0 ? 'Success' : 'Failed', stderr = '') {
  ssm.on(SendCommandCommand).resolves({ Command: { CommandId: 'cmd-1' } });
  ssm.on(GetCommandInvocationCommand).resolves({
    Status: status as CommandInvocationStatus,
    ResponseCode: code,
    StandardOutputContent: stdout,
    StandardErrorContent: stderr,
  });
}

const run = (checks: unknown[] = [], metadata: Record<string, string> = {}) =>
  runValidator(
    ec2Validator,
    contextInput({
      job: job({ type: 'EC2', created: ARN, metadata }),
      config: config(checks, 'EC2'),
      clients: { ec2: new EC2Client({ region: 'us-east-1' }), ssm: new SSMClient({ region: 'us-east-1' }) },
      settings: ec2Settings({ EC2_STATUS_WAIT_SECONDS: '1', EC2_POLL_SECONDS: '0.05', SSM_POLL_MS: '10' }),
    }),
  );

const byId = (r: Awaited<ReturnType<typeof run>>, id: string) => r.results.find((x) => x.id === id);

describe('ec2Validator', () => {
  beforeEach(() => {
    ec2.reset();
    ssm.reset();
    ssm
      .on(DescribeInstanceInformationCommand)
      .resolves({ InstanceInformationList: [{ InstanceId: ID, PingStatus: 'Online' }] });
  });

  it('passes state, both status checks, SSM ping and a matching command when the instance is healthy', async () => {
    instance();
    status('ok', 'ok');
    ssmOutput('app 1.2.3 ready\n');
    const result = await run([
      { id: 'app-ready', command: 'systemctl is-active app && app --version', outputMatches: 'ready' },
    ]);
    expect(result.results.map((r) => [r.id, r.status])).toEqual([
      ['instance-state', 'pass'],
      ['system-status', 'pass'],
      ['instance-status', 'pass'],
      ['ssm-ping', 'pass'],
      ['app-ready', 'pass'],
    ]);
    expect(result.verdict.verdict).toBe('SUCCESSFUL');
    const sent = ssm.commandCalls(SendCommandCommand)[0]?.args[0].input;
    expect(sent?.DocumentName).toBe('AWS-RunShellScript');
    expect(sent?.InstanceIds).toEqual([ID]);
    expect(sent?.Parameters?.commands).toEqual(['systemctl is-active app && app --version']);
  });

  it('ends a command check in error with the reason at once when SSM denies reading its result', async () => {
    instance();
    status('ok', 'ok');
    ssm.on(SendCommandCommand).resolves({ Command: { CommandId: 'cmd-1' } });
    ssm.on(GetCommandInvocationCommand).rejects(
      Object.assign(new Error('not authorized to perform: ssm:GetCommandInvocation'), {
        name: 'AccessDeniedException',
        $metadata: { attempts: 1 },
      }),
    );
    const result = await run([{ id: 'app-ready', command: 'true', timeoutSeconds: 600 }]);
    expect(byId(result, 'app-ready')).toMatchObject({ status: 'error' });
    expect(byId(result, 'app-ready')?.detail).toMatch(/not authorized to perform: ssm:GetCommandInvocation/);
    expect(ssm.commandCalls(GetCommandInvocationCommand)).toHaveLength(1);
  });

  it('fails instance-status when the check reads impaired', async () => {
    instance();
    status('ok', 'impaired');
    const result = await run();
    expect(byId(result, 'instance-status')).toMatchObject({ status: 'fail' });
    expect(byId(result, 'instance-status')?.detail).toMatch(/^instance status is impaired/);
    expect(result.verdict.verdict).toBe('FAILED');
  });

  it('fails system-status when still initializing after the wait budget', async () => {
    instance();
    status('initializing', 'initializing');
    const result = await run();
    expect(byId(result, 'system-status')?.detail).toContain(
      'still initializing when the wait budget ran out',
    );
  });

  it('fails instance-state when the instance stopped', async () => {
    instance({ State: { Name: 'stopped' } });
    status('not-applicable', 'not-applicable', 'stopped');
    const result = await run();
    expect(byId(result, 'instance-state')).toMatchObject({
      status: 'fail',
      detail: `instance ${ID} is stopped, expected running`,
    });
  });

  it('skips the SSM ping and errors SSM checks with the UseBackedUpValue hint when the instance has no profile', async () => {
    instance({ IamInstanceProfile: undefined });
    status('ok', 'ok');
    const result = await run([{ id: 'cmd', command: 'true' }]);
    expect(byId(result, 'ssm-ping')?.status).toBe('skip');
    expect(byId(result, 'cmd')?.status).toBe('error');
    expect(byId(result, 'cmd')?.detail).toContain('iamInstanceProfileName: UseBackedUpValue');
    expect(ssm.commandCalls(SendCommandCommand)).toHaveLength(0);
    expect(result.verdict.verdict).toBe('FAILED');
  });

  it('fails the SSM ping when the agent never comes online', async () => {
    instance();
    status('ok', 'ok');
    ssm.on(DescribeInstanceInformationCommand).resolves({ InstanceInformationList: [] });
    const result = await run();
    expect(byId(result, 'ssm-ping')).toMatchObject({
      status: 'fail',
      detail: 'SSM agent is not online (ping status not registered)',
    });
  });

  it('fails a command check when the exit code differs', async () => {
    instance();
    status('ok', 'ok');
    ssmOutput('', 3, 'Failed', 'app: not found');
    const result = await run([{ id: 'cmd', command: 'app --check' }]);
    expect(byId(result, 'cmd')?.detail).toBe('exit code 3, expected 0: app: not found');
  });

  it('fails a command check when the output does not match', async () => {
    instance();
    status('ok', 'ok');
    ssmOutput('degraded\n');
    const result = await run([{ id: 'cmd', command: 'app status', outputMatches: '^healthy$' }]);
    expect(byId(result, 'cmd')?.detail).toBe('output does not match /^healthy$/: degraded');
  });

  it('passes an HTTP check on status and body, run with curl through SSM', async () => {
    instance();
    status('ok', 'ok');
    ssmOutput('{"status":"up"}\n__RV_HTTP_STATUS__200\n');
    const result = await run([
      { id: 'health', http: { url: 'http://localhost:8080/health', bodyMatches: '"up"' } },
    ]);
    expect(byId(result, 'health')).toMatchObject({
      status: 'pass',
      detail: 'GET http://localhost:8080/health returned 200, body matches',
    });
    expect(ssm.commandCalls(SendCommandCommand)[0]?.args[0].input.Parameters?.commands?.[0]).toContain(
      "'http://localhost:8080/health'",
    );
  });

  it('runs command and HTTP checks as PowerShell on a Windows instance', async () => {
    instance({ Platform: 'windows', PlatformDetails: 'Windows' });
    status('ok', 'ok');
    ssmOutput('{"status":"up"}\n__RV_HTTP_STATUS__200\n');
    const result = await run([
      { id: 'svc', command: 'Get-Service W3SVC' },
      { id: 'health', http: { url: 'http://localhost/health', bodyMatches: '"up"' } },
    ]);
    expect(byId(result, 'health')?.status).toBe('pass');
    const calls = ssm.commandCalls(SendCommandCommand).map((c) => c.args[0].input);
    expect(calls.map((c) => c.DocumentName)).toEqual(['AWS-RunPowerShellScript', 'AWS-RunPowerShellScript']);
    expect(calls[1]?.Parameters?.commands?.[0]).toContain('Invoke-WebRequest -UseBasicParsing -TimeoutSec');
    expect(calls[1]?.Parameters?.commands?.[0]).toContain("-Uri 'http://localhost/health'");
  });

  it("probes HTTP from the validator's network at the instance's private IP, without SSM", async () => {
    const { createServer } = await import('node:http');
    const server = createServer((req, res) => {
      res.statusCode = req.url === '/health' ? 200 : 503;
      res.end(req.url === '/health' ? '{"status":"up"}' : 'down');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    try {
      // No instance profile: SSM cannot reach it, the network can.
      instance({ IamInstanceProfile: undefined, PrivateIpAddress: '127.0.0.1' });
      status('ok', 'ok');
      const result = await run([
        {
          id: 'up',
          http: { url: `http://app.internal:${port}/health`, from: 'validator', bodyMatches: '"up"' },
        },
        { id: 'down', http: { url: `http://app.internal:${port}/other`, from: 'validator' } },
      ]);
      expect(byId(result, 'up')).toMatchObject({
        status: 'pass',
        detail: `GET http://127.0.0.1:${port}/health from the validator returned 200, body matches`,
      });
      expect(byId(result, 'down')).toMatchObject({
        status: 'fail',
        detail: `GET http://127.0.0.1:${port}/other from the validator returned 503, expected 200`,
      });
      expect(ssm.commandCalls(SendCommandCommand)).toHaveLength(0);
    } finally {
      await new Promise((r) => server.close(r));
    }
  });

  it('fails a validator-side HTTP check that gets no connection, naming the cause', async () => {
    // A port that was just free: nothing listens there.
    const { createServer } = await import('node:http');
    const probe = createServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
    const port = (probe.address() as { port: number }).port;
    await new Promise((r) => probe.close(r));
    instance({ PrivateIpAddress: '127.0.0.1' });
    status('ok', 'ok');
    const result = await run([
      { id: 'up', http: { url: `http://app.internal:${port}/health`, from: 'validator' } },
    ]);
    expect(byId(result, 'up')).toMatchObject({
      status: 'fail',
      detail: `GET http://127.0.0.1:${port}/health from the validator got no response: ECONNREFUSED`,
    });
  });

  it('fails an HTTP check when the server answers 503', async () => {
    instance();
    status('ok', 'ok');
    ssmOutput('down\n__RV_HTTP_STATUS__503\n');
    const result = await run([{ id: 'health', http: { url: 'http://localhost/health' } }]);
    expect(byId(result, 'health')?.detail).toBe('GET http://localhost/health returned 503, expected 200');
  });

  it('fails the console check when the console shows a kernel panic', async () => {
    instance();
    status('ok', 'ok');
    const text =
      'booting\n[    2.1] Kernel panic - not syncing: VFS: Unable to mount root fs on unknown-block(0,0)\n';
    ec2.on(GetConsoleOutputCommand).resolves({ Output: Buffer.from(text).toString('base64') });
    const result = await run([{ id: 'console', consoleOutput: {} }]);
    expect(byId(result, 'console')?.status).toBe('fail');
    expect(byId(result, 'console')?.detail).toContain('Kernel panic - not syncing: VFS');
  });

  it('refuses an instance that is not a restore-test resource', async () => {
    instance({ Tags: [{ Key: 'Name', Value: 'prod-web' }] });
    status('ok', 'ok');
    const result = await run([{ id: 'cmd', command: 'true' }]);
    expect(result.results[0]?.detail).toMatch(/^safety guard: refusing to validate prod-web/);
    expect(ssm.commandCalls(SendCommandCommand)).toHaveLength(0);
  });
});

describe('judgeConsole', () => {
  it('passes when the console is clean and required patterns appear', () => {
    expect(judgeConsole('Welcome to Amazon Linux\nlogin:', { require: ['login:'] }).status).toBe('pass');
  });
  it('fails when a user-forbidden pattern appears', () => {
    expect(judgeConsole('Out of memory: Killed process 42', { forbid: ['Out of memory'] }).detail).toContain(
      'Out of memory',
    );
  });
  it('errors when the console output is empty', () => {
    expect(judgeConsole('', {}).status).toBe('error');
  });
});

describe('curlScript', () => {
  it('quotes a URL with a single quote so the shell cannot split it', () => {
    expect(curlScript("http://h/a'b", 5)).toContain(`'http://h/a'\\''b'`);
  });
});

describe('EC2 check kinds', () => {
  it('rejects an invalid regular expression when the config is loaded', () => {
    expect(() => config([{ id: 'cmd', command: 'true', outputMatches: '(unclosed' }], 'EC2')).toThrow(
      /not a valid regular expression/,
    );
    expect(() => config([{ id: 'c', consoleOutput: { forbid: ['[bad'] } }], 'EC2')).toThrow(
      /not a valid regular expression/,
    );
  });
});

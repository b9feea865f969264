/**
 * The synthesized S3 state machine, executed by a real ASL interpreter (moto's Step Functions), so the
 * payload the worker receives is the one the definition produces, not one a test wrote by hand.
 * moto runs Map states INLINE only, so the Distributed Map is executed as an INLINE map with the same
 * ItemsPath, ItemSelector and ItemProcessor (ResultWriter and the tolerated-failure setting, which only
 * DISTRIBUTED maps have, are left out). moto's interpreter sends its Lambda invocations to
 * `localhost:$MOTO_PORT`; a small HTTP server there runs the real worker (compareRange against moto's
 * S3) and records what the merge step receives.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { S3Client } from '@aws-sdk/client-s3';
import {
  CreateStateMachineCommand,
  DescribeExecutionCommand,
  type DescribeExecutionCommandOutput,
  SFNClient,
  StartExecutionCommand,
} from '@aws-sdk/client-sfn';
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createS3Client } from '../../functions/s3/client';
import type { ExecutionInput } from '../../functions/s3/distributed';
import type { MergeEvent } from '../../functions/s3/merge';
import { s3Settings } from '../../functions/s3/settings';
import { s3Validator } from '../../functions/s3/validator';
import { compareRange, type WorkerEvent, type WorkerOutput } from '../../functions/s3/worker';
import { S3DistributedMap } from '../../infra/constructs/s3-distributed-map';
import { runValidator } from '../../shared/validator';
import { freePort } from '../support/engines';
import { fixtureClient, makeBucket, testContext } from './context';

const SOURCE = 'customer-documents';
const RESTORED = 'awsbackup-restore-test-5a4b3c2d';
const ACCOUNT = '123456789012';
const fnArn = (name: string) => `arn:aws:lambda:us-east-1:${ACCOUNT}:function:${name}`;

/** The construct's definition with its tokens resolved to fixed names. */
function synthesizedDefinition(): Record<string, unknown> {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new Stack(app, 'Test', { env: { account: ACCOUNT, region: 'us-east-1' } });
  new S3DistributedMap(stack, 'S3Map');
  const sm = Object.values(
    Template.fromStack(stack).findResources('AWS::StepFunctions::StateMachine'),
  )[0] as {
    Properties: { DefinitionString: { 'Fn::Join': [string, unknown[]] } };
  };
  const text = sm.Properties.DefinitionString['Fn::Join'][1]
    .map((part) => {
      if (typeof part === 'string') return part;
      const att = (part as { 'Fn::GetAtt'?: [string, string] })['Fn::GetAtt']?.[0] ?? '';
      const ref = (part as { Ref?: string }).Ref ?? '';
      if (att.includes('Worker')) return fnArn('worker');
      if (att.includes('Merge')) return fnArn('merge');
      if (ref === 'AWS::Partition') return 'aws';
      if (ref.includes('Results')) return 'rv-results';
      throw new Error(`unexpected token in the definition: ${JSON.stringify(part)}`);
    })
    .join('');
  return JSON.parse(text) as Record<string, unknown>;
}

/** The same definition with its Distributed Map run INLINE (what moto supports). */
function inlineDefinition(): string {
  const def = synthesizedDefinition() as { States: Record<string, Record<string, unknown>> };
  const map = def.States.CompareRanges as Record<string, unknown> & {
    ItemProcessor: { ProcessorConfig: unknown };
  };
  expect(map.ItemProcessor.ProcessorConfig).toEqual({ Mode: 'DISTRIBUTED', ExecutionType: 'STANDARD' });
  map.ItemProcessor.ProcessorConfig = { Mode: 'INLINE' };
  delete map.ResultWriter;
  delete map.ToleratedFailurePercentage;
  return JSON.stringify(def);
}

let moto: ChildProcess;
let endpoint: string;
let lambdaServer: Server;
let s3: S3Client;
let fast: S3Client;
let sfn: SFNClient;
const workerEvents: unknown[] = [];
const mergeEvents: MergeEvent[] = [];
/**
 * When set, a worker's first invocation for a range stops after this key, as a worker does that
 * reaches its Lambda deadline: it compares up to the key and returns the cursor with done: false.
 */
let firstCallStopsAfter: string | undefined;

/** The Lambda service as moto's interpreter calls it: the worker runs for real; the merge is recorded. */
function startLambda(port: number): Promise<Server> {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', async () => {
      const name = decodeURIComponent(/\/functions\/([^/]+)\/invocations/.exec(req.url ?? '')?.[1] ?? '');
      const payload: unknown = JSON.parse(Buffer.concat(chunks).toString('utf8') || 'null');
      try {
        let out: unknown;
        if (name.endsWith(':worker')) {
          workerEvents.push(payload);
          const event = payload as WorkerEvent;
          if (firstCallStopsAfter !== undefined && event.invocations === undefined) {
            const part = await compareRange(
              { ...event, range: { ...event.range, upTo: firstCallStopsAfter } },
              60_000,
              fast,
            );
            out = { ...part, range: event.range, cursor: firstCallStopsAfter, done: false };
          } else out = await compareRange(event, 60_000, fast);
        } else if (name.endsWith(':merge')) {
          mergeEvents.push(payload as MergeEvent);
          out = { recorded: true };
        } else throw new Error(`no such function: ${name}`);
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(out));
      } catch (err) {
        res
          .writeHead(200, { 'content-type': 'application/json', 'x-amz-function-error': 'Unhandled' })
          .end(JSON.stringify({ errorType: 'Error', errorMessage: (err as Error).message }));
      }
    });
  });
  return new Promise((resolve) => server.listen(port, () => resolve(server)));
}

beforeAll(async () => {
  const lambdaPort = await freePort();
  lambdaServer = await startLambda(lambdaPort);
  const port = await freePort();
  endpoint = `http://127.0.0.1:${port}`;
  moto = spawn('moto_server', ['-H', '127.0.0.1', '-p', String(port)], {
    stdio: 'ignore',
    env: { ...process.env, MOTO_PORT: String(lambdaPort) },
  });
  let spawnError: Error | undefined;
  moto.once('error', (err) => {
    spawnError = err;
  });
  const until = Date.now() + 30_000;
  for (let ready = false; !ready; ) {
    if (spawnError)
      throw new Error(`moto_server could not start (bash .ci/run installs it): ${spawnError.message}`);
    if (moto.exitCode !== null) throw new Error(`moto_server exited with ${moto.exitCode}`);
    if (Date.now() > until) throw new Error('moto_server was not ready within 30 s');
    ready = await fetch(`${endpoint}/moto-api/`).then(
      (r) => r.ok,
      () => false,
    );
    if (!ready) await new Promise((r) => setTimeout(r, 100));
  }
  s3 = fixtureClient(endpoint);
  fast = createS3Client({ endpoint, region: 'us-east-1' });
  sfn = new SFNClient({ endpoint, region: 'us-east-1' });
});

// moto runs one execution per reset: each test starts from a fresh moto with the same buckets.
beforeEach(async () => {
  await fetch(`${endpoint}/moto-api/reset`, { method: 'POST' });
  await fetch(`${endpoint}/moto-api/config`, {
    method: 'POST',
    body: JSON.stringify({ stepfunctions: { execute_state_machine: true } }),
  });
  await makeBucket(s3, SOURCE, { a: '1', 'b/x': '2', c: '3', 'd/y': '4', e: '5' });
  await makeBucket(s3, RESTORED, { a: '1', 'b/x': '2', c: 'X', e: '5' });
  workerEvents.length = 0;
  mergeEvents.length = 0;
  firstCallStopsAfter = undefined;
});

afterAll(async () => {
  moto?.kill('SIGTERM');
  await new Promise((r) => lambdaServer?.close(r));
});

async function createStateMachine(name: string): Promise<string> {
  const sm = await sfn.send(
    new CreateStateMachineCommand({
      name,
      roleArn: `arn:aws:iam::${ACCOUNT}:role/sfn`,
      definition: inlineDefinition(),
    }),
  );
  return sm.stateMachineArn ?? '';
}

/** Waits for the execution to leave RUNNING (a condition, not a time). */
async function finished(executionArn: string): Promise<DescribeExecutionCommandOutput> {
  for (;;) {
    const out = await sfn.send(new DescribeExecutionCommand({ executionArn }));
    if (out.status !== 'RUNNING') return out;
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe('S3 state machine as synthesized, executed by moto', () => {
  const params = {
    restoredBucket: RESTORED,
    reference: { with: 'source' as const, bucket: SOURCE, versioned: false },
    mode: 'full' as const,
    filter: {},
  };

  /** Runs a full comparison of the restored bucket over `ranges` in a new state machine, to its end. */
  async function execute(name: string, ranges: ExecutionInput['ranges']) {
    const stateMachineArn = await createStateMachine(`s3-compare-${name}`);
    const input: ExecutionInput = {
      restoreJobId: `job-${name}`,
      checkId: 'same-as-source',
      options: {},
      reference: `s3://${SOURCE}`,
      params,
      ranges,
      priorResults: [],
      failWhenNothingChecked: true,
      objectives: null,
      dryRun: false,
    };
    const started = await sfn.send(
      new StartExecutionCommand({ stateMachineArn, name, input: JSON.stringify(input) }),
    );
    return finished(started.executionArn ?? '');
  }

  it('gives every worker its range and the parameters, and the merge step every range result', async () => {
    const done = await execute('ranges', [{ upTo: 'b' }, { after: 'b', upTo: 'c/' }, { after: 'c/' }]);
    expect(done.status, done.error ?? done.cause).toBe('SUCCEEDED');
    // Each worker got an object: the parameters, its range and its index (not the literal "$").
    expect(workerEvents).toHaveLength(3);
    expect(workerEvents).toEqual(
      expect.arrayContaining([
        { params, range: { upTo: 'b' }, index: 0 },
        { params, range: { after: 'b', upTo: 'c/' }, index: 1 },
        { params, range: { after: 'c/' }, index: 2 },
      ]),
    );
    expect(mergeEvents).toHaveLength(1);
    const merged = mergeEvents[0] as MergeEvent & { map: WorkerOutput[] };
    expect(merged).toMatchObject({ restoreJobId: 'job-ranges', checkId: 'same-as-source', params });
    const counts = merged.map.map((o) => o.acc.counts);
    expect(merged.map.every((o) => o.done)).toBe(true);
    expect(counts.reduce((n, c) => n + c.matched, 0)).toBe(3);
    expect(counts.reduce((n, c) => n + c.mismatched, 0)).toBe(1);
    expect(counts.reduce((n, c) => n + c.missing, 0)).toBe(1);
  });

  it('loops a worker that stopped at its deadline back into the worker with its cursor and counts', async () => {
    firstCallStopsAfter = 'b/x';
    const done = await execute('loop', [{}]);
    expect(done.status, done.error ?? done.cause).toBe('SUCCEEDED');
    // The second invocation got the first one's output as its event: the range, cursor and counts so far.
    expect(workerEvents).toHaveLength(2);
    expect(workerEvents[1]).toMatchObject({
      params,
      range: {},
      index: 0,
      cursor: 'b/x',
      done: false,
      invocations: 1,
      acc: { counts: { matched: 2, reference: 2 } },
    });
    const merged = mergeEvents[0] as MergeEvent & { map: WorkerOutput[] };
    expect(merged.map).toHaveLength(1);
    expect(merged.map[0]).toMatchObject({ done: true, invocations: 2 });
    // Every key counted once across the two invocations.
    expect(merged.map[0]?.acc.counts).toMatchObject({
      reference: 5,
      matched: 3,
      mismatched: 1,
      missing: 1,
    });
  });

  it('runs the input the validator hands off through the same worker', async () => {
    const stateMachineArn = await createStateMachine('s3-compare-handoff');
    const run = await runValidator(
      s3Validator,
      testContext({
        endpoint,
        createdResourceArn: `arn:aws:s3:::${RESTORED}`,
        sourceResourceArn: `arn:aws:s3:::${SOURCE}`,
        checks: [{ id: 'same-as-source', compare: { with: 'source', mode: 'full', distributed: 'always' } }],
        settings: s3Settings({ S3_COMPARE_STATE_MACHINE_ARN: stateMachineArn }),
        clients: { sfn },
      }),
    );
    expect(run.deferredTo, JSON.stringify(run.results)).toBeDefined();
    const done = await finished(run.deferredTo ?? '');
    expect(done.status, done.error ?? done.cause).toBe('SUCCEEDED');
    expect(workerEvents).toMatchObject([
      { params: { restoredBucket: RESTORED, mode: 'full' }, range: {}, index: 0 },
    ]);
    const merged = mergeEvents[0] as MergeEvent & { map: WorkerOutput[] };
    expect(merged.priorResults.map((r) => r.id)).toEqual(['restored-bucket']);
    expect(merged.map[0]?.acc.counts).toMatchObject({ matched: 3, mismatched: 1, missing: 1, reference: 5 });
  });
});

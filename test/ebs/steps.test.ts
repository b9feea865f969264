import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import {
  BackupClient,
  DescribeRestoreJobCommand,
  GetRestoreJobMetadataCommand,
  PutRestoreValidationResultCommand,
} from '@aws-sdk/client-backup';
import {
  AttachVolumeCommand,
  CreateSecurityGroupCommand,
  CreateSubnetCommand,
  CreateVolumeCommand,
  CreateVpcCommand,
  DescribeImagesCommand,
  DescribeInstancesCommand,
  DescribeVolumesCommand,
  DetachVolumeCommand,
  EC2Client,
  RunInstancesCommand,
} from '@aws-sdk/client-ec2';
import {
  CancelCommandCommand,
  DescribeInstanceInformationCommand,
  GetCommandInvocationCommand,
  GetParameterCommand,
  SendCommandCommand,
  SSMClient,
} from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  HELPER_DEADLINE_TAG,
  HELPER_JOB_TAG,
  type HelperFlowInput,
  withChecks,
} from '../../functions/ebs/flow';
import { sweep } from '../../functions/ebs/janitor';
import {
  attachVolume,
  DETACH_FORCE_AFTER_MS,
  detachVolume,
  executionEnded,
  type FlowState,
  helperScript,
  launchHelper,
  reportFailure,
  runHelperFlow,
  type StepDeps,
} from '../../functions/ebs/steps';
import { bundleMountCheck } from '../../shared/files/mount-check/bundle';
import { CREATED_BY_TAG } from '../../shared/guard';
import { resultLine } from '../../shared/ssm/run-command';
import { makeRecord } from '../evidence/fixtures';
import { type Moto, startMoto } from '../support/engines';
import { motoEvidence, validatingJob } from '../support/evidence-sink';
import { CANARY, ext4Image, makeTree } from './images';

let moto: Moto;
let ec2: EC2Client;
let work: string;
let okOutput: string;
let failOutput: string;
const ssm = mockClient(SSMClient);
const backup = mockClient(BackupClient);

let subnetC: string;
let subnetA: string;
let sg: string;
let ami: string;

async function setupNetwork() {
  const vpc = await ec2.send(new CreateVpcCommand({ CidrBlock: '10.0.0.0/16' }));
  const vpcId = vpc.Vpc?.VpcId ?? '';
  subnetA =
    (
      await ec2.send(
        new CreateSubnetCommand({ VpcId: vpcId, CidrBlock: '10.0.1.0/24', AvailabilityZone: 'us-east-1a' }),
      )
    ).Subnet?.SubnetId ?? '';
  subnetC =
    (
      await ec2.send(
        new CreateSubnetCommand({ VpcId: vpcId, CidrBlock: '10.0.3.0/24', AvailabilityZone: 'us-east-1c' }),
      )
    ).Subnet?.SubnetId ?? '';
  sg =
    (
      await ec2.send(
        new CreateSecurityGroupCommand({ GroupName: 'helper', Description: 'no inbound', VpcId: vpcId }),
      )
    ).GroupId ?? '';
}

/**
 * An AMI moto knows. Its default images (about 1,200) come back after every reset with the same ids,
 * so the lookup runs once: listing them all took 1.3-2.2 s of each test.
 */
async function knownAmi(): Promise<string> {
  const id = (await ec2.send(new DescribeImagesCommand({}))).Images?.[0]?.ImageId;
  if (!id) throw new Error('moto lists no AMI');
  return id;
}

async function restoredVolume(tags = [{ Key: 'awsbackup-restore-test', Value: '' }]): Promise<string> {
  const v = await ec2.send(
    new CreateVolumeCommand({
      AvailabilityZone: 'us-east-1c',
      Size: 100,
      TagSpecifications: [{ ResourceType: 'volume', Tags: tags }],
    }),
  );
  return v.VolumeId ?? '';
}

const input = (volumeId: string, extra: Partial<HelperFlowInput> = {}): HelperFlowInput => ({
  restoreJobId: `job-${Math.random().toString(36).slice(2, 10)}`,
  volumeId,
  availabilityZone: 'us-east-1c',
  checks: [{ kind: 'files', id: 'canaries', files: { [CANARY]: `sha256:${'0'.repeat(64)}` } }],
  stateResults: [{ id: 'volume-state', status: 'pass', detail: 'available', durationMs: 1 }],
  failWhenNothingChecked: true,
  helper: {
    subnetIds: [subnetA, subnetC],
    securityGroupId: sg,
    amiParameter: '/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-arm64',
    instanceType: 't4g.micro',
    maxMinutes: 60,
  },
  deadline: new Date(Date.now() + 3_600_000).toISOString(),
  dryRun: false,
  ...extra,
});

/** What the helper script prints: the program's output through its own gzip | base64 line. */
function packed(programOutput: string): string {
  const pack = helperScript('x', 'vol-0', []).find((l) => l.includes('gzip')) ?? '';
  const w = mkdtempSync(join(tmpdir(), 'rv-ebs-pack-'));
  try {
    writeFileSync(join(w, 'out'), programOutput);
    return execFileSync('bash', ['-c', `W='${w}'; ${pack}`]).toString();
  } finally {
    rmSync(w, { recursive: true, force: true });
  }
}

let source_: string;
const deps = (): StepDeps => ({
  ec2,
  ssm: new SSMClient({}),
  backup: new BackupClient({}),
  mountCheckSource: () => source_,
});

async function instance(id: string) {
  const out = await ec2.send(new DescribeInstancesCommand({ InstanceIds: [id] }));
  return out.Reservations?.[0]?.Instances?.[0];
}
async function volumeOf(id: string) {
  return (await ec2.send(new DescribeVolumesCommand({ VolumeIds: [id] }))).Volumes?.[0];
}
const posted = () => backup.commandCalls(PutRestoreValidationResultCommand).map((c) => c.args[0].input);

beforeAll(async () => {
  moto = await startMoto();
  ec2 = new EC2Client({ region: 'us-east-1', endpoint: moto.endpoint });
  work = mkdtempSync(join(tmpdir(), 'rv-ebs-steps-'));
  ami = await knownAmi();
  source_ = await bundleMountCheck();
  // The helper's stdout, produced by the real program on a real image.
  const src = join(work, 'src');
  const { canarySha } = makeTree(src);
  const img = ext4Image(join(work, 'vol.img'), src);
  const run = (sha: string) => {
    const file = join(work, 'mc.cjs');
    writeFileSync(file, source_);
    const checks = Buffer.from(
      JSON.stringify([{ kind: 'files', id: 'canaries', files: { [CANARY]: `sha256:${sha}` } }]),
    ).toString('base64');
    try {
      return execFileSync('node', [file, '--device', img, '--checks-base64', checks]).toString();
    } catch (err) {
      return (err as { stdout: Buffer }).stdout.toString();
    }
  };
  okOutput = run(canarySha);
  failOutput = run('f'.repeat(64));
});

afterAll(async () => {
  await moto?.stop();
  if (work) rmSync(work, { recursive: true, force: true });
});

beforeEach(async () => {
  await moto.reset();
  await setupNetwork();
  ssm.reset();
  backup.reset();
  ssm.on(GetParameterCommand).resolves({ Parameter: { Value: ami } });
  ssm.on(DescribeInstanceInformationCommand).callsFake((i: { Filters?: { Values?: string[] }[] }) => ({
    InstanceInformationList: [{ InstanceId: i.Filters?.[0]?.Values?.[0], PingStatus: 'Online' }],
  }));
  ssm.on(SendCommandCommand).resolves({ Command: { CommandId: 'cmd-1' } });
  ssm
    .on(GetCommandInvocationCommand)
    .resolves({ Status: 'Success', ResponseCode: 0, StandardOutputContent: packed(okOutput) });
  backup.on(DescribeRestoreJobCommand).resolves({});
  backup.on(PutRestoreValidationResultCommand).resolves({});
});

describe('EBS helper flow', () => {
  it('launches a guarded helper, runs the mount check, cleans up and posts SUCCESSFUL when the volume is good', async () => {
    const vol = await restoredVolume();
    const ok = input(vol, { checks: [{ kind: 'files', id: 'canaries', files: { [CANARY]: 'sha256:x' } }] });
    const final = await runHelperFlow(ok, deps(), { pollMs: 1 });
    expect(final.error).toBeUndefined();
    expect(final.verdict?.status).toBe('SUCCESSFUL');
    expect(posted()).toEqual([
      expect.objectContaining({ RestoreJobId: ok.restoreJobId, ValidationStatus: 'SUCCESSFUL' }),
    ]);
    const helper = await instance(final.instanceId ?? '');
    expect(helper?.State?.Name).toBe('terminated');
    expect(helper?.SubnetId).toBe(subnetC);
    expect(helper?.Tags).toEqual(expect.arrayContaining([{ Key: CREATED_BY_TAG, Value: 'ebs-helper' }]));
    expect(helper?.Tags?.find((t) => t.Key === HELPER_DEADLINE_TAG)?.Value).toBe(ok.deadline);
    expect((await volumeOf(vol))?.State).toBe('available');
    const run = ssm.commandCalls(SendCommandCommand)[0]?.args[0].input;
    expect(run?.DocumentName).toBe('AWS-RunShellScript');
    expect(run?.InstanceIds).toEqual([final.instanceId]);
  });

  it('asks EC2 for IMDSv2, terminate-on-shutdown and a shutdown at the deadline', async () => {
    const vol = await restoredVolume();
    const launched = await launchHelper(input(vol), deps());
    const helper = await instance(launched.instanceId ?? '');
    expect(helper?.MetadataOptions?.HttpTokens).toBe('required');
    expect(helper?.SecurityGroups?.map((g) => g.GroupId)).toEqual([sg]);
  });

  it('posts FAILED with the canary reason when the mount check finds changed content', async () => {
    ssm
      .on(GetCommandInvocationCommand)
      .resolves({ Status: 'Success', ResponseCode: 0, StandardOutputContent: packed(failOutput) });
    const vol = await restoredVolume();
    const final = await runHelperFlow(input(vol), deps(), { pollMs: 1 });
    expect(final.verdict?.status).toBe('FAILED');
    expect(posted()[0]?.ValidationStatusMessage).toMatch(
      /canaries failed: \/data\/canary\.bin content changed/,
    );
    expect((await instance(final.instanceId ?? ''))?.State?.Name).toBe('terminated');
  });

  it('judges the objectives handed off with the flow into the final record (the restore took 12 min, RTO 5)', async () => {
    ssm
      .on(GetCommandInvocationCommand)
      .resolves({ Status: 'Success', ResponseCode: 0, StandardOutputContent: packed(okOutput) });
    const vol = await restoredVolume();
    const flow = {
      ...input(vol, { startedAt: '2026-11-20T10:13:00.000Z' }),
      objectives: { rtoMinutes: 5, onMiss: 'report' as const },
    };
    const backupClient = new BackupClient({});
    backup
      .on(DescribeRestoreJobCommand)
      .resolves(validatingJob(flow.restoreJobId, 'EBS', `arn:aws:ec2:us-east-1::volume/${vol}`));
    backup.on(GetRestoreJobMetadataCommand).resolves({ Metadata: {} });
    const ev = await motoEvidence(moto.endpoint, backupClient);
    const final = await runHelperFlow(
      flow,
      { ...deps(), backup: backupClient, clients: ev.clients, settings: ev.settings },
      { pollMs: 1 },
    );
    // onMiss: report — the miss is evidence, the verdict stands
    expect(final.verdict?.status).toBe('SUCCESSFUL');
    expect((await ev.store.get(flow.restoreJobId))?.objectives).toEqual({
      onMiss: 'report',
      rto: { objectiveMinutes: 5, measuredMinutes: 12, met: false },
    });
  });

  it('stores the final FAILED record over the DEFERRED one, naming the helper and its clean-up', async () => {
    ssm
      .on(GetCommandInvocationCommand)
      .resolves({ Status: 'Success', ResponseCode: 0, StandardOutputContent: packed(failOutput) });
    const vol = await restoredVolume();
    const flow = input(vol, { startedAt: '2026-11-20T10:13:00.000Z' });
    const backupClient = new BackupClient({});
    backup
      .on(DescribeRestoreJobCommand)
      .resolves(validatingJob(flow.restoreJobId, 'EBS', `arn:aws:ec2:us-east-1::volume/${vol}`));
    backup.on(GetRestoreJobMetadataCommand).resolves({ Metadata: {} });
    const ev = await motoEvidence(moto.endpoint, backupClient);
    // what the lifecycle stored at the hand-off
    await ev.store.put({
      ...makeRecord(1, { count: 1 }),
      restoreJobId: flow.restoreJobId,
      verdict: 'DEFERRED',
      validationFinishedAt: '2026-11-20T10:13:01.000Z',
    });
    expect((await ev.store.getSummary(flow.restoreJobId))?.verdict).toBe('DEFERRED');

    const final = await runHelperFlow(
      flow,
      { ...deps(), backup: backupClient, clients: ev.clients, settings: ev.settings },
      { pollMs: 1 },
    );
    expect(final.verdict?.status).toBe('FAILED');
    const record = await ev.store.get(flow.restoreJobId);
    expect(record).toMatchObject({
      restoreJobId: flow.restoreJobId,
      validator: 'ebs',
      verdict: 'FAILED',
      reported: true,
      mode: 'lambda',
      codeVersion: '9.9.9-test',
      validationStartedAt: '2026-11-20T10:13:00.000Z',
      restoreDurationSeconds: 720,
      notes: {
        helper: {
          instanceId: final.instanceId,
          volumeId: vol,
          detached: expect.any(String),
          terminated: 'terminated',
        },
      },
    });
    expect(record?.checks.find((c) => c.id === 'canaries')).toMatchObject({ status: 'fail' });
    expect(record?.message).toBe(final.verdict?.message);
    expect((await ev.store.getSummary(flow.restoreJobId))?.verdict).toBe('FAILED');
  });

  it('still detaches and terminates the helper when the flow crashes between attach and detach', async () => {
    const vol = await restoredVolume();
    let attachedSeen = false;
    const final = await runHelperFlow(input(vol), deps(), {
      pollMs: 1,
      afterStep: async (step, state) => {
        if (step === 'attachVolume' && state.ready) {
          attachedSeen = (await volumeOf(vol))?.State === 'in-use';
          throw new Error('Lambda crashed: Runtime.ExitError');
        }
      },
    });
    expect(attachedSeen).toBe(true);
    expect(final.error?.Cause).toContain('Runtime.ExitError');
    expect((await instance(final.instanceId ?? ''))?.State?.Name).toBe('terminated');
    expect((await volumeOf(vol))?.State).toBe('available');
    expect(final.verdict?.status).toBe('FAILED');
    expect(posted()[0]?.ValidationStatusMessage).toMatch(/helper error: .*Runtime\.ExitError/);
    expect(posted()[0]?.ValidationStatusMessage).toMatch(/canaries error: not run: the helper flow failed/);
  });

  it('cleans up and names the SSM failure when the mount check command fails to run', async () => {
    ssm.on(GetCommandInvocationCommand).resolves({
      Status: 'Failed',
      ResponseCode: 127,
      StandardOutputContent: '',
      StandardErrorContent: 'node: not found',
    });
    const vol = await restoredVolume();
    const final = await runHelperFlow(input(vol), deps(), { pollMs: 1 });
    expect(final.error?.step).toBe('pollMountCheck');
    expect(final.error?.Cause).toBe(
      'the mount check returned no result (SSM status Failed, exit 127): node: not found',
    );
    expect((await instance(final.instanceId ?? ''))?.State?.Name).toBe('terminated');
  });

  it('gives up waiting into the clean-up when the helper deadline is near', async () => {
    ssm.on(GetCommandInvocationCommand).resolves({ Status: 'InProgress' });
    const vol = await restoredVolume();
    let now = Date.now();
    const d = { ...deps(), now: () => now };
    const final = await runHelperFlow(input(vol), d, {
      pollMs: 1,
      afterStep: (step) => {
        if (step === 'startMountCheck') now += 58 * 60_000;
      },
    });
    expect(final.error?.Cause).toMatch(/^gave up waiting for the mount check \(SSM status InProgress\)/);
    expect((await instance(final.instanceId ?? ''))?.State?.Name).toBe('terminated');
    // The still-running mount check is cancelled first, so it unmounts before the volume is pulled.
    expect(ssm.commandCalls(CancelCommandCommand).map((c) => c.args[0].input)).toEqual([
      { CommandId: 'cmd-1', InstanceIds: [final.instanceId] },
    ]);
    expect(final.cleanup?.cancelled).toBe('cancel requested');
  });

  it('keeps every state under the 256 KiB Step Functions limit with 2,200 canary checks', async () => {
    const hex = (i: number) => createHash('sha256').update(String(i)).digest('hex');
    const checks = Array.from({ length: 2200 }, (_, i) => ({
      kind: 'files' as const,
      id: `canary-${i}`,
      files: { [`/data/canaries/c-${String(i).padStart(5, '0')}.bin`]: `sha256:${hex(i)}` },
    }));
    const result = {
      version: 1,
      device: '/dev/nvme1n1',
      ok: true,
      partitionTable: 'none',
      filesystems: [{ name: 'disk', offsetBytes: 0, sizeBytes: 1, type: 'ext4', access: 'mount' }],
      checks: [
        {
          id: 'fsck:disk',
          status: 'pass',
          detail: 'ext4 on the whole device: e2fsck -f -n: clean',
          durationMs: 5,
        },
        ...checks.map((c) => ({
          id: c.id,
          status: 'pass',
          detail: '1 file(s) match their SHA-256',
          durationMs: 1,
        })),
      ],
      released: true,
      durationMs: 100,
    };
    ssm.on(GetCommandInvocationCommand).resolves({
      Status: 'Success',
      ResponseCode: 0,
      StandardOutputContent: packed(`${JSON.stringify(result)}\n`),
    });
    const vol = await restoredVolume();
    const big = input(vol, withChecks(checks));
    expect(JSON.stringify(checks).length).toBeGreaterThan(256 * 1024);
    const sizes: number[] = [JSON.stringify(big).length];
    const final = await runHelperFlow(big, deps(), {
      pollMs: 1,
      afterStep: (_step, state) => {
        sizes.push(JSON.stringify(state).length);
      },
    });
    expect(Math.max(...sizes)).toBeLessThan(256 * 1024);
    expect(final.verdict?.status).toBe('SUCCESSFUL');
    expect(final.verdict?.message).toMatch(/2201 checks passed|passed/);
    const sent =
      ssm.commandCalls(SendCommandCommand)[0]?.args[0].input.Parameters?.commands?.join('\n') ?? '';
    expect(sent).toContain('--checks-file');
  });

  it('forces the detach once a polite detach has hung past its bound', async () => {
    const vol = await restoredVolume();
    let state: FlowState = await launchHelper(input(vol), deps());
    state = await attachVolume(state, deps());
    const sent: unknown[] = [];
    const original = ec2.send.bind(ec2) as (cmd: unknown) => Promise<unknown>;
    const spy = vi.spyOn(ec2, 'send').mockImplementation(((cmd: unknown) => {
      sent.push(cmd);
      // The polite request "hangs": EC2 accepts it, the volume stays attached.
      if (cmd instanceof DetachVolumeCommand && !cmd.input.Force) return Promise.resolve({});
      return original(cmd);
    }) as never);
    try {
      const now = Date.now();
      const first = await detachVolume(state, { ...deps(), now: () => now });
      expect(first.cleanup?.detached).toBe('detach requested');
      const later = await detachVolume(first, { ...deps(), now: () => now + DETACH_FORCE_AFTER_MS });
      expect(later.cleanup?.detached).toBe('force-detach requested');
    } finally {
      spy.mockRestore();
    }
    const detaches = sent.filter((c): c is DetachVolumeCommand => c instanceof DetachVolumeCommand);
    expect(detaches.map((c) => c.input.Force ?? false)).toEqual([false, true]);
    expect((await volumeOf(vol))?.State).toBe('available');
  });

  it('cleans up and posts FAILED when the execution itself FAILED, TIMED_OUT or was ABORTED', async () => {
    const vol = await restoredVolume();
    const flowInput = input(vol);
    let state: FlowState = await launchHelper(flowInput, deps());
    state = await attachVolume(state, deps());
    // The execution timed out mid-flow (no Catch sees that): only the EventBridge rule's event remains.
    const final = await executionEnded(
      { status: 'TIMED_OUT', name: `ebs-${flowInput.restoreJobId}`, input: JSON.stringify(flowInput) },
      deps(),
    );
    expect((await volumeOf(vol))?.State).toBe('available');
    expect((await instance(state.instanceId ?? ''))?.State?.Name).toBe('terminated');
    expect(posted()).toEqual([
      expect.objectContaining({ RestoreJobId: flowInput.restoreJobId, ValidationStatus: 'FAILED' }),
    ]);
    expect(posted()[0]?.ValidationStatusMessage).toContain('the helper flow execution ended TIMED_OUT');
    expect(final.verdict?.status).toBe('FAILED');
  });

  it('posts FAILED with the reason when ReportVerdict failed all its retries', async () => {
    const vol = await restoredVolume();
    const final = await reportFailure(
      { ...input(vol), reportError: { Error: 'S3ServiceException', Cause: 'evidence bucket unreachable' } },
      deps(),
    );
    expect(posted()[0]).toMatchObject({
      ValidationStatus: 'FAILED',
      ValidationStatusMessage:
        'the EBS helper flow could not record its verdict (ReportVerdict: evidence bucket unreachable)',
    });
    expect(final.verdict?.status).toBe('FAILED');
  });

  it('fails without launching anything when no helper subnet is in the volume AZ', async () => {
    const vol = await restoredVolume();
    const final = await runHelperFlow(
      { ...input(vol), helper: { ...input(vol).helper, subnetIds: [subnetA] } },
      deps(),
      { pollMs: 1 },
    );
    expect(final.instanceId).toBeUndefined();
    expect(final.error?.Cause).toContain('no helper subnet in us-east-1c');
    expect(posted()[0]?.ValidationStatus).toBe('FAILED');
  });

  it('refuses to attach a volume that is not a restore-test resource', async () => {
    const vol = await restoredVolume([{ Key: 'Name', Value: 'prod-db-data' }]);
    const final = await runHelperFlow(input(vol), deps(), { pollMs: 1 });
    expect(final.error?.Cause).toMatch(/refusing to attach a helper to prod-db-data/);
    expect(final.instanceId).toBeUndefined();
  });

  it('posts nothing in a dry run', async () => {
    const vol = await restoredVolume();
    const final = await runHelperFlow(input(vol, { dryRun: true }), deps(), { pollMs: 1 });
    expect(final.verdict?.posted).toBe('not posted (dry run)');
    expect(posted()).toEqual([]);
  });

  it('posts nothing for a dry run started before the input said dryRun (post: false)', async () => {
    const vol = await restoredVolume();
    const { dryRun: _, ...older } = input(vol, { post: false });
    const final = await runHelperFlow(older as HelperFlowInput, deps(), { pollMs: 1 });
    expect(final.verdict?.posted).toBe('not posted (dry run)');
    expect(posted()).toEqual([]);
  });
});

describe('helperScript', () => {
  it('looks the volume up by its NVMe serial and passes the checks as base64', () => {
    const lines = helperScript('console.log(1)', 'vol-0abc', [{ kind: 'paths', id: 'p', paths: ['/x'] }]);
    expect(lines.join('\n')).toContain('/dev/disk/by-id/nvme-Amazon_Elastic_Block_Store_vol0abc');
    // The checks travel gzipped (thousands of canaries), unpacked into a file for --checks-file.
    const gz =
      /echo '([A-Za-z0-9+/=]+)' \| base64 -d \| gunzip > "\$W\/checks\.json"/.exec(lines.join('\n'))?.[1] ??
      '';
    expect(JSON.parse(gunzipSync(Buffer.from(gz, 'base64')).toString())).toEqual([
      { kind: 'paths', id: 'p', paths: ['/x'] },
    ]);
    // The restored volume is a throwaway copy: a crash-consistent journal is replayed on it.
    expect(lines.join('\n')).toContain('--replay in-place');
  });

  it('refuses a volume id that is not vol-<hex> before it reaches the shell line', () => {
    for (const bad of ['vol-0abc; reboot', "vol-1'$(id)'", 'vol-0ABC', 'vol-', 'vol-0abc\n'])
      expect(() => helperScript('x', bad, [])).toThrow(/refusing a malformed volume id/);
  });
});

describe('the helper result through SSM', () => {
  it('packs a result far above the 24,000 characters SSM keeps, and reads it back whole', () => {
    const big = {
      version: 1,
      device: '/dev/nvme1n1',
      ok: true,
      filesystems: [],
      checks: Array.from({ length: 1500 }, (_, i) => ({
        id: `file-${i}`,
        status: 'pass',
        detail: `/data/archive/2026/11/part-${String(i).padStart(5, '0')}.parquet: sha256 matches`,
        durationMs: i % 7,
      })),
    };
    const plain = `${JSON.stringify(big)}\n`;
    expect(plain.length).toBeGreaterThan(100_000);
    const out = packed(plain);
    expect(out.length).toBeLessThan(24_000);
    expect(JSON.parse(resultLine(out) ?? '')).toEqual(big);
  });

  it("reads a helper's plain error line, and nothing from a packed line SSM cut short", () => {
    expect(resultLine('{"helperError":"node is not installed"}\n')).toBe(
      '{"helperError":"node is not installed"}',
    );
    const cut = packed(okOutput).slice(0, 40);
    expect(resultLine(cut)).toBeUndefined();
  });
});

describe('janitor sweep', () => {
  it('detaches the restore-test volume and terminates a helper left attached after its deadline', async () => {
    const vol = await restoredVolume();
    // A flow that died after attach: nothing ran the clean-up.
    let state: FlowState = await launchHelper(input(vol), deps());
    state = await attachVolume(state, deps());
    expect((await volumeOf(vol))?.State).toBe('in-use');
    const report = await sweep(ec2, { now: Date.parse(state.deadline) + 1000 });
    expect(report.terminated).toEqual([state.instanceId]);
    expect(report.detached).toEqual([{ volumeId: vol, instanceId: state.instanceId }]);
    expect((await volumeOf(vol))?.State).toBe('available');
    expect((await instance(state.instanceId ?? ''))?.State?.Name).toBe('terminated');
  });

  it('keeps helpers within their deadline and never touches instances it did not create', async () => {
    const vol = await restoredVolume();
    const live = await launchHelper(input(vol), deps());
    const other = await ec2.send(
      new RunInstancesCommand({
        ImageId: ami,
        MinCount: 1,
        MaxCount: 1,
        TagSpecifications: [
          { ResourceType: 'instance', Tags: [{ Key: HELPER_DEADLINE_TAG, Value: '2000-01-01T00:00:00Z' }] },
        ],
      }),
    );
    const report = await sweep(ec2);
    expect(report.kept).toEqual([live.instanceId]);
    expect(report.terminated).toEqual([]);
    expect((await instance(other.Instances?.[0]?.InstanceId ?? ''))?.State?.Name).toBe('running');
  });

  it('leaves alone an expired instance that copies our exact tags but was not launched by the flow', async () => {
    const vol = await restoredVolume();
    const ours = await launchHelper(input(vol), deps());
    const theirs = await ec2.send(
      new RunInstancesCommand({
        ImageId: ami,
        MinCount: 1,
        MaxCount: 1,
        ClientToken: 'someone-elses-launch',
        TagSpecifications: [
          {
            ResourceType: 'instance',
            Tags: [
              { Key: CREATED_BY_TAG, Value: 'ebs-helper' },
              { Key: HELPER_DEADLINE_TAG, Value: '2000-01-01T00:00:00Z' },
              { Key: HELPER_JOB_TAG, Value: 'job-of-someone-else' },
            ],
          },
        ],
      }),
    );
    const theirId = theirs.Instances?.[0]?.InstanceId ?? '';
    const report = await sweep(ec2, { now: Date.parse(ours.deadline) + 1000 });
    expect(report.terminated).toEqual([ours.instanceId]);
    expect(report.problems).toEqual([
      `left ${theirId} alone: tagged as an EBS helper, but its launch token "someone-elses-launch" is not the helper flow's for job job-of-someone-else`,
    ]);
    expect((await instance(theirId))?.State?.Name).toBe('running');
  });

  it('terminates the helper but leaves a non-restore-test volume attached, reporting it', async () => {
    const restored = await restoredVolume();
    const prod = await restoredVolume([{ Key: 'Name', Value: 'prod' }]);
    let state: FlowState = await launchHelper(input(restored), deps());
    state = await attachVolume(state, deps());
    await ec2.send(
      new AttachVolumeCommand({ VolumeId: prod, InstanceId: state.instanceId ?? '', Device: '/dev/sdg' }),
    );
    const report = await sweep(ec2, { now: Date.parse(state.deadline) + 1000 });
    expect(report.detached.map((d) => d.volumeId)).toEqual([restored]);
    expect(report.problems).toEqual([
      `left ${prod} attached to ${state.instanceId}: not a restore-test volume`,
    ]);
    expect(report.terminated).toEqual([state.instanceId]);
  });
});

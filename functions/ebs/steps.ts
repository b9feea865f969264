/**
 * The EBS helper flow's steps: small Lambdas run by the Step Functions state machine in
 * infra/constructs/ebs-helper.ts. The flow:
 *
 *   launch helper ─► attach volume (loop until attached) ─► wait for SSM (loop) ─► start mount check
 *   ─► poll mount check (loop) ─► detach ─► terminate ─► report verdict
 *
 * with a catch-all: any failure after launch goes to detach ─► terminate ─► report (FAILED with the
 * reason). Every step is idempotent (Step Functions retries them), touches only the restore-test
 * volume and helpers tagged by us, and is guarded before it modifies anything. The helper also
 * schedules its own shutdown (terminate-on-shutdown) at its deadline, and functions/ebs/janitor.ts
 * sweeps helpers that outlive it, so a helper cannot survive even a failed clean-up.
 * @see https://docs.aws.amazon.com/ebs/latest/userguide/ebs-attaching-volume.html
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { BackupClient } from '@aws-sdk/client-backup';
import {
  AttachVolumeCommand,
  DescribeInstancesCommand,
  DescribeSubnetsCommand,
  DetachVolumeCommand,
  EC2Client,
  RunInstancesCommand,
  TerminateInstancesCommand,
} from '@aws-sdk/client-ec2';
import { CancelCommandCommand, GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import type { CheckResult } from '../../shared/checks';
import { type Clients, clients, createClients, registerClients } from '../../shared/clients';
import { type RuntimeSettings, runtimeSettings } from '../../shared/env';
import { reasonOf } from '../../shared/errors';
import type { EvidenceSink } from '../../shared/evidence';
import { assertCreatedByUs, assertRestoreTestResource, CREATED_BY_TAG } from '../../shared/guard';
import { logger } from '../../shared/logger';
import { withRetry } from '../../shared/retry';
// The final record goes to the stack's sinks (evidence store, metrics, notification).
import '../../shared/sinks';
import type { MountCheckResult } from '../../shared/files/mount-check/types';
import {
  getInvocation,
  packResultLine,
  pingStatus,
  resultLine,
  sendShellCommand,
} from '../../shared/ssm/run-command';
import { decideVerdict, type FinishInput, finishValidation, type Posted } from '../../shared/verdict/index';
import {
  checksOf,
  HELPER_DEADLINE_TAG,
  HELPER_DEVICE_NAME,
  HELPER_JOB_TAG,
  type HelperFlowInput,
  helperClientToken,
  isDryRun,
  packJson,
  STATE_INLINE_LIMIT,
  unpackJson,
} from './flow';
import { ebsStepSettings } from './settings';
import { describeVolume } from './volume';

registerClients({ ec2: EC2Client, ssm: SSMClient, backup: BackupClient });

/** The state passed from step to step (the execution input plus what the steps add). */
export interface FlowState extends HelperFlowInput {
  readonly instanceId?: string;
  /** Loop flag for the Wait/Choice loops: the step's condition is met. */
  readonly ready?: boolean;
  readonly commandId?: string;
  readonly mountCheck?: MountCheckResult;
  /** The mount-check result gzipped + base64 when large (see mountCheckOf). */
  readonly mountCheckPacked?: string;
  /** Set by the catch-all: which step failed and why. */
  readonly error?: { readonly Error?: string; readonly Cause?: string; readonly step?: string };
  readonly cleanup?: {
    readonly detached?: string;
    readonly terminated?: string;
    /** When the first (polite) detach was requested: a force-detach follows after DETACH_FORCE_AFTER_MS. */
    readonly detachRequestedAt?: string;
    /** Set when a mount check still running at give-up was cancelled. */
    readonly cancelled?: string;
  };
  readonly verdict?: {
    readonly status: 'SUCCESSFUL' | 'FAILED';
    readonly message: string;
    readonly posted: string;
  };
}

export interface StepDeps {
  readonly ec2: EC2Client;
  readonly ssm: SSMClient;
  readonly backup: BackupClient;
  /** The bundled mount-check program (see mount-check/bundle.ts). */
  readonly mountCheckSource: () => string;
  readonly now?: () => number;
  /** For the final evidence record. @default the process-wide clients and runtime settings */
  readonly clients?: Clients;
  readonly settings?: RuntimeSettings;
  /** @default the stack's sinks (evidence store, metrics, notification) */
  readonly sinks?: readonly EvidenceSink[];
}

const HELPER_NAME = 'restore-validation-ebs-helper';

/** Where the construct puts the bundled program next to the steps Lambda's code. */
function defaultMountCheckSource(): string {
  const { mountCheckFile, taskRoot } = ebsStepSettings();
  return readFileSync(mountCheckFile ?? join(taskRoot, 'mount-check.cjs'), 'utf8');
}

function defaultDeps(): StepDeps {
  const c = clients();
  return {
    ec2: c.ec2,
    ssm: c.ssm,
    backup: c.backup,
    mountCheckSource: defaultMountCheckSource,
    clients: c,
    settings: runtimeSettings(),
  };
}

async function describeHelper(ec2: EC2Client, instanceId: string) {
  try {
    const out = await withRetry(() => ec2.send(new DescribeInstancesCommand({ InstanceIds: [instanceId] })));
    return out.Reservations?.flatMap((r) => r.Instances ?? []).find((i) => i.InstanceId === instanceId);
  } catch (err) {
    if ((err as { name?: string }).name === 'InvalidInstanceID.NotFound') return undefined;
    throw err;
  }
}

/**
 * The helper of this job when the state lost its id (launch failed after RunInstances succeeded):
 * found by our tags, so clean-up never leaves one behind.
 */
async function findHelper(ec2: EC2Client, restoreJobId: string): Promise<string | undefined> {
  const out = await withRetry(() =>
    ec2.send(
      new DescribeInstancesCommand({
        Filters: [
          { Name: `tag:${HELPER_JOB_TAG}`, Values: [restoreJobId] },
          { Name: `tag:${CREATED_BY_TAG}`, Values: ['ebs-helper'] },
          { Name: 'instance-state-name', Values: ['pending', 'running', 'stopping', 'stopped'] },
        ],
      }),
    ),
  );
  return out.Reservations?.flatMap((r) => r.Instances ?? [])[0]?.InstanceId;
}

/** The restored volume, re-described and guarded before any attach/detach. */
async function guardedVolume(ec2: EC2Client, volumeId: string, action: string) {
  const volume = await describeVolume(ec2, volumeId);
  if (!volume) throw new Error(`volume ${volumeId} no longer exists`);
  assertRestoreTestResource(volume.name ?? volume.volumeId, volume.tags, action);
  return volume;
}

/**
 * Step 1: launches the helper in the volume's AZ: Amazon Linux from the public SSM parameter, IMDSv2
 * required, no public IP, the security group with no inbound rules, terminate-on-shutdown and a
 * shutdown scheduled at the deadline (a dead-man switch), tagged as ours. The client token makes a
 * retried step return the same instance instead of launching a second.
 * @see https://docs.aws.amazon.com/systems-manager/latest/userguide/parameter-store-public-parameters-ami.html
 */
export async function launchHelper(state: FlowState, deps: StepDeps = defaultDeps()): Promise<FlowState> {
  const volume = await guardedVolume(deps.ec2, state.volumeId, 'attach a helper to');
  if (volume.state !== 'available')
    throw new Error(`volume ${state.volumeId} is ${volume.state}, not available`);
  const { helper } = state;
  if (helper.subnetIds.length === 0) throw new Error('no helper subnets configured (EBS_HELPER_SUBNET_IDS)');
  const subnets = await withRetry(() =>
    deps.ec2.send(new DescribeSubnetsCommand({ SubnetIds: [...helper.subnetIds] })),
  );
  const subnet = subnets.Subnets?.find((s) => s.AvailabilityZone === state.availabilityZone);
  if (!subnet?.SubnetId) {
    throw new Error(
      `no helper subnet in ${state.availabilityZone}, where the volume is: add one to the construct's helper subnets (have ${helper.subnetIds.join(', ')})`,
    );
  }
  const param = await withRetry(() => deps.ssm.send(new GetParameterCommand({ Name: helper.amiParameter })));
  const imageId = param.Parameter?.Value;
  if (!imageId) throw new Error(`SSM parameter ${helper.amiParameter} holds no AMI id`);
  const minutesLeft = Math.max(
    5,
    Math.ceil((Date.parse(state.deadline) - (deps.now?.() ?? Date.now())) / 60_000),
  );
  const userData = `#!/bin/bash\n# restore-validation EBS helper: power off (= terminate) at the deadline whatever happens.\nshutdown -h +${minutesLeft}\n`;
  const tags = [
    { Key: 'Name', Value: HELPER_NAME },
    { Key: CREATED_BY_TAG, Value: 'ebs-helper' },
    { Key: HELPER_DEADLINE_TAG, Value: state.deadline },
    { Key: HELPER_JOB_TAG, Value: state.restoreJobId },
  ];
  const out = await withRetry(() =>
    deps.ec2.send(
      new RunInstancesCommand({
        ImageId: imageId,
        InstanceType: helper.instanceType as never,
        MinCount: 1,
        MaxCount: 1,
        SubnetId: subnet.SubnetId,
        ...(helper.securityGroupId ? { SecurityGroupIds: [helper.securityGroupId] } : {}),
        ...(helper.instanceProfileName ? { IamInstanceProfile: { Name: helper.instanceProfileName } } : {}),
        MetadataOptions: { HttpTokens: 'required', HttpEndpoint: 'enabled', HttpPutResponseHopLimit: 1 },
        InstanceInitiatedShutdownBehavior: 'terminate',
        UserData: Buffer.from(userData).toString('base64'),
        ClientToken: helperClientToken(state.restoreJobId),
        TagSpecifications: [
          { ResourceType: 'instance', Tags: tags },
          { ResourceType: 'volume', Tags: tags },
        ],
      }),
    ),
  );
  const instanceId = out.Instances?.[0]?.InstanceId;
  if (!instanceId) throw new Error('RunInstances returned no instance');
  logger.info('EBS helper launched', {
    instanceId,
    volumeId: state.volumeId,
    availabilityZone: state.availabilityZone,
  });
  return { ...state, instanceId, ready: false };
}

/** Step 2 (looped): once the helper runs, attaches the volume; ready when the attachment is `attached`. */
export async function attachVolume(state: FlowState, deps: StepDeps = defaultDeps()): Promise<FlowState> {
  const instanceId = need(state.instanceId, 'instanceId');
  const instance = await describeHelper(deps.ec2, instanceId);
  if (!instance) throw new Error(`helper ${instanceId} disappeared`);
  assertCreatedByUs(instanceId, instance.Tags, 'attach a volume to');
  const st = instance.State?.Name;
  checkDeadline(state, deps, 'the helper to run and the volume to attach');
  if (st === 'pending') return { ...state, ready: false };
  if (st !== 'running') throw new Error(`helper ${instanceId} is ${st}, not running`);
  const volume = await guardedVolume(deps.ec2, state.volumeId, 'attach');
  const attachment = volume.attachedTo.includes(instanceId);
  if (volume.state === 'available' && !attachment) {
    await withRetry(() =>
      deps.ec2.send(
        new AttachVolumeCommand({
          VolumeId: state.volumeId,
          InstanceId: instanceId,
          Device: HELPER_DEVICE_NAME,
        }),
      ),
    );
    return { ...state, ready: false };
  }
  if (!attachment)
    throw new Error(
      `volume ${state.volumeId} is ${volume.state} and attached to ${volume.attachedTo.join(', ') || 'nothing'}`,
    );
  return { ...state, ready: volume.state === 'in-use' };
}

/** Step 3 (looped): ready when the helper's SSM agent is online. */
export async function waitForSsm(state: FlowState, deps: StepDeps = defaultDeps()): Promise<FlowState> {
  const ping = await pingStatus(deps.ssm, need(state.instanceId, 'instanceId'));
  if (ping !== 'Online')
    checkDeadline(state, deps, `the helper's SSM agent (ping status ${ping ?? 'not registered'})`);
  return { ...state, ready: ping === 'Online' };
}

/** An EBS volume id, the only form pasted into the helper's shell script. */
const VOLUME_ID = /^vol-[0-9a-f]+$/;

/**
 * The shell script run on the helper: find the attached volume's device (NVMe on Nitro, named after
 * the volume id), unpack the program and run it. Its JSON result is printed gzipped and base64-encoded
 * on one `gz:` line; helper failures print a plain JSON line.
 */
export function helperScript(source: string, volumeId: string, checks: HelperFlowInput['checks']): string[] {
  // The id is pasted into a shell line: anything but a real volume id is refused, never quoted around.
  if (!VOLUME_ID.test(volumeId))
    throw new Error(`refusing a malformed volume id ${JSON.stringify(volumeId)} (expected vol-<hex>)`);
  const program = gzipSync(source).toString('base64');
  const checksGz = gzipSync(JSON.stringify(checks)).toString('base64');
  const serial = volumeId.replace('-', '');
  return [
    'set -u',
    'command -v node >/dev/null 2>&1 || dnf install -y -q nodejs >/dev/null 2>&1 || yum install -y -q nodejs >/dev/null 2>&1',
    `command -v node >/dev/null 2>&1 || { echo '{"helperError":"node is not installed on the helper and could not be installed"}'; exit 0; }`,
    'DEV=""',
    `for c in /dev/disk/by-id/nvme-Amazon_Elastic_Block_Store_${serial} ${HELPER_DEVICE_NAME} /dev/xvdf; do [ -b "$c" ] && DEV=$(readlink -f "$c") && break; done`,
    `[ -n "$DEV" ] || { echo '{"helperError":"the attached volume ${volumeId} has no block device on the helper"}'; exit 0; }`,
    'W=$(mktemp -d)',
    `echo '${program}' | base64 -d | gunzip > "$W/mount-check.cjs"`,
    `echo '${checksGz}' | base64 -d | gunzip > "$W/checks.json"`,
    `node "$W/mount-check.cjs" --device "$DEV" --checks-file "$W/checks.json" --replay in-place >"$W/out" 2>"$W/stderr"`,
    'rc=$?; [ $rc -le 1 ] || tail -c 500 "$W/stderr" >&2',
    packResultLine('"$W/out"'),
    'rm -rf "$W"',
    'exit 0',
  ];
}

/** Step 4: sends the mount check through SSM Run Command. */
export async function startMountCheck(state: FlowState, deps: StepDeps = defaultDeps()): Promise<FlowState> {
  const instanceId = need(state.instanceId, 'instanceId');
  const secondsLeft = Math.max(
    60,
    Math.floor((Date.parse(state.deadline) - (deps.now?.() ?? Date.now())) / 1000) - 120,
  );
  const commandId = await sendShellCommand(
    deps.ssm,
    instanceId,
    helperScript(deps.mountCheckSource(), state.volumeId, checksOf(state)),
    {
      timeoutSeconds: secondsLeft,
      comment: `restore-validation mount check ${state.volumeId}`,
    },
  );
  return { ...state, commandId, ready: false };
}

/** Step 5 (looped): ready when the command ended; parses the program's one JSON line. */
export async function pollMountCheck(state: FlowState, deps: StepDeps = defaultDeps()): Promise<FlowState> {
  const inv = await getInvocation(
    deps.ssm,
    need(state.commandId, 'commandId'),
    need(state.instanceId, 'instanceId'),
  );
  if (!inv.done) {
    checkDeadline(state, deps, `the mount check (SSM status ${inv.status})`);
    return { ...state, ready: false };
  }
  const line = resultLine(inv.stdout);
  let parsed: (MountCheckResult & { helperError?: string }) | undefined;
  try {
    parsed = line ? (JSON.parse(line) as MountCheckResult & { helperError?: string }) : undefined;
  } catch {
    parsed = undefined;
  }
  if (parsed?.helperError) throw new Error(`helper: ${parsed.helperError}`);
  if (!parsed || !Array.isArray(parsed.checks)) {
    const why =
      inv.stdout.length >= 24_000
        ? 'its output was truncated by SSM (24,000 characters)'
        : `SSM status ${inv.status}, exit ${inv.exitCode}`;
    throw new Error(
      `the mount check returned no result (${why})${inv.stderr ? `: ${inv.stderr.slice(-300)}` : ''}`,
    );
  }
  // A large result (thousands of canaries) is kept packed: the state must stay under 256 KiB.
  return JSON.stringify(parsed).length > STATE_INLINE_LIMIT
    ? { ...state, mountCheckPacked: packJson(parsed), ready: true }
    : { ...state, mountCheck: parsed, ready: true };
}

/**
 * Clean-up step 1: detaches the volume from our helper (guarded: a restore-test volume, a helper we
 * created). Idempotent: nothing attached is success. Ready when the volume is available again.
 */
export async function detachVolume(state: FlowState, deps: StepDeps = defaultDeps()): Promise<FlowState> {
  const instanceId = state.instanceId ?? (await findHelper(deps.ec2, state.restoreJobId));
  if (instanceId && !state.instanceId) state = { ...state, instanceId };
  if (!instanceId)
    return { ...state, ready: true, cleanup: { ...state.cleanup, detached: 'no helper was launched' } };
  state = await cancelMountCheck(state, deps, instanceId);
  const volume = await describeVolume(deps.ec2, state.volumeId);
  if (!volume?.attachedTo.includes(instanceId)) {
    return {
      ...state,
      ready: true,
      cleanup: { ...state.cleanup, detached: volume ? `volume ${volume.state}` : 'volume gone' },
    };
  }
  assertRestoreTestResource(volume.name ?? volume.volumeId, volume.tags, 'detach');
  const instance = await describeHelper(deps.ec2, instanceId);
  assertCreatedByUs(instanceId, instance?.Tags, 'detach a volume from');
  const now = deps.now?.() ?? Date.now();
  const askedAt = Date.parse(state.cleanup?.detachRequestedAt ?? '');
  // A detach that hangs (the helper still holds the device) is forced after a bound: the helper is
  // terminated next anyway, and the volume must be free before the validation window ends.
  const force = Number.isFinite(askedAt) && now - askedAt >= DETACH_FORCE_AFTER_MS;
  await withRetry(() =>
    deps.ec2.send(
      new DetachVolumeCommand({
        VolumeId: state.volumeId,
        InstanceId: instanceId,
        ...(force ? { Force: true } : {}),
      }),
    ),
  );
  return {
    ...state,
    ready: false,
    cleanup: {
      ...state.cleanup,
      detached: force ? 'force-detach requested' : 'detach requested',
      detachRequestedAt: Number.isFinite(askedAt)
        ? (state.cleanup?.detachRequestedAt ?? '')
        : new Date(now).toISOString(),
    },
  };
}

/** A polite detach that has not finished after this long is forced. */
export const DETACH_FORCE_AFTER_MS = 2 * 60_000;

/**
 * On give-up (or any failure) while the mount check may still run on the helper, cancels the SSM
 * command first: the program's SIGTERM handler unmounts and releases its devices, so the detach
 * that follows does not pull the volume from under a mounted file system. Best effort, once.
 * @see https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_CancelCommand.html
 */
async function cancelMountCheck(state: FlowState, deps: StepDeps, instanceId: string): Promise<FlowState> {
  if (!state.commandId || state.mountCheck || state.mountCheckPacked || state.cleanup?.cancelled)
    return state;
  let cancelled = 'cancel requested';
  try {
    await deps.ssm.send(new CancelCommandCommand({ CommandId: state.commandId, InstanceIds: [instanceId] }));
  } catch (err) {
    cancelled = `cancel failed: ${reasonOf(err)}`;
  }
  return { ...state, cleanup: { ...state.cleanup, cancelled } };
}

/** Clean-up step 2: terminates the helper (guarded). Already gone is success. */
export async function terminateHelper(state: FlowState, deps: StepDeps = defaultDeps()): Promise<FlowState> {
  const instanceId = state.instanceId ?? (await findHelper(deps.ec2, state.restoreJobId));
  if (!instanceId) return { ...state, cleanup: { ...state.cleanup, terminated: 'no helper was launched' } };
  const instance = await describeHelper(deps.ec2, instanceId);
  if (!instance || instance.State?.Name === 'terminated') {
    return { ...state, cleanup: { ...state.cleanup, terminated: 'already terminated' } };
  }
  assertCreatedByUs(instanceId, instance.Tags, 'terminate');
  await withRetry(() => deps.ec2.send(new TerminateInstancesCommand({ InstanceIds: [instanceId] })));
  logger.info('EBS helper terminated', { instanceId });
  return { ...state, cleanup: { ...state.cleanup, terminated: 'terminated' } };
}

/** The mount-check result, packed or not. */
export function mountCheckOf(state: FlowState): MountCheckResult | undefined {
  return (
    state.mountCheck ??
    (state.mountCheckPacked ? unpackJson<MountCheckResult>(state.mountCheckPacked) : undefined)
  );
}

/** The results the verdict is decided on: the validator's state checks, the mount check, and any flow failure. */
export function flowResults(state: FlowState): CheckResult[] {
  const results: CheckResult[] = [...state.stateResults];
  const mountCheck = mountCheckOf(state);
  if (mountCheck) results.push(...mountCheck.checks);
  if (state.error || !mountCheck) {
    const reason = state.error
      ? describeError(state.error)
      : 'the helper flow ended without a mount-check result';
    results.push({ id: 'helper', status: 'error', detail: reason, durationMs: 0 });
    // Profile checks that never ran are named, so the verdict says what was not verified.
    for (const c of checksOf(state)) {
      if (!mountCheck?.checks.some((m) => m.id === c.id)) {
        results.push({ id: c.id, status: 'error', detail: 'not run: the helper flow failed', durationMs: 0 });
      }
    }
  }
  return results;
}

function describeError(e: NonNullable<FlowState['error']>): string {
  let cause = e.Cause ?? '';
  try {
    const parsed = JSON.parse(cause) as { errorMessage?: string };
    if (parsed.errorMessage) cause = parsed.errorMessage;
  } catch {
    // a plain-text cause
  }
  return `${e.step ? `${e.step}: ` : ''}${cause || e.Error || 'failed'}`.slice(0, 500);
}

/** Finishes the flow's validation: posts (unless a dry run), records the evidence, runs the sinks. */
function finish(state: FlowState, deps: StepDeps, input: Pick<FinishInput, 'verdict' | 'evidence'>) {
  return finishValidation(
    { ...input, restoreJobId: state.restoreJobId, dryRun: isDryRun(state) },
    {
      clients: deps.clients ?? createClients({}, { backup: deps.backup }),
      settings: deps.settings ?? runtimeSettings(),
      ...(deps.sinks ? { sinks: deps.sinks } : {}),
    },
  );
}

/** How the flow state shows what became of the verdict. */
const shownPosted = (posted: Posted | undefined) =>
  posted === 'dry-run' || posted === undefined ? 'not posted (dry run)' : posted;

/** Final step: decides the verdict from everything gathered, posts it and records its evidence. */
export async function reportVerdict(state: FlowState, deps: StepDeps = defaultDeps()): Promise<FlowState> {
  const verdict = decideVerdict(flowResults(state), { failWhenNothingChecked: state.failWhenNothingChecked });
  const mountCheck = mountCheckOf(state);
  // The lifecycle stored a DEFERRED record at the hand-off; this one replaces it with the verdict.
  const { posted } = await finish(state, deps, {
    verdict,
    evidence: {
      kind: 'hand-off',
      validator: 'ebs',
      startedAt: state.startedAt ? new Date(state.startedAt) : new Date(),
      notes: {
        helper: {
          instanceId: state.instanceId,
          volumeId: state.volumeId,
          availabilityZone: state.availabilityZone,
          ...state.cleanup,
        },
        ...(mountCheck ? { filesystems: mountCheck.filesystems } : {}),
      },
      ...(state.objectives ? { objectives: state.objectives } : {}),
    },
  });
  logger.info('EBS verdict decided', { restoreJobId: state.restoreJobId, verdict: verdict.verdict, posted });
  return {
    ...state,
    verdict: { status: verdict.verdict, message: verdict.message, posted: shownPosted(posted) },
  };
}

/**
 * The last resort of the state machine, after ReportVerdict failed all its retries (e.g. the
 * evidence store is unreachable): posts FAILED with the reason, nothing else, so the job still gets
 * a verdict. A verdict ReportVerdict already posted stands: none is ever posted over a final status.
 */
export async function reportFailure(
  state: FlowState & { reportError?: { Error?: string; Cause?: string } },
  deps: StepDeps = defaultDeps(),
): Promise<FlowState> {
  const why = state.reportError ? describeError({ ...state.reportError, step: 'ReportVerdict' }) : 'unknown';
  const message = `the EBS helper flow could not record its verdict (${why})`;
  const { posted } = await finish(state, deps, { verdict: { verdict: 'FAILED', message } });
  logger.warn('EBS verdict fallback', { restoreJobId: state.restoreJobId, posted });
  return { ...state, verdict: { status: 'FAILED', message, posted: shownPosted(posted) } };
}

/** The `detail` of an EventBridge "Step Functions Execution Status Change" event. */
export interface ExecutionEndedDetail {
  readonly executionArn?: string;
  readonly name?: string;
  readonly status?: string;
  readonly input?: string | null;
  readonly error?: string | null;
  readonly cause?: string | null;
}

/**
 * Run by the EventBridge rule on this state machine's FAILED, TIMED_OUT and ABORTED executions
 * (which no Catch can see: a States.DataLimitExceeded, the execution timeout, a StopExecution):
 * cleans up like the flow (cancel, detach, force-detach, terminate, found by the job tag) and posts
 * FAILED naming how the execution ended. Never posts over a final verdict.
 * @see https://docs.aws.amazon.com/step-functions/latest/dg/cw-events.html
 */
export async function executionEnded(
  detail: ExecutionEndedDetail,
  deps: StepDeps = defaultDeps(),
): Promise<FlowState> {
  let input: HelperFlowInput | undefined;
  try {
    input = detail.input ? (JSON.parse(detail.input) as HelperFlowInput) : undefined;
  } catch {
    input = undefined;
  }
  if (!input?.restoreJobId || !input.volumeId)
    throw new Error(
      `execution ${detail.executionArn ?? detail.name ?? '?'} ended ${detail.status} without a readable input`,
    );
  let state: FlowState = {
    ...input,
    error: {
      Error: `States.${detail.status ?? 'FAILED'}`,
      Cause: `the helper flow execution ended ${detail.status}${detail.error ? `: ${detail.error}` : ''}${detail.cause ? ` (${detail.cause.slice(0, 300)})` : ''}`,
      step: 'execution',
    },
  };
  // No waits here: a polite detach, then a forced one, then terminate (which detaches too).
  for (let i = 0; i < 2 && !state.ready; i++) {
    try {
      state = await detachVolume(
        i === 0
          ? state
          : { ...state, cleanup: { ...state.cleanup, detachRequestedAt: new Date(0).toISOString() } },
        deps,
      );
    } catch (err) {
      state = { ...state, cleanup: { ...state.cleanup, detached: `failed: ${reasonOf(err)}` } };
      break;
    }
  }
  try {
    state = await terminateHelper(state, deps);
  } catch (err) {
    state = { ...state, cleanup: { ...state.cleanup, terminated: `failed: ${reasonOf(err)}` } };
  }
  return reportVerdict(state, deps);
}

/** Loops give up (into the clean-up) once the helper's deadline is near, so clean-up still has time. */
const CLEANUP_RESERVE_MS = 5 * 60_000;
function checkDeadline(state: FlowState, deps: StepDeps, waitingFor: string): void {
  const now = deps.now?.() ?? Date.now();
  if (now > Date.parse(state.deadline) - CLEANUP_RESERVE_MS) {
    throw new Error(`gave up waiting for ${waitingFor}: the helper deadline ${state.deadline} is near`);
  }
}

function need<T>(v: T | undefined, what: string): T {
  if (v === undefined) throw new Error(`flow state lacks ${what}`);
  return v;
}

/** The step functions by name (the Lambda handlers below and the in-process runner use the same). */
export const STEPS = {
  launchHelper,
  attachVolume,
  waitForSsm,
  startMountCheck,
  pollMountCheck,
  detachVolume,
  terminateHelper,
  reportVerdict,
  reportFailure,
} as const;
export type StepName = keyof typeof STEPS;

/**
 * One Lambda serves every step: the state machine passes `{ step, state }`. One function keeps the
 * bundle, the IAM role and the cold starts to one; the steps stay separate, small and testable.
 */
export async function handler(
  event: { step: StepName; state: FlowState } | { step: 'executionEnded'; detail: ExecutionEndedDetail },
): Promise<FlowState> {
  if (event.step === 'executionEnded') return executionEnded(event.detail);
  const fn = STEPS[event.step];
  if (!fn) throw new Error(`unknown EBS helper step ${String(event.step)}`);
  try {
    return await fn(event.state);
  } catch (err) {
    logger.warn('EBS helper step failed', { step: event.step, reason: reasonOf(err) });
    throw err;
  }
}

export interface RunFlowOptions {
  readonly pollMs?: number;
  /** Max polls per loop before the loop counts as timed out. */
  readonly maxPolls?: number;
  /** Test hook: called after each step (throwing here simulates a crash at that point). */
  readonly afterStep?: (step: StepName, state: FlowState) => void | Promise<void>;
}

/**
 * Runs the same steps in-process, with the state machine's shape: main path, catch-all into
 * clean-up, report. Used by tests and by `replay` without Step Functions.
 */
export async function runHelperFlow(
  input: HelperFlowInput,
  deps: StepDeps,
  options: RunFlowOptions = {},
): Promise<FlowState> {
  const pollMs = options.pollMs ?? 5_000;
  const maxPolls = options.maxPolls ?? 360;
  let state: FlowState = { ...input };
  const step = async (name: StepName) => {
    try {
      state = await STEPS[name](state, deps);
    } catch (err) {
      throw Object.assign(new Error(reasonOf(err)), { step: name });
    }
    await options.afterStep?.(name, state);
  };
  const loop = async (name: StepName) => {
    for (let i = 0; i < maxPolls; i++) {
      await step(name);
      if (state.ready) return;
      await new Promise((r) => setTimeout(r, pollMs));
    }
    throw Object.assign(new Error(`${name} did not finish after ${maxPolls} polls`), { step: name });
  };
  try {
    await step('launchHelper');
    await loop('attachVolume');
    await loop('waitForSsm');
    await step('startMountCheck');
    await loop('pollMountCheck');
  } catch (err) {
    state = {
      ...state,
      error: { Error: 'StepFailed', Cause: reasonOf(err), step: (err as { step?: string }).step },
    };
  }
  // Clean-up always runs; its own failures are recorded, and the janitor is the last line.
  try {
    await loop('detachVolume');
  } catch (err) {
    state = { ...state, cleanup: { ...state.cleanup, detached: `failed: ${reasonOf(err)}` } };
  }
  try {
    await step('terminateHelper');
  } catch (err) {
    state = { ...state, cleanup: { ...state.cleanup, terminated: `failed: ${reasonOf(err)}` } };
  }
  await step('reportVerdict');
  return state;
}

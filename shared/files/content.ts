/**
 * Content checks (`paths`, `files`, `directory`, `freeSpace`) for network file systems: EFS over NFS,
 * FSx for Lustre (Lustre client) and FSx for OpenZFS (NFS). A helper instance the operator provides
 * (SSM-managed, in the file system's VPC: profile `options.helperInstanceId` or the
 * `FILESYSTEM_HELPER_INSTANCE_ID` setting) mounts the file system read-only and runs the path-check
 * program (the mount-check program's checks over a mounted directory), shipped inline through SSM Run
 * Command. Restored EFS file systems have no mount target: one is created in the helper's subnet and
 * always deleted afterwards (AWS Backup cannot delete a file system that still has one).
 * Whenever the checks cannot run, each ends as `error` with the reason — never a silent pass.
 * @see https://docs.aws.amazon.com/efs/latest/ug/mounting-fs-mount-cmd-general.html
 * @see https://docs.aws.amazon.com/fsx/latest/LustreGuide/mounting-ec2-instance.html
 * @see https://docs.aws.amazon.com/fsx/latest/OpenZFSGuide/attach-linux-client.html
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { DescribeInstancesCommand, EC2Client } from '@aws-sdk/client-ec2';
import {
  CreateMountTargetCommand,
  DeleteMountTargetCommand,
  DescribeMountTargetsCommand,
  EFSClient,
} from '@aws-sdk/client-efs';
import { CancelCommandCommand, SSMClient } from '@aws-sdk/client-ssm';
import { type CheckDefinition, type CheckOutcome, errored } from '../checks';
import { registerClients } from '../clients';
import { reasonOf } from '../errors';
import { isRestoreTestResource } from '../guard';
import { withRetry } from '../retry';
import type { ValidationContext } from '../validator';
import type { FileSystemSettings } from './settings';

/** A file system validator's context: EFS and FSx share these settings. */
export type FileSystemContext = ValidationContext<FileSystemSettings>;

import { getInvocation, packResultLine, resultLine, sendShellCommand } from '../ssm/run-command';
import { fsChecksOfKinds } from './kinds';
import type { FsCheckSpec } from './mount-check/types';
import type { PathCheckResult } from './path-check/index';

registerClients({ ec2: EC2Client, efs: EFSClient, ssm: SSMClient });

export const FILESYSTEM_KINDS = ['paths', 'files', 'directory', 'freeSpace'] as const;

export interface ContentTarget {
  readonly kind: 'efs' | 'fsx-lustre' | 'fsx-openzfs' | 'fsx-other';
  readonly fileSystemId: string;
  /** EFS: the file system's Name tag and tags, for the guard before creating a mount target. */
  readonly name?: string;
  readonly tags?: readonly { Key?: string; Value?: string }[];
  readonly mountTargets?: readonly {
    id: string;
    subnetId?: string;
    availabilityZone?: string;
    state?: string;
    ipAddress?: string;
  }[];
  /** FSx: the DNS name to mount. */
  readonly dnsName?: string;
  /** FSx Lustre: the mount name; OpenZFS: the volume path (`/fsx` for the root volume). */
  readonly mountName?: string;
}

export interface ContentPlan {
  readonly target: ContentTarget;
  readonly checks: readonly FsCheckSpec[];
  /** Why the checks cannot run, when they cannot. */
  readonly blocked?: string;
  /** Runs the path check once on the helper; every content check reads its item from it. */
  readonly result?: () => Promise<PathCheckResult>;
}

export interface ContentOptions {
  /** The bundled path-check program (default: `path-check.cjs` next to the function, or PATH_CHECK_FILE). */
  readonly programSource?: () => string;
  /** SSM and mount-target poll interval. Default 5 s. */
  readonly pollMs?: number;
}

const createdMountTargets = new WeakMap<object, string>();

const isContentKind = fsChecksOfKinds(FILESYSTEM_KINDS);

function helperInstance(ctx: FileSystemContext): string | undefined {
  const fromProfile = ctx.profile?.options?.helperInstanceId;
  if (typeof fromProfile === 'string' && fromProfile) return fromProfile;
  return ctx.settings.helperInstanceId;
}

function defaultProgramSource(ctx: FileSystemContext): string {
  const file = ctx.settings.pathCheckFile ?? join(ctx.settings.taskRoot, 'path-check.cjs');
  try {
    return readFileSync(file, 'utf8');
  } catch {
    throw new Error(
      `the path-check program is not deployed with this function (${file}; bundle shared/files/path-check/main.ts)`,
    );
  }
}

const MOUNT_OPTIONS_NFS = 'ro,nfsvers=4.1,rsize=1048576,wsize=1048576,hard,timeo=600,retrans=2,noresvport';

/** The lines that install the client and mount the file system read-only on `$M`. */
export function mountLines(target: ContentTarget, address: string): string[] {
  switch (target.kind) {
    case 'efs':
      return [
        'command -v mount.nfs4 >/dev/null 2>&1 || dnf install -y -q nfs-utils >/dev/null 2>&1 || yum install -y -q nfs-utils >/dev/null 2>&1',
        `mount -t nfs4 -o ${MOUNT_OPTIONS_NFS} ${address}:/ "$M" 2>"$W/mount.err"`,
      ];
    case 'fsx-openzfs':
      return [
        'command -v mount.nfs4 >/dev/null 2>&1 || dnf install -y -q nfs-utils >/dev/null 2>&1 || yum install -y -q nfs-utils >/dev/null 2>&1',
        `mount -t nfs -o ro,nfsvers=4.1 ${address}:${target.mountName ?? '/fsx'} "$M" 2>"$W/mount.err"`,
      ];
    case 'fsx-lustre':
      return [
        'command -v mount.lustre >/dev/null 2>&1 || dnf install -y -q lustre-client >/dev/null 2>&1 || amazon-linux-extras install -y lustre >/dev/null 2>&1',
        `mount -t lustre -o ro,relatime,flock ${address}@tcp:/${target.mountName ?? ''} "$M" 2>"$W/mount.err"`,
      ];
    default:
      throw new Error(`no Linux mount for ${target.kind}`);
  }
}

/** What the helper's shell line may hold of each value it is given: ids, addresses, paths, no shell syntax. */
const SHELL_SAFE = {
  'file system id': /^fs(vol)?-[0-9a-f]+$/,
  address: /^[A-Za-z0-9.-]+$/,
  'mount name': /^[A-Za-z0-9/_.:-]*$/,
} as const;

/** Throws unless every value pasted into the helper's shell line is plainly an AWS id, address or path. */
function assertShellSafe(target: ContentTarget, address: string): void {
  const values: [keyof typeof SHELL_SAFE, string | undefined][] = [
    ['file system id', target.fileSystemId],
    ['address', address],
    ['mount name', target.mountName],
  ];
  for (const [what, value] of values)
    if (value !== undefined && !SHELL_SAFE[what].test(value))
      throw new Error(
        `refusing to put the ${what} ${JSON.stringify(value)} into the helper's shell line: expected ${SHELL_SAFE[what]}`,
      );
}

/**
 * The shell script run on the helper: mount read-only, unpack and run the path check, unmount.
 * The program's JSON result is printed packed on one `gz:` line (a `helperError` as plain JSON).
 */
export function contentScript(
  target: ContentTarget,
  address: string,
  programSource: string,
  checks: readonly FsCheckSpec[],
  timeoutSeconds = 3600,
): string[] {
  assertShellSafe(target, address);
  const program = gzipSync(programSource).toString('base64');
  const checksB64 = Buffer.from(JSON.stringify(checks)).toString('base64');
  // The program stops before SSM's own timeout, so the script still unmounts and prints its line.
  const programSeconds = Math.max(30, Math.floor(timeoutSeconds) - 30);
  return [
    'set -u',
    // SSM cancelling or timing the command out sends SIGTERM: never leave the NFS mount on the helper
    // (a mount whose target is deleted next hangs every process that touches it).
    `cleanup() { [ -n "\${P:-}" ] && kill "$P" 2>/dev/null; if [ -n "\${M:-}" ] && mountpoint -q "$M"; then umount "$M" 2>/dev/null || umount -l "$M"; fi; [ -n "\${M:-}" ] && rmdir "$M" 2>/dev/null; [ -n "\${W:-}" ] && rm -rf "$W"; }`,
    "trap 'cleanup; exit 0' TERM INT",
    'trap cleanup EXIT',
    'command -v node >/dev/null 2>&1 || dnf install -y -q nodejs >/dev/null 2>&1 || yum install -y -q nodejs >/dev/null 2>&1',
    `command -v node >/dev/null 2>&1 || { echo '{"helperError":"node is not installed on the helper and could not be installed"}'; exit 0; }`,
    'W=$(mktemp -d)',
    'M=$(mktemp -d /mnt/restore-validation-XXXXXX)',
    ...mountLines(target, address).map((line, i, all) =>
      i === all.length - 1
        ? `${line} || { R=$(tail -c 300 "$W/mount.err" | tr -d '"\\\\' | tr '\\n' ' '); echo "{\\"helperError\\":\\"read-only mount of ${target.fileSystemId} failed: $R\\"}"; rmdir "$M"; rm -rf "$W"; exit 0; }`
        : line,
    ),
    `echo '${program}' | base64 -d | gunzip > "$W/path-check.cjs"`,
    // In the background with \`wait\`: bash runs a trap only between commands, and \`wait\` is one.
    `timeout -s TERM ${programSeconds} node "$W/path-check.cjs" --root "$M" --checks-base64 '${checksB64}' >"$W/out" 2>"$W/stderr" & P=$!`,
    'wait $P',
    `rc=$?; [ $rc -ne 124 ] || echo '{"helperError":"the path check did not finish within ${programSeconds} s"}' >"$W/out"`,
    '[ $rc -le 1 ] || tail -c 500 "$W/stderr" >&2',
    packResultLine('"$W/out"'),
    'exit 0',
  ];
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** EFS: the IP of an available mount target in the helper's AZ, creating one (guarded) when there is none. */
async function efsAddress(
  ctx: FileSystemContext,
  target: ContentTarget,
  helperId: string,
  pollMs: number,
): Promise<string> {
  const retry = { deadline: ctx.deadline, signal: ctx.signal };
  const described = await withRetry(
    () => ctx.clients.ec2.send(new DescribeInstancesCommand({ InstanceIds: [helperId] })),
    retry,
  );
  const helper = described.Reservations?.[0]?.Instances?.[0];
  if (!helper?.SubnetId) throw new Error(`helper instance ${helperId} was not found or has no subnet`);
  const az = helper.Placement?.AvailabilityZone;
  const existing = (target.mountTargets ?? []).find(
    (m) => m.state === 'available' && (m.availabilityZone === az || m.subnetId === helper.SubnetId),
  );
  const restoreTest = isRestoreTestResource(target.name ?? target.fileSystemId, target.tags);
  if (existing?.ipAddress) {
    // A restored file system comes without mount targets: one on a restore-test file system was
    // left by an earlier run of ours (a Lambda killed at its timeout). Reuse it, and delete it after.
    if (restoreTest) {
      createdMountTargets.set(ctx, existing.id);
      ctx.note('mountTargetReused', existing.id);
    }
    return existing.ipAddress;
  }
  if (!restoreTest) {
    throw new Error(
      `refusing to create a mount target on ${target.fileSystemId}: it is neither named awsbackup-restore-test-… nor tagged awsbackup-restore-test`,
    );
  }
  const sgs = ctx.profile?.options?.mountTargetSecurityGroupIds;
  const securityGroups = Array.isArray(sgs)
    ? sgs.map(String)
    : ctx.settings.mountTargetSecurityGroupId
      ? [ctx.settings.mountTargetSecurityGroupId]
      : undefined;
  const created = await withRetry(
    () =>
      ctx.clients.efs.send(
        new CreateMountTargetCommand({
          FileSystemId: target.fileSystemId,
          SubnetId: helper.SubnetId,
          ...(securityGroups ? { SecurityGroups: securityGroups } : {}),
        }),
      ),
    retry,
  );
  if (!created.MountTargetId) throw new Error('CreateMountTarget returned no id');
  createdMountTargets.set(ctx, created.MountTargetId);
  ctx.note('mountTargetCreated', created.MountTargetId);
  // Hand-rolled: client-efs has no waiters.
  for (;;) {
    const out = await withRetry(
      () => ctx.clients.efs.send(new DescribeMountTargetsCommand({ MountTargetId: created.MountTargetId })),
      retry,
    );
    const mt = out.MountTargets?.[0];
    if (mt?.LifeCycleState === 'available' && mt.IpAddress) return mt.IpAddress;
    if (mt?.LifeCycleState === 'error' || mt?.LifeCycleState === 'deleted')
      throw new Error(`mount target ${created.MountTargetId} is ${mt.LifeCycleState}`);
    if (ctx.remainingMs() < 60_000)
      throw new Error(
        `mount target ${created.MountTargetId} was not available in time (${mt?.LifeCycleState ?? 'unknown'})`,
      );
    await sleep(pollMs);
  }
}

function parseResult(stdout: string, status: string, stderr: string): PathCheckResult {
  const line = resultLine(stdout);
  let parsed: (PathCheckResult & { helperError?: string }) | undefined;
  try {
    parsed = line ? (JSON.parse(line) as PathCheckResult & { helperError?: string }) : undefined;
  } catch {
    parsed = undefined;
  }
  if (parsed?.helperError) throw new Error(`helper: ${parsed.helperError}`);
  if (!parsed || !Array.isArray(parsed.checks)) {
    throw new Error(
      `the path check returned no result (SSM status ${status})${stderr ? `: ${stderr.slice(-300)}` : ''}`,
    );
  }
  return parsed;
}

/**
 * Decides whether the profile's content checks can run and, when they can, prepares the run (EFS:
 * a mount target in the helper's AZ). Never throws: a problem becomes `blocked`.
 */
export async function prepareContent(
  ctx: FileSystemContext,
  target: ContentTarget,
  options: ContentOptions = {},
): Promise<ContentPlan> {
  const checks = (ctx.profile?.checks ?? []).filter(isContentKind);
  if (!checks.length) return { target, checks };
  if (target.kind === 'fsx-other') {
    return {
      target,
      checks,
      blocked:
        'content checks need a Linux mount; FSx for Windows File Server and ONTAP are not mounted by the helper',
    };
  }
  const helperId = helperInstance(ctx);
  if (!helperId) {
    return {
      target,
      checks,
      blocked:
        'no helper instance configured (profile options.helperInstanceId or the FILESYSTEM_HELPER_INSTANCE_ID setting)',
    };
  }
  const pollMs = options.pollMs ?? 5_000;
  let program: string;
  let address: string;
  try {
    program = options.programSource ? options.programSource() : defaultProgramSource(ctx);
    address =
      target.kind === 'efs' ? await efsAddress(ctx, target, helperId, pollMs) : (target.dnsName ?? '');
    if (!address) throw new Error(`${target.fileSystemId} reports no DNS name to mount`);
  } catch (err) {
    return { target, checks, blocked: reasonOf(err) };
  }
  let running: Promise<PathCheckResult> | undefined;
  const result = () => {
    running ??= (async () => {
      const timeoutSeconds = Math.max(60, Math.floor(ctx.remainingMs() / 1000) - 30);
      const commandId = await sendShellCommand(
        ctx.clients.ssm,
        helperId,
        contentScript(target, address, program, checks, timeoutSeconds),
        {
          timeoutSeconds,
          comment: `restore-validation content check ${target.fileSystemId}`,
        },
      );
      ctx.note('contentCheckCommand', { commandId, helperInstanceId: helperId });
      // Hand-rolled: waitUntilCommandExecuted retries even AccessDenied until timeout (aws-sdk-js-v3#2091).
      for (;;) {
        const inv = await getInvocation(ctx.clients.ssm, commandId, helperId);
        if (inv.done) return parseResult(inv.stdout, inv.status, inv.stderr);
        if (ctx.signal.aborted) {
          // Cancel it: the script's trap unmounts, so the helper keeps no mount of a target deleted next.
          await ctx.clients.ssm
            .send(new CancelCommandCommand({ CommandId: commandId, InstanceIds: [helperId] }))
            .catch(() => undefined);
          throw new Error('the path check did not finish before the validation deadline (command cancelled)');
        }
        await sleep(pollMs);
      }
    })();
    return running;
  };
  return { target, checks, result };
}

/** Deletes the mount target prepareContent created, if any. Throws when it cannot (→ FAILED verdict). */
export async function cleanupContent(ctx: FileSystemContext): Promise<void> {
  const id = createdMountTargets.get(ctx);
  if (!id) return;
  createdMountTargets.delete(ctx);
  try {
    await withRetry(() => ctx.clients.efs.send(new DeleteMountTargetCommand({ MountTargetId: id })));
    ctx.note('mountTargetDeleted', id);
  } catch (err) {
    if ((err as { name?: string }).name === 'MountTargetNotFound') return;
    throw new Error(
      `mount target ${id} was left behind (${reasonOf(err)}): delete it, or AWS Backup cannot delete the restored file system`,
    );
  }
}

/** One check per profile content check, reading its item from the one helper run. */
export function contentChecks<F>(
  ctx: FileSystemContext,
  plan: (facts: F) => ContentPlan,
): CheckDefinition<F>[] {
  return (ctx.profile?.checks ?? []).filter(isContentKind).map((c) => ({
    id: c.id,
    // The one helper run serves every content check: give it the time that is left.
    timeoutMs: Math.max(1_000, ctx.remainingMs() - 5_000),
    async run(facts: F): Promise<CheckOutcome> {
      const p = plan(facts);
      if (p.blocked || !p.result)
        return errored(`${c.kind} check not run: ${p.blocked ?? 'no helper result'}`);
      let result: PathCheckResult;
      try {
        result = await p.result();
      } catch (err) {
        return errored(`${c.kind} check not run: ${reasonOf(err)}`);
      }
      const item = result.checks.find((i) => i.id === c.id);
      if (!item) return errored(`the path check returned no result for ${c.id}`);
      return { status: item.status, detail: item.detail, data: item.data };
    },
  }));
}

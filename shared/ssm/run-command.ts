/**
 * SSM Run Command with `AWS-RunShellScript`: send, then poll the invocation until it ends. Used by
 * the EC2 validator (command and HTTP checks on the restored instance) and by the EBS helper flow
 * (the mount-check program on the helper), and the EFS/FSx content helper (the path-check program).
 * @see https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_GetCommandInvocation.html
 */

import { gunzipSync } from 'node:zlib';
import {
  DescribeInstanceInformationCommand,
  GetCommandInvocationCommand,
  SendCommandCommand,
  type SSMClient,
} from '@aws-sdk/client-ssm';
import { withRetry } from '../retry';

export const TERMINAL_STATUSES = new Set([
  'Success',
  'Failed',
  'Cancelled',
  'TimedOut',
  'DeliveryTimedOut',
  'ExecutionTimedOut',
  'Undeliverable',
  'Terminated',
  'InvalidPlatform',
  'AccessDenied',
]);

export interface Invocation {
  /** SSM status: `Success`, `Failed`, `TimedOut`, … or `Pending`/`InProgress` while running. */
  readonly status: string;
  readonly done: boolean;
  /** The script's exit code (SSM ResponseCode); -1 while running or when SSM gives none. */
  readonly exitCode: number;
  /** Standard output (SSM returns at most the first 24,000 characters). */
  readonly stdout: string;
  readonly stderr: string;
}

/** Sends a shell script; returns the command id. */
export async function sendShellCommand(
  ssm: SSMClient,
  instanceId: string,
  commands: readonly string[],
  options: { timeoutSeconds: number; comment?: string; powerShell?: boolean },
): Promise<string> {
  const out = await withRetry(() =>
    ssm.send(
      new SendCommandCommand({
        InstanceIds: [instanceId],
        // Windows instances run PowerShell; AWS-RunShellScript fails there with InvalidPlatform.
        DocumentName: options.powerShell ? 'AWS-RunPowerShellScript' : 'AWS-RunShellScript',
        Comment: (options.comment ?? 'restore-validation').slice(0, 100),
        Parameters: {
          commands: [...commands],
          executionTimeout: [String(Math.ceil(options.timeoutSeconds))],
        },
      }),
    ),
  );
  const id = out.Command?.CommandId;
  if (!id) throw new Error('SendCommand returned no command id');
  return id;
}

/** Reads one invocation; a not-yet-registered invocation reads as Pending. */
export async function getInvocation(
  ssm: SSMClient,
  commandId: string,
  instanceId: string,
): Promise<Invocation> {
  try {
    const out = await withRetry(() =>
      ssm.send(new GetCommandInvocationCommand({ CommandId: commandId, InstanceId: instanceId })),
    );
    const status = out.Status ?? 'Pending';
    return {
      status,
      done: TERMINAL_STATUSES.has(status),
      exitCode: typeof out.ResponseCode === 'number' ? out.ResponseCode : -1,
      stdout: out.StandardOutputContent ?? '',
      stderr: out.StandardErrorContent ?? '',
    };
  } catch (err) {
    // SSM registers the invocation a moment after SendCommand returns.
    if ((err as { name?: string }).name === 'InvocationDoesNotExist')
      return { status: 'Pending', done: false, exitCode: -1, stdout: '', stderr: '' };
    throw err;
  }
}

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    if (signal?.aborted) return reject(new Error('aborted'));
    const t = setTimeout(resolve, ms);
    signal?.addEventListener(
      'abort',
      () => {
        clearTimeout(t);
        reject(new Error('aborted'));
      },
      { once: true },
    );
  });

/** Sends a script and waits for it to finish (or the timeout plus a grace period to pass). */
export async function runShellCommand(
  ssm: SSMClient,
  instanceId: string,
  commands: readonly string[],
  options: {
    timeoutSeconds: number;
    pollMs?: number;
    signal?: AbortSignal;
    comment?: string;
    powerShell?: boolean;
  },
): Promise<Invocation> {
  const commandId = await sendShellCommand(ssm, instanceId, commands, options);
  const until = Date.now() + options.timeoutSeconds * 1000 + 30_000;
  const poll = options.pollMs ?? 2_000;
  // Hand-rolled: waitUntilCommandExecuted retries even AccessDenied until it times out (aws-sdk-js-v3#2091).
  for (;;) {
    const inv = await getInvocation(ssm, commandId, instanceId);
    if (inv.done) return inv;
    if (Date.now() > until) return { ...inv, status: 'TimedOut', done: true };
    await sleep(poll, options.signal);
  }
}

/** The instance's SSM agent ping status (`Online`, `ConnectionLost`, `Inactive`), or undefined when not registered. */
export async function pingStatus(ssm: SSMClient, instanceId: string): Promise<string | undefined> {
  const out = await withRetry(() =>
    ssm.send(
      new DescribeInstanceInformationCommand({ Filters: [{ Key: 'InstanceIds', Values: [instanceId] }] }),
    ),
  );
  return out.InstanceInformationList?.find((i) => i.InstanceId === instanceId)?.PingStatus;
}

/** Marks the helper's output line that holds the result gzipped and base64-encoded. */
const GZ_MARK = 'gz:';

/**
 * The shell line a helper script ends its run with: prints the program's JSON output (in `file`)
 * gzipped and base64-encoded on one `gz:` line. SSM keeps 24,000 characters of output; JSON shrinks
 * 5-15x this way.
 */
export function packResultLine(file: string): string {
  return `printf '${GZ_MARK}'; gzip -9 -c ${file} | base64 -w0; echo`;
}

/** The last line of `text` that starts with `prefix`, trimmed. */
const lastLine = (text: string, prefix: string): string | undefined =>
  text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l.startsWith(prefix))
    .at(-1);

/** The result JSON in a helper's output: the `gz:` line unpacked, else a plain JSON line (helper errors). */
export function resultLine(stdout: string): string | undefined {
  const packed = lastLine(stdout, GZ_MARK);
  if (packed) {
    try {
      const text = gunzipSync(Buffer.from(packed.slice(GZ_MARK.length), 'base64')).toString('utf8');
      const line = lastLine(text, '{');
      if (line) return line;
    } catch {
      // truncated by SSM or not gzip: fall through to the plain lines
    }
  }
  return lastLine(stdout, '{');
}

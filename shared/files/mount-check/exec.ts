/**
 * Runs the system tools the mount check relies on (losetup, sfdisk, blkid, fsck, mount, mtools).
 * Never throws for a non-zero exit: callers decide what an exit code means. Output is capped so a
 * chatty fsck on a badly damaged volume cannot exhaust the helper's memory.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { childProcessEnv } from '../../env';

export interface ExecResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
  /** True when the process was killed for running past its timeout. */
  readonly timedOut: boolean;
}

export interface ExecOptions {
  readonly timeoutMs?: number;
  readonly env?: Readonly<Record<string, string>>;
  /** Bytes of stdout/stderr kept (the tail is kept: tools print their verdict last). Default 256 KiB. */
  readonly maxOutput?: number;
  /** Write stdout to this callback instead of keeping it (streaming, e.g. hashing mcopy output). */
  readonly onStdout?: (chunk: Buffer) => void;
  /** Still runs after a signal (umount, losetup -d); everything else is refused then. */
  readonly release?: boolean;
}

const DEFAULT_MAX_OUTPUT = 256 * 1024;

const running = new Set<ChildProcess>();
let aborting = false;

/**
 * Kills every tool still running (on SIGTERM: a running fsck holds the loop device open, and the
 * device is only really freed once it exits).
 */
export async function killRunning(): Promise<void> {
  // From now on only release commands may start: a check step racing the signal must not mount.
  aborting = true;
  const waits = [...running].map(
    (c) =>
      new Promise<void>((resolve) => {
        c.once('close', () => resolve());
        c.kill('SIGKILL');
        setTimeout(resolve, 2_000).unref();
      }),
  );
  await Promise.all(waits);
}

/** Runs `cmd args…` without a shell. ENOENT becomes code 127 with a readable stderr. */
export function run(cmd: string, args: readonly string[], options: ExecOptions = {}): Promise<ExecResult> {
  const max = options.maxOutput ?? DEFAULT_MAX_OUTPUT;
  if (aborting && !options.release) {
    return Promise.resolve({
      code: 130,
      stdout: '',
      stderr: `${cmd}: not started, the mount check is being aborted`,
      timedOut: false,
    });
  }
  return new Promise((resolve) => {
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    let settled = false;
    const child = spawn(cmd, [...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: childProcessEnv({ LC_ALL: 'C', ...options.env }),
    });
    running.add(child);
    const keep = (acc: string, chunk: Buffer) => {
      const next = acc + chunk.toString('utf8');
      return next.length > max ? next.slice(next.length - max) : next;
    };
    child.stdout.on('data', (c: Buffer) => {
      if (options.onStdout) options.onStdout(c);
      else stdout = keep(stdout, c);
    });
    child.stderr.on('data', (c: Buffer) => {
      stderr = keep(stderr, c);
    });
    const timer =
      options.timeoutMs !== undefined
        ? setTimeout(() => {
            timedOut = true;
            child.kill('SIGKILL');
          }, options.timeoutMs)
        : undefined;
    const finish = (code: number, extraErr = '') => {
      running.delete(child);
      if (settled) return;
      settled = true;
      if (timer) clearTimeout(timer);
      resolve({ code, stdout, stderr: stderr + extraErr, timedOut });
    };
    child.on('error', (err: NodeJS.ErrnoException) => {
      finish(
        err.code === 'ENOENT' ? 127 : 126,
        `${cmd}: ${err.code === 'ENOENT' ? 'command not found' : err.message}`,
      );
    });
    child.on('close', (code, signal) => finish(code ?? (signal ? 128 : 1)));
  });
}

/** The last `n` non-empty lines of a tool's output, joined for a one-line reason. */
export function tailLines(text: string, n = 3): string {
  return text
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)
    .slice(-n)
    .join(' | ');
}

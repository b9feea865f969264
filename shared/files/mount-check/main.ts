/**
 * The standalone mount-check program, bundled by `bundleMountCheck()` into one file that runs with
 * plain `node` on the helper instance (shipped through SSM Run Command):
 *
 *     node mount-check.cjs --device /dev/nvme1n1 --checks-base64 <base64 JSON array> [--replay in-place]
 *
 * Prints exactly one JSON object (MountCheckResult) on stdout. Exit code 0 when `ok`, 1 when a check
 * failed, 2 for usage errors. On SIGTERM/SIGINT (SSM cancelling the command) it releases its loop
 * devices and mounts before exiting.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { killRunning, run } from './exec';
import { releaseAllActive, runMountCheck } from './index';
import { type FsCheckSpec, REPLAY_MODES, type ReplayMode } from './types';

function usage(message: string): never {
  process.stderr.write(
    `mount-check: ${message}\nusage: mount-check --device PATH [--checks-base64 B64 | --checks-file FILE | --checks-json JSON] [--replay in-place|copy|off]\n`,
  );
  process.exit(2);
}

/** Loop devices whose backing file is `device` (`losetup -j`). */
async function loopsOf(device: string): Promise<string[]> {
  const r = await run('losetup', ['-j', device], { timeoutMs: 10_000, release: true });
  return r.stdout
    .split('\n')
    .map((l) => l.split(':')[0]?.trim() ?? '')
    .filter((d) => d.startsWith('/dev/loop'));
}

async function main(): Promise<void> {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      options: {
        device: { type: 'string' },
        'checks-base64': { type: 'string' },
        'checks-file': { type: 'string' },
        'checks-json': { type: 'string' },
        'tool-timeout-seconds': { type: 'string' },
        replay: { type: 'string' },
      },
      strict: true,
    }));
  } catch (err) {
    usage(err instanceof Error ? err.message : String(err));
  }
  const device = values.device;
  if (typeof device !== 'string' || !device) usage('--device is required');
  let checks: FsCheckSpec[] = [];
  try {
    const text =
      typeof values['checks-base64'] === 'string'
        ? Buffer.from(values['checks-base64'], 'base64').toString('utf8')
        : typeof values['checks-file'] === 'string'
          ? readFileSync(values['checks-file'], 'utf8')
          : typeof values['checks-json'] === 'string'
            ? values['checks-json']
            : '[]';
    const parsed: unknown = JSON.parse(text);
    if (!Array.isArray(parsed)) usage('checks must be a JSON array');
    checks = parsed as FsCheckSpec[];
  } catch (err) {
    usage(`checks are not valid JSON: ${err instanceof Error ? err.message : String(err)}`);
  }
  // Loop devices over this device that existed before us are not ours to detach.
  const before = new Set(await loopsOf(device));
  let aborted = false;
  const onSignal = (sig: NodeJS.Signals) => {
    aborted = true;
    void killRunning()
      .then(() => releaseAllActive())
      // A signal between `losetup` creating a device and us recording it would leak that device.
      .then(async () => {
        for (const dev of await loopsOf(device))
          if (!before.has(dev)) await run('losetup', ['-d', dev], { timeoutMs: 10_000, release: true });
      })
      .finally(() => {
        process.stdout.write(
          `${JSON.stringify({ version: 1, device, ok: false, aborted: sig, checks: [] })}\n`,
        );
        process.exit(1);
      });
  };
  process.once('SIGTERM', onSignal);
  process.once('SIGINT', onSignal);
  const replay = values.replay ?? 'copy';
  if (!(REPLAY_MODES as readonly unknown[]).includes(replay))
    usage(`--replay must be one of ${REPLAY_MODES.join(', ')}`);
  const timeoutSeconds = Number(values['tool-timeout-seconds'] ?? '');
  const result = await runMountCheck({
    device,
    checks,
    replay: replay as ReplayMode,
    ...(Number.isFinite(timeoutSeconds) && timeoutSeconds > 0
      ? { toolTimeoutMs: timeoutSeconds * 1000 }
      : {}),
  });
  // After a signal the handler prints the one result line (the run was cut short, not finished).
  if (aborted) return;
  process.stdout.write(`${JSON.stringify(result)}\n`);
  process.exitCode = result.ok ? 0 : 1;
}

void main();

/**
 * Read-only loop devices and partition discovery. Every device the check opens is a loop device
 * attached with `--read-only` (over the image file, or over the block device itself, with
 * `--offset/--sizelimit` for a partition), so neither fsck nor mount can write to the volume even
 * if a tool misbehaves. Everything attached or mounted is tracked in a Releaser and released in
 * reverse order, whatever happened before.
 */
import { rmdir } from 'node:fs/promises';
import { run, tailLines } from './exec';

const active = new Set<Releaser>();

/**
 * Releases what every running check holds: for signal handlers of the standalone program, where
 * `finally` blocks would not run (SSM cancels a command with SIGTERM).
 */
export async function releaseAllActive(): Promise<string[]> {
  const leaks: string[] = [];
  for (const r of [...active]) leaks.push(...(await r.releaseAll()));
  return leaks;
}

/** Tracks loop devices and mounts so they are always released (LIFO). */
export class Releaser {
  readonly #stack: { what: string; release: () => Promise<boolean> }[] = [];

  constructor() {
    active.add(this);
  }

  /** Attaches `source` read-only as a loop device, optionally a byte range of it. */
  async attachLoop(source: string, range?: { offset: number; size: number }): Promise<string> {
    const args = ['--find', '--show', '--read-only'];
    if (range) args.push('--offset', String(range.offset), '--sizelimit', String(range.size));
    args.push(source);
    const r = await run('losetup', args, { timeoutMs: 30_000 });
    const dev = r.stdout.trim();
    if (r.code !== 0 || !dev.startsWith('/dev/')) {
      throw new Error(
        `could not attach ${source} read-only as a loop device: ${tailLines(r.stderr) || `losetup exit ${r.code}`}`,
      );
    }
    this.#stack.push({
      what: `loop device ${dev}`,
      release: async () => {
        for (let i = 0; i < 5; i++) {
          const d = await run('losetup', ['-d', dev], { timeoutMs: 30_000, release: true });
          if (d.code === 0) return true;
          await new Promise((res) => setTimeout(res, 200 * (i + 1)));
        }
        return false;
      },
    });
    return dev;
  }

  /** Registers a mount point to unmount (and its directory to remove) on release. */
  trackMount(dir: string): void {
    this.#stack.push({
      what: `mount ${dir}`,
      release: async () => {
        let ok = false;
        for (let i = 0; i < 5 && !ok; i++) {
          const u = await run('umount', [dir], { timeoutMs: 60_000, release: true });
          ok = u.code === 0 || /not mounted|no mount point/i.test(u.stderr);
          if (!ok) await new Promise((res) => setTimeout(res, 200 * (i + 1)));
        }
        // A lazy unmount still detaches the mount from the tree, so the loop device can be freed.
        if (!ok) ok = (await run('umount', ['-l', dir], { timeoutMs: 60_000, release: true })).code === 0;
        if (ok) await rmdir(dir).catch(() => undefined);
        return ok;
      },
    });
  }

  /** Registers an (empty) directory to remove (best effort). */
  trackDir(dir: string): void {
    this.#stack.push({
      what: `directory ${dir}`,
      release: async () => {
        await rmdir(dir).catch(() => undefined);
        return true;
      },
    });
  }

  /** Releases everything in reverse order; returns what could not be released. */
  async releaseAll(): Promise<string[]> {
    active.delete(this);
    const leaks: string[] = [];
    while (this.#stack.length > 0) {
      const item = this.#stack.pop();
      if (!item) break;
      try {
        if (!(await item.release())) leaks.push(item.what);
      } catch {
        leaks.push(item.what);
      }
    }
    return leaks;
  }
}

export interface PartitionInfo {
  /** `disk` or `p<N>` */
  readonly name: string;
  readonly offsetBytes: number;
  readonly sizeBytes: number;
}

export interface PartitionLayout {
  readonly table: 'gpt' | 'dos' | 'none';
  readonly partitions: readonly PartitionInfo[];
}

interface SfdiskJson {
  partitiontable?: {
    label?: string;
    sectorsize?: number;
    partitions?: { node?: string; start?: number; size?: number; type?: string }[];
  };
}

/** MBR container types: an extended partition holds others and has no file system itself. */
const MBR_EXTENDED = new Set(['5', 'f', '85']);

/**
 * Reads the partition table with `sfdisk --json` (GPT and MBR). A device with no table is one
 * file system on the whole disk (common for EBS data volumes).
 */
export async function readPartitions(device: string, deviceSize: number): Promise<PartitionLayout> {
  const r = await run('sfdisk', ['--json', device], { timeoutMs: 60_000 });
  if (r.code !== 0 || !r.stdout.trim()) {
    return { table: 'none', partitions: [{ name: 'disk', offsetBytes: 0, sizeBytes: deviceSize }] };
  }
  let parsed: SfdiskJson;
  try {
    parsed = JSON.parse(r.stdout) as SfdiskJson;
  } catch {
    return { table: 'none', partitions: [{ name: 'disk', offsetBytes: 0, sizeBytes: deviceSize }] };
  }
  const pt = parsed.partitiontable;
  const label = pt?.label === 'gpt' ? 'gpt' : pt?.label === 'dos' ? 'dos' : 'none';
  const sector = pt?.sectorsize ?? 512;
  const partitions: PartitionInfo[] = [];
  (pt?.partitions ?? []).forEach((p, i) => {
    if (label === 'dos' && MBR_EXTENDED.has(String(p.type ?? '').toLowerCase())) return;
    const num = /(\d+)$/.exec(p.node ?? '')?.[1] ?? String(i + 1);
    partitions.push({
      name: `p${num}`,
      offsetBytes: (p.start ?? 0) * sector,
      sizeBytes: (p.size ?? 0) * sector,
    });
  });
  if (label === 'none' || partitions.length === 0) {
    return { table: 'none', partitions: [{ name: 'disk', offsetBytes: 0, sizeBytes: deviceSize }] };
  }
  return { table: label, partitions };
}

/** Size in bytes of a loop/block device. */
export async function deviceSize(device: string): Promise<number> {
  const r = await run('blockdev', ['--getsize64', device], { timeoutMs: 30_000 });
  const n = Number(r.stdout.trim());
  if (r.code !== 0 || !Number.isFinite(n))
    throw new Error(`could not read the size of ${device}: ${tailLines(r.stderr) || `exit ${r.code}`}`);
  return n;
}

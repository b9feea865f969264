/**
 * Read-only loop devices and partition discovery. Every device the check opens is a loop device
 * attached with `--read-only` (over the image file, or over the block device itself, with
 * `--offset/--sizelimit` for a partition), so neither fsck nor mount can write to the volume even
 * if a tool misbehaves. Everything attached or mounted is tracked in a Releaser and released in
 * reverse order, whatever happened before.
 */
import { rmdir, unlink } from 'node:fs/promises';
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

  /**
   * Attaches `source` read-only as a loop device, optionally a byte range of it. `writable` only for
   * a journal replay on a throwaway copy (see ReplayMode).
   */
  async attachLoop(
    source: string,
    range?: { offset: number; size: number },
    writable = false,
  ): Promise<string> {
    const args = ['--find', '--show', ...(writable ? [] : ['--read-only'])];
    if (range) args.push('--offset', String(range.offset), '--sizelimit', String(range.size));
    args.push(source);
    const r = await run('losetup', args, { timeoutMs: 30_000 });
    const dev = r.stdout.trim();
    if (r.code !== 0 || !dev.startsWith('/dev/')) {
      throw new Error(
        `could not attach ${source} ${writable ? 'writable' : 'read-only'} as a loop device: ${tailLines(r.stderr) || `losetup exit ${r.code}`}`,
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

  /** Registers a temporary file (a replay copy) to delete on release. */
  trackFile(file: string): void {
    this.#stack.push({
      what: `file ${file}`,
      release: async () => {
        await unlink(file).catch(() => undefined);
        return true;
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
  /** Partition type: MBR hex id (`83`) or GPT type GUID (lower case); undefined for `disk`. */
  readonly partType?: string;
}

/**
 * Partition types that hold no file system by design: unused, BIOS boot, Microsoft reserved, swap.
 * Every other partition must be checked, or named unchecked by the profile.
 * @see https://en.wikipedia.org/wiki/GUID_Partition_Table#Partition_type_GUIDs
 */
const NO_FS_TYPES: Readonly<Record<string, string>> = {
  '0': 'unused',
  '82': 'Linux swap',
  '00000000-0000-0000-0000-000000000000': 'unused',
  '21686148-6449-6e6f-744e-656564454649': 'BIOS boot',
  'e3c9e316-0b5c-4db8-817d-f92df00215ae': 'Microsoft reserved',
  '0657fd6d-a4ab-43c4-84e5-0933c84b4f4f': 'Linux swap',
};

/** The name of a partition type that holds no file system by design, else undefined. */
export function noFileSystemType(partType: string | undefined): string | undefined {
  if (partType === undefined) return undefined;
  const t = partType.toLowerCase();
  // MBR ids come as hex without a fixed width (`0`, `82`); GPT types as full GUIDs.
  return NO_FS_TYPES[t.length <= 2 ? Number.parseInt(t, 16).toString(16) : t];
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
      ...(p.type ? { partType: String(p.type).toLowerCase() } : {}),
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

/** A logical volume's place on its physical volume (a linear LV on one PV is a plain byte range). */
export interface LogicalVolume {
  /** `<vg>/<lv>` */
  readonly name: string;
  /** Byte offset within the PV device, and size. Undefined when the LV is not one linear range. */
  readonly range?: { readonly offset: number; readonly size: number };
  /** Why the LV cannot be read as one range (striped, thin, RAID, split over segments or PVs). */
  readonly unsupported?: string;
}

interface LvmReport<T> {
  report?: { pv?: T[]; seg?: T[] }[];
}

/**
 * Lists the logical volumes on an LVM physical volume without activating anything: LVM's own
 * metadata reader (`pvs`/`lvs --readonly`, limited to this one device by a filter, so a VG of the
 * same name on the helper is never confused with ours), then each linear single-PV LV is opened as
 * a read-only loop device over its byte range. No device-mapper table is created, no VG name is
 * taken, nothing is written (activation would update metadata and can clash with the helper's own VG).
 * @see https://man7.org/linux/man-pages/man8/lvs.8.html
 */
export async function listLogicalVolumes(pvDevice: string): Promise<LogicalVolume[]> {
  const config = `devices { use_devicesfile=0 filter=["a|^${pvDevice}$|","r|.*|"] } global { locking_type=0 }`;
  const lvm = async <T>(cmd: string, fields: string, extra: string[] = []): Promise<T[]> => {
    const r = await run(
      cmd,
      [
        '--readonly',
        '--config',
        config,
        '--reportformat',
        'json',
        '--units',
        'b',
        '--nosuffix',
        '-o',
        fields,
        ...extra,
      ],
      { timeoutMs: 60_000, env: { LVM_SUPPRESS_FD_WARNINGS: '1' } },
    );
    if (r.code !== 0)
      throw new Error(`${cmd} could not read the LVM metadata: ${tailLines(r.stderr) || `exit ${r.code}`}`);
    const parsed = JSON.parse(r.stdout) as LvmReport<T>;
    return parsed.report?.flatMap((x) => x.pv ?? x.seg ?? []) ?? [];
  };
  const [pv] = await lvm<{ pe_start?: string; vg_name?: string }>('pvs', 'pe_start,vg_name');
  const peStart = Number(pv?.pe_start);
  if (!pv?.vg_name) return [];
  const segs = await lvm<Record<string, string>>(
    'lvs',
    'vg_name,lv_name,lv_size,segtype,seg_size_pe,seg_pe_ranges,vg_extent_size',
    ['-a', '--segments'],
  );
  const byLv = new Map<string, Record<string, string>[]>();
  for (const s of segs) {
    const name = `${s.vg_name}/${s.lv_name}`;
    byLv.set(name, [...(byLv.get(name) ?? []), s]);
  }
  return [...byLv].map(([name, lvSegs]): LogicalVolume => {
    const [s] = lvSegs;
    const ranges = (s?.seg_pe_ranges ?? '').split(' ').filter(Boolean);
    const m = /^(.+):(\d+)-(\d+)$/.exec(ranges[0] ?? '');
    if (lvSegs.length !== 1 || s?.segtype !== 'linear' || ranges.length !== 1 || !m || m[1] !== pvDevice) {
      return {
        name,
        unsupported: `${s?.segtype ?? 'unknown'} LV in ${lvSegs.length} segment(s) over ${ranges.join(' ') || 'no range'}: only a linear LV on this one physical volume can be opened without device-mapper`,
      };
    }
    const extent = Number(s.vg_extent_size);
    return { name, range: { offset: peStart + Number(m[2]) * extent, size: Number(s.lv_size) } };
  });
}

/**
 * The mount-check program's core, usable in-process (CLI `check ebs`, tests, benchmark) and as the
 * standalone bundle run on the helper instance (main.ts). It never writes to the volume: every
 * device is a read-only loop device, fsck runs in no-modify mode, mounts are read-only without
 * journal replay. Loop devices and mounts are released in `finally`, also when a step throws.
 */
import { mkdtemp, rmdir, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deviceSize, listLogicalVolumes, noFileSystemType, Releaser, readPartitions } from './devices';
import { run, tailLines } from './exec';
import {
  backupSuperblock,
  fsck,
  journalNeedsRecovery,
  openFileSystem,
  type Probe,
  probe,
  replayJournal,
  SUPPORTED_TYPES,
} from './filesystems';
import type {
  FileSystemReport,
  MountCheckItem,
  MountCheckRequest,
  MountCheckResult,
  MountCheckStatus,
} from './types';
import { type OpenFs, verifyChecks } from './verify';

export { releaseAllActive } from './devices';
export type * from './types';
export { FS_CHECK_KINDS } from './types';

const DEFAULT_TOOL_TIMEOUT_MS = 30 * 60_000;

/** Runs the whole mount check on a block device or image file and returns the one JSON result. */
export async function runMountCheck(request: MountCheckRequest): Promise<MountCheckResult> {
  const started = performance.now();
  const timeout = request.toolTimeoutMs ?? DEFAULT_TOOL_TIMEOUT_MS;
  const releaser = new Releaser();
  const items: MountCheckItem[] = [];
  const filesystems: FileSystemReport[] = [];
  let partitionTable: MountCheckResult['partitionTable'] = 'none';
  const item = (
    id: string,
    status: MountCheckItem['status'],
    detail: string,
    t0: number,
    data?: Record<string, unknown>,
  ) =>
    items.push({
      id,
      status,
      detail,
      durationMs: Math.round(performance.now() - t0),
      ...(data ? { data } : {}),
    });
  let leaks: string[] = [];
  let workDir: string | undefined;
  try {
    const t0 = performance.now();
    const st = await stat(request.device).catch(() => undefined);
    if (!st || !(st.isFile() || st.isBlockDevice())) {
      item('device', 'fail', `${request.device} is neither a block device nor an image file`, t0);
    } else {
      workDir = await mkdtemp(join(request.workDir ?? tmpdir(), 'mount-check-'));
      // Registered first, so it is removed last (after the mount points inside it), also on a signal.
      releaser.trackDir(workDir);
      const base = await releaser.attachLoop(request.device);
      const size = await deviceSize(base);
      const layout = await readPartitions(base, size);
      partitionTable = layout.table;
      const open: OpenFs[] = [];
      const unchecked = new Map<string, { id: string; reason: string }>();
      for (const c of request.checks)
        if (c.kind === 'unchecked')
          for (const name of c.unchecked.partitions)
            unchecked.set(name, { id: c.id, reason: c.unchecked.reason });
      const seen: string[] = [];
      const ctx: UnitContext = {
        request,
        releaser,
        workDir,
        timeout,
        item,
        filesystems,
        open,
        unchecked,
        seen,
      };
      for (const part of layout.partitions) {
        const dev =
          part.name === 'disk'
            ? base
            : await releaser.attachLoop(request.device, { offset: part.offsetBytes, size: part.sizeBytes });
        const where = part.name === 'disk' ? 'the whole device' : `partition ${part.name.slice(1)}`;
        await examine(ctx, { ...part, where, range: part.name === 'disk' ? undefined : part }, dev, true);
      }
      if (!items.some((i) => i.id.startsWith('fsck:'))) {
        item(
          'filesystems',
          'fail',
          `no supported file system found on ${request.device} (partition table: ${layout.table})`,
          t0,
        );
      }
      for (const c of request.checks) {
        if (c.kind !== 'unchecked') continue;
        const absent = c.unchecked.partitions.filter((n) => !seen.includes(n));
        if (absent.length > 0)
          item(
            c.id,
            'fail',
            `names ${absent.join(', ')}, which the volume does not have (it has ${seen.join(', ')})`,
            t0,
          );
        else
          item(
            c.id,
            'skip',
            `left unchecked by the profile: ${c.unchecked.partitions.join(', ')} (${c.unchecked.reason})`,
            t0,
          );
      }
      items.push(
        ...(await verifyChecks(
          request.checks.filter((c) => c.kind !== 'unchecked'),
          open,
        )),
      );
    }
  } catch (err) {
    items.push({
      id: 'mount-check',
      status: 'error',
      detail: err instanceof Error ? err.message : String(err),
      durationMs: 0,
    });
  } finally {
    leaks = await releaser.releaseAll();
    // Never a recursive delete: a leaked mount below it must not be traversed.
    if (workDir) await rmdir(workDir).catch(() => undefined);
  }
  if (leaks.length > 0) {
    items.push({
      id: 'release',
      status: 'error',
      detail: `could not release: ${leaks.join(', ')}`,
      durationMs: 0,
    });
  }
  return {
    version: 1,
    device: request.device,
    ok:
      items.every((i) => i.status === 'pass' || i.status === 'skip') &&
      items.some((i) => i.status === 'pass'),
    partitionTable,
    filesystems,
    checks: items,
    released: leaks.length === 0,
    ...(leaks.length ? { leaks } : {}),
    durationMs: Math.round(performance.now() - started),
  };
}

interface UnitContext {
  readonly request: MountCheckRequest;
  readonly releaser: Releaser;
  readonly workDir: string;
  readonly timeout: number;
  readonly item: (
    id: string,
    status: MountCheckStatus,
    detail: string,
    t0: number,
    data?: Record<string, unknown>,
  ) => void;
  readonly filesystems: FileSystemReport[];
  readonly open: OpenFs[];
  /** Names the profile leaves unchecked (`unchecked` checks), with the check and reason. */
  readonly unchecked: ReadonlyMap<string, { id: string; reason: string }>;
  /** Every unit name met (partitions and LVs), for the `unchecked` checks' typo test. */
  readonly seen: string[];
}

/** A partition, the whole device, or a logical volume: something that should hold a file system. */
interface Unit {
  readonly name: string;
  readonly where: string;
  readonly offsetBytes: number;
  readonly sizeBytes: number;
  readonly partType?: string;
  /** Byte range within the request's device; undefined for the whole device. */
  readonly range?: { readonly offsetBytes: number; readonly sizeBytes: number };
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/**
 * Checks one unit. Everything that is not a known empty/BIOS-boot/swap partition is either checked
 * or reported as a failure naming why it could not be (an unreadable data partition beside a clean
 * /boot must not pass), unless the profile names it in an `unchecked` check.
 */
async function examine(ctx: UnitContext, unit: Unit, dev: string, allowLvm: boolean): Promise<void> {
  const { item, timeout } = ctx;
  ctx.seen.push(unit.name);
  const t0 = performance.now();
  const p: Probe = await probe(dev);
  const report: Mutable<FileSystemReport> = {
    name: unit.name,
    offsetBytes: unit.offsetBytes,
    sizeBytes: unit.sizeBytes,
    type: p.type,
    label: p.label,
    uuid: p.uuid,
    access: 'none',
  };
  ctx.filesystems.push(report);
  const excluded = ctx.unchecked.get(unit.name);
  if (excluded) {
    item(
      `fs:${unit.name}`,
      'skip',
      `${unit.where} not checked: the profile's ${excluded.id} leaves it out (${excluded.reason})`,
      t0,
    );
    return;
  }
  const fail = (detail: string) => item(`fs:${unit.name}`, 'fail', `${unit.where}: ${detail}`, t0);
  if (p.type === 'LVM2_member' && allowLvm) {
    const lvs = await listLogicalVolumes(dev).catch((err: unknown) => err as Error);
    if (lvs instanceof Error)
      return fail(`an LVM physical volume whose metadata could not be read: ${lvs.message}`);
    if (lvs.length === 0) return fail('an LVM physical volume with no logical volume');
    item(
      `fs:${unit.name}`,
      'skip',
      `${unit.where}: LVM physical volume; its ${lvs.length} logical volume(s) are checked one by one (read-only, not activated)`,
      t0,
    );
    for (const lv of lvs) {
      if (!lv.range) {
        ctx.seen.push(lv.name);
        if (ctx.unchecked.has(lv.name))
          item(`fs:${lv.name}`, 'skip', `logical volume ${lv.name} not checked: left out by the profile`, t0);
        else
          item(
            `fs:${lv.name}`,
            'fail',
            `logical volume ${lv.name} could not be opened: ${lv.unsupported}`,
            t0,
          );
        continue;
      }
      const offsetBytes = (unit.range?.offsetBytes ?? 0) + lv.range.offset;
      const range = { offsetBytes, sizeBytes: lv.range.size };
      const lvDev = await ctx.releaser.attachLoop(ctx.request.device, {
        offset: offsetBytes,
        size: lv.range.size,
      });
      await examine(
        ctx,
        { name: lv.name, where: `logical volume ${lv.name}`, ...range, range },
        lvDev,
        false,
      );
    }
    return;
  }
  if (p.type === 'crypto_LUKS')
    return fail('LUKS-encrypted: not supported (the helper has no key source); its content was not checked');
  if (p.usage === 'raid')
    return fail(
      `a software RAID member (${p.type}): not supported (assembling an array needs every member); its content was not checked`,
    );
  if (!p.type) {
    const none = noFileSystemType(unit.partType);
    if (none) {
      item(`fs:${unit.name}`, 'skip', `no file system on ${unit.where} (${none} partition)`, t0);
      return;
    }
    const why = await backupSuperblock(dev);
    return fail(
      why ??
        `no recognisable file system${unit.partType ? ` (partition type ${unit.partType})` : ''}: wiped, damaged or of an unknown kind, so its content was not checked (if it holds no data, name it in an \`unchecked\` check)`,
    );
  }
  if (p.type === 'swap') {
    item(`fs:${unit.name}`, 'skip', `swap on ${unit.where}: no file system to check`, t0);
    return;
  }
  if (!(SUPPORTED_TYPES as readonly string[]).includes(p.type))
    return fail(`${p.type} is not a supported file system, so its content was not checked`);
  const type = p.type;
  let fsDev = dev;
  const pending = await journalNeedsRecovery(type, dev);
  let f = pending ? undefined : await fsck(type, dev, timeout);
  if (!f || f.logDirty) {
    const why = pending ?? 'the log holds changes not yet replayed (a crash-consistent copy)';
    const tReplay = performance.now();
    try {
      const done = await replayOnThrowaway(ctx, unit, type);
      fsDev = done.dev;
      report.replayed = `${done.how} on ${done.on}`;
      item(
        `replay:${unit.name}`,
        'pass',
        `${type} on ${unit.where}: ${why}: ${done.how} on ${done.on}; the checks below judge the recovered file system`,
        tReplay,
      );
    } catch (err) {
      item(
        `replay:${unit.name}`,
        'fail',
        `${type} on ${unit.where}: ${why}, and the recovery failed: ${err instanceof Error ? err.message : String(err)}; files written just before the snapshot may not be visible`,
        tReplay,
      );
    }
    f = await fsck(type, fsDev, timeout);
  }
  item(`fsck:${unit.name}`, f.ok ? 'pass' : 'fail', `${type} on ${unit.where}: ${f.detail}`, t0, {
    exitCode: f.exitCode,
  });
  const tMount = performance.now();
  const o = await openFileSystem(
    type,
    fsDev,
    ctx.workDir,
    unit.name.replace(/[^A-Za-z0-9_-]/g, '-'),
    ctx.releaser,
    timeout,
  );
  item(`mount:${unit.name}`, o.reader ? 'pass' : 'fail', `${type} on ${unit.where}: ${o.detail}`, tMount);
  if (o.reader) {
    report.access = o.reader.access;
    const s = await o.reader.space().catch(() => undefined);
    if (s) Object.assign(report, s);
    ctx.open.push({ name: unit.name, reader: o.reader });
  }
}

/**
 * Replays the journal on a throwaway device and returns a fresh read-only loop device over the
 * replayed file system. `in-place` writes to the device itself (the helper's restored volume is a
 * copy that AWS Backup deletes afterwards); `copy` writes to a sparse copy of an image file's range
 * in the work directory, so a local image is never changed.
 */
async function replayOnThrowaway(
  ctx: UnitContext,
  unit: Unit,
  type: string,
): Promise<{ dev: string; how: string; on: string }> {
  const mode = ctx.request.replay ?? 'copy';
  const range = unit.range ? { offset: unit.range.offsetBytes, size: unit.range.sizeBytes } : undefined;
  if (mode === 'off') throw new Error('replay is off for this run');
  let source = ctx.request.device;
  let sourceRange = range;
  let on = 'the restored volume (a throwaway copy)';
  if (mode === 'copy') {
    const st = await stat(ctx.request.device);
    if (!st.isFile())
      throw new Error(
        'the device is a block device, which is only written with --replay in-place (on a throwaway copy)',
      );
    source = join(ctx.workDir, `replay-${unit.name.replace(/[^A-Za-z0-9_-]/g, '-')}.img`);
    ctx.releaser.trackFile(source);
    const dd = await run(
      'dd',
      [
        `if=${ctx.request.device}`,
        `of=${source}`,
        'bs=1M',
        'iflag=skip_bytes,count_bytes',
        `skip=${range?.offset ?? 0}`,
        ...(range ? [`count=${range.size}`] : []),
        'conv=sparse',
        'status=none',
      ],
      { timeoutMs: ctx.timeout },
    );
    if (dd.code !== 0) throw new Error(`could not copy the image for the replay: ${tailLines(dd.stderr)}`);
    sourceRange = undefined;
    on = 'a temporary copy (the image itself is not changed)';
  }
  const writer = new Releaser();
  let how = '';
  let failure: unknown;
  try {
    const rw = await writer.attachLoop(source, sourceRange, true);
    how = await replayJournal(type, rw, ctx.workDir, ctx.timeout);
  } catch (err) {
    failure = err;
  }
  const leaks = await writer.releaseAll();
  if (leaks.length > 0) throw new Error(`could not release the replay device: ${leaks.join(', ')}`);
  if (failure) throw failure;
  return { dev: await ctx.releaser.attachLoop(source, sourceRange), how, on };
}

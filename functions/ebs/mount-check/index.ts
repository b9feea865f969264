/**
 * The mount-check program's core, usable in-process (CLI `check ebs`, tests, benchmark) and as the
 * standalone bundle run on the helper instance (main.ts). It never writes to the volume: every
 * device is a read-only loop device, fsck runs in no-modify mode, mounts are read-only without
 * journal replay. Loop devices and mounts are released in `finally`, also when a step throws.
 */
import { mkdtemp, rmdir, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deviceSize, Releaser, readPartitions } from './devices';
import { fsck, openFileSystem, probe, SUPPORTED_TYPES } from './filesystems';
import type { FileSystemReport, MountCheckItem, MountCheckRequest, MountCheckResult } from './types';
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
      for (const part of layout.partitions) {
        const dev =
          part.name === 'disk'
            ? base
            : await releaser.attachLoop(request.device, { offset: part.offsetBytes, size: part.sizeBytes });
        const p = await probe(dev);
        const where = part.name === 'disk' ? 'the whole device' : `partition ${part.name.slice(1)}`;
        const report: { -readonly [K in keyof FileSystemReport]: FileSystemReport[K] } = {
          name: part.name,
          offsetBytes: part.offsetBytes,
          sizeBytes: part.sizeBytes,
          type: p.type,
          label: p.label,
          uuid: p.uuid,
          access: 'none',
        };
        filesystems.push(report);
        const tFsck = performance.now();
        if (!p.type || p.usage === 'raid' || p.usage === 'crypto') {
          // A partition without a file system (BIOS boot, swap, LVM) is reported, not failed, unless nothing else is found.
          item(`fs:${part.name}`, 'skip', `no file system on ${where}${p.type ? ` (${p.type})` : ''}`, tFsck);
          continue;
        }
        if (!(SUPPORTED_TYPES as readonly string[]).includes(p.type)) {
          item(
            `fs:${part.name}`,
            p.type === 'swap' ? 'skip' : 'fail',
            `${p.type} on ${where} is not a supported file system`,
            tFsck,
          );
          continue;
        }
        const f = await fsck(p.type, dev, timeout);
        item(`fsck:${part.name}`, f.ok ? 'pass' : 'fail', `${p.type} on ${where}: ${f.detail}`, tFsck, {
          exitCode: f.exitCode,
        });
        const tMount = performance.now();
        const o = await openFileSystem(p.type, dev, workDir, part.name, releaser, timeout);
        item(`mount:${part.name}`, o.reader ? 'pass' : 'fail', `${p.type} on ${where}: ${o.detail}`, tMount);
        if (o.reader) {
          report.access = o.reader.access;
          const s = await o.reader.space().catch(() => undefined);
          if (s) Object.assign(report, s);
          open.push({ name: part.name, reader: o.reader });
        }
      }
      if (!items.some((i) => i.id.startsWith('fsck:'))) {
        item(
          'filesystems',
          'fail',
          `no supported file system found on ${request.device} (partition table: ${layout.table})`,
          t0,
        );
      }
      items.push(...(await verifyChecks(request.checks, open)));
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

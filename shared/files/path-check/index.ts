/**
 * The path check: the mount-check program's file-system checks (`paths`, `files`, `directory`,
 * `freeSpace`, implemented by shared/files/mount-check/verify.ts) run over a directory where a network
 * file system (EFS over NFS, FSx for Lustre or OpenZFS) is already mounted read-only. The EBS program
 * opens block devices itself; a network file system is mounted by the helper script instead, so only the
 * reader differs. Node built-ins only: it is bundled and shipped inline to the helper like mount-check.
 */

import { stat, statfs } from 'node:fs/promises';
import { type FsReader, mountedReader } from '../mount-check/filesystems';
import type { FsCheckSpec, MountCheckItem } from '../mount-check/types';
import { verifyChecks } from '../mount-check/verify';

export interface PathCheckResult {
  readonly version: 1;
  readonly root: string;
  readonly ok: boolean;
  readonly checks: readonly MountCheckItem[];
  readonly durationMs: number;
}

/**
 * The mount-check reader over a mounted directory, but for free space: a network file system that does
 * not answer statfs leaves it unknown (the freeSpace check says so) instead of throwing, and its inode
 * counts are kept even when zero.
 */
export function directoryReader(root: string): FsReader {
  return {
    ...mountedReader(root),
    async space() {
      try {
        const s = await statfs(root);
        return {
          freeBytes: s.bavail * s.bsize,
          totalBytes: s.blocks * s.bsize,
          freeInodes: s.ffree,
          totalInodes: s.files,
        };
      } catch {
        return undefined;
      }
    },
  };
}

/** Runs the profile's file-system checks over `root`. Never throws for a check's sake. */
export async function runPathCheck(request: {
  root: string;
  checks: readonly FsCheckSpec[];
}): Promise<PathCheckResult> {
  const started = performance.now();
  const st = await stat(request.root).catch(() => undefined);
  if (!st?.isDirectory()) {
    const items = request.checks.map((c) => ({
      id: c.id,
      status: 'error' as const,
      detail: `${request.root} is not a mounted directory`,
      durationMs: 0,
    }));
    return {
      version: 1,
      root: request.root,
      ok: false,
      checks: items,
      durationMs: Math.round(performance.now() - started),
    };
  }
  const checks = await verifyChecks(request.checks, [{ name: 'fs', reader: directoryReader(request.root) }]);
  return {
    version: 1,
    root: request.root,
    ok: checks.every((c) => c.status === 'pass' || c.status === 'skip'),
    checks,
    durationMs: Math.round(performance.now() - started),
  };
}

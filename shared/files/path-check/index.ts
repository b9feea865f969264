/**
 * The path check: the mount-check program's file-system checks (`paths`, `files`, `directory`,
 * `freeSpace`, implemented by shared/files/mount-check/verify.ts) run over a directory where a network
 * file system (EFS over NFS, FSx for Lustre or OpenZFS) is already mounted read-only. The EBS program
 * opens block devices itself; a network file system is mounted by the helper script instead, so only the
 * reader differs. Node built-ins only: it is bundled and shipped inline to the helper like mount-check.
 */

import { createHash } from 'node:crypto';
import { constants } from 'node:fs';
import { lstat, open, opendir, stat, statfs } from 'node:fs/promises';
import { join } from 'node:path';
import { type FsReader, resolveInside } from '../mount-check/filesystems';
import type { FsCheckSpec, MountCheckItem } from '../mount-check/types';
import { verifyChecks } from '../mount-check/verify';

export interface PathCheckResult {
  readonly version: 1;
  readonly root: string;
  readonly ok: boolean;
  readonly checks: readonly MountCheckItem[];
  readonly durationMs: number;
}

/** A profile path resolved under the root, links followed inside it only (see resolveInside). */
async function inside(root: string, path: string): Promise<string> {
  const real = await resolveInside(root, path);
  if (!real) throw Object.assign(new Error(`${path}: no such file or directory`), { code: 'ENOENT' });
  return real;
}

/**
 * A reader over a mounted directory: symlinks resolve inside the mounted root (an absolute link
 * never reaches the helper's own files), hashing streams 1 MiB at a time.
 */
export function directoryReader(root: string): FsReader {
  return {
    access: 'mount',
    async kind(path) {
      const real = await resolveInside(root, path);
      const st = real ? await lstat(real).catch(() => undefined) : undefined;
      if (!st) return undefined;
      return st.isFile() ? 'file' : st.isDirectory() ? 'dir' : 'other';
    },
    async sha256(path) {
      // O_NOFOLLOW: the resolved path holds no link, and nothing may turn it into one.
      const fh = await open(await inside(root, path), constants.O_RDONLY | constants.O_NOFOLLOW);
      return new Promise((resolve, reject) => {
        const hash = createHash('sha256');
        fh.createReadStream({ highWaterMark: 1 << 20 })
          .on('data', (c) => hash.update(c))
          .on('error', reject)
          .on('end', () => resolve(hash.digest('hex')));
      });
    },
    async tally(dir) {
      let files = 0;
      let bytes = 0;
      const walk = async (d: string): Promise<void> => {
        const subdirs: string[] = [];
        for await (const entry of await opendir(d, { bufferSize: 256 })) {
          const p = join(d, entry.name);
          if (entry.isDirectory()) subdirs.push(p);
          else if (entry.isFile()) {
            files++;
            bytes += (await lstat(p).catch(() => ({ size: 0 }))).size;
          }
        }
        for (const s of subdirs) await walk(s);
      };
      await walk(await inside(root, dir));
      return { files, bytes };
    },
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

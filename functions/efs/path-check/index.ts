/**
 * The path check: the mount-check program's file-system checks (`paths`, `files`, `directory`,
 * `freeSpace`, implemented by functions/ebs/mount-check/verify.ts) run over a directory where a network
 * file system (EFS over NFS, FSx for Lustre or OpenZFS) is already mounted read-only. The EBS program
 * opens block devices itself; a network file system is mounted by the helper script instead, so only the
 * reader differs. Node built-ins only: it is bundled and shipped inline to the helper like mount-check.
 */

import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { lstat, opendir, stat, statfs } from 'node:fs/promises';
import { join } from 'node:path';
import type { FsReader } from '../../ebs/mount-check/filesystems';
import type { FsCheckSpec, MountCheckItem } from '../../ebs/mount-check/types';
import { verifyChecks } from '../../ebs/mount-check/verify';

export interface PathCheckResult {
  readonly version: 1;
  readonly root: string;
  readonly ok: boolean;
  readonly checks: readonly MountCheckItem[];
  readonly durationMs: number;
}

/** Joins a profile path (absolute inside the file system) under the root, never escaping it. */
function inside(root: string, path: string): string {
  const clean = path.split('/').filter((s) => s && s !== '.' && s !== '..');
  return join(root, ...clean);
}

/** A reader over a mounted directory: symlinks are not followed, hashing streams 1 MiB at a time. */
export function directoryReader(root: string): FsReader {
  return {
    access: 'mount',
    async kind(path) {
      try {
        const st = await lstat(inside(root, path));
        return st.isFile() ? 'file' : st.isDirectory() ? 'dir' : 'other';
      } catch {
        return undefined;
      }
    },
    sha256(path) {
      return new Promise((resolve, reject) => {
        const hash = createHash('sha256');
        createReadStream(inside(root, path), { highWaterMark: 1 << 20 })
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
      await walk(inside(root, dir));
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

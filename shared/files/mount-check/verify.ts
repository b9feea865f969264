/**
 * The profile's file-system checks over the opened file systems. A path is looked up on every file
 * system of the volume (a data volume may have several partitions); the first that has it decides.
 */
import type { FsReader } from './filesystems';
import type { FsCheckSpec, MountCheckItem, MountCheckStatus } from './types';

export interface OpenFs {
  readonly name: string;
  readonly reader: FsReader;
}

type Outcome = { status: MountCheckStatus; detail: string; data?: Record<string, unknown> };

async function locate(
  fss: readonly OpenFs[],
  path: string,
): Promise<{ fs: OpenFs; kind: 'file' | 'dir' | 'other' } | undefined> {
  for (const fs of fss) {
    const kind = await fs.reader.kind(path);
    if (kind) return { fs, kind };
  }
  return undefined;
}

const fmtBytes = (n: number) => (n >= 1 << 20 ? `${(n / (1 << 20)).toFixed(1)} MiB` : `${n} B`);

async function runOne(check: FsCheckSpec, fss: readonly OpenFs[]): Promise<Outcome> {
  if (fss.length === 0) {
    return {
      status: 'fail',
      detail: 'no file system of the volume could be opened, so this check could not run',
    };
  }
  switch (check.kind) {
    case 'paths': {
      const missing: string[] = [];
      const found: Record<string, string> = {};
      for (const p of check.paths) {
        const hit = await locate(fss, p);
        if (hit) found[p] = hit.fs.name;
        else missing.push(p);
      }
      if (missing.length > 0) {
        return {
          status: 'fail',
          detail: `missing on every file system: ${missing.join(', ')}`,
          data: { missing, found },
        };
      }
      return { status: 'pass', detail: `${check.paths.length} path(s) present`, data: { found } };
    }
    case 'files': {
      const problems: string[] = [];
      const matched: string[] = [];
      for (const [path, expected] of Object.entries(check.files)) {
        const want = expected.replace(/^sha256:/, '').toLowerCase();
        const hit = await locate(fss, path);
        if (!hit) {
          problems.push(`${path} missing`);
          continue;
        }
        if (hit.kind !== 'file') {
          problems.push(`${path} is not a regular file`);
          continue;
        }
        const got = await hit.fs.reader.sha256(path);
        if (got === want) matched.push(path);
        else
          problems.push(
            `${path} content changed (sha256 ${got.slice(0, 12)}…, expected ${want.slice(0, 12)}…)`,
          );
      }
      if (problems.length > 0) {
        return {
          status: 'fail',
          detail:
            problems.slice(0, 5).join('; ') +
            (problems.length > 5 ? `; and ${problems.length - 5} more` : ''),
          data: { matched: matched.length, failed: problems.length },
        };
      }
      return {
        status: 'pass',
        detail: `${matched.length} file(s) match their SHA-256`,
        data: { matched: matched.length },
      };
    }
    case 'directory': {
      const d = check.directory;
      const hit = await locate(fss, d.path);
      if (!hit) return { status: 'fail', detail: `${d.path} missing on every file system` };
      if (hit.kind !== 'dir') return { status: 'fail', detail: `${d.path} is not a directory` };
      const { files, bytes } = await hit.fs.reader.tally(d.path);
      const data = { files, bytes, filesystem: hit.fs.name };
      const short: string[] = [];
      if (d.minFiles !== undefined && files < d.minFiles)
        short.push(`${files} files < minFiles ${d.minFiles}`);
      if (d.minBytes !== undefined && bytes < d.minBytes)
        short.push(`${fmtBytes(bytes)} < minBytes ${fmtBytes(d.minBytes)}`);
      if (short.length > 0) return { status: 'fail', detail: `${d.path}: ${short.join(', ')}`, data };
      return { status: 'pass', detail: `${d.path}: ${files} files, ${fmtBytes(bytes)}`, data };
    }
    case 'freeSpace': {
      const f = check.freeSpace;
      const problems: string[] = [];
      const data: Record<string, unknown> = {};
      for (const fs of fss) {
        const s = await fs.reader.space();
        if (!s || s.totalBytes <= 0) {
          problems.push(`${fs.name}: free space unknown`);
          continue;
        }
        const freePct = (100 * s.freeBytes) / s.totalBytes;
        const inodePct = s.totalInodes ? (100 * (s.freeInodes ?? 0)) / s.totalInodes : undefined;
        data[fs.name] = {
          freePercent: Math.round(freePct * 10) / 10,
          ...(inodePct !== undefined ? { freeInodesPercent: Math.round(inodePct * 10) / 10 } : {}),
        };
        if (f.minFreePercent !== undefined && freePct < f.minFreePercent) {
          problems.push(`${fs.name}: ${freePct.toFixed(1)}% free < ${f.minFreePercent}%`);
        }
        if (
          f.minFreeInodesPercent !== undefined &&
          inodePct !== undefined &&
          inodePct < f.minFreeInodesPercent
        ) {
          problems.push(`${fs.name}: ${inodePct.toFixed(1)}% inodes free < ${f.minFreeInodesPercent}%`);
        }
      }
      if (problems.length > 0) return { status: 'fail', detail: problems.join('; '), data };
      return { status: 'pass', detail: `free space sane on ${fss.length} file system(s)`, data };
    }
    default:
      return {
        status: 'error',
        detail: `unknown file-system check kind ${(check as { kind?: string }).kind}`,
      };
  }
}

/** Runs each profile check; an exception becomes an `error` item with its reason. */
export async function verifyChecks(
  checks: readonly FsCheckSpec[],
  fss: readonly OpenFs[],
): Promise<MountCheckItem[]> {
  const items: MountCheckItem[] = [];
  for (const check of checks) {
    const started = performance.now();
    let outcome: Outcome;
    try {
      outcome = await runOne(check, fss);
    } catch (err) {
      outcome = { status: 'error', detail: err instanceof Error ? err.message : String(err) };
    }
    items.push({ id: check.id, ...outcome, durationMs: Math.round(performance.now() - started) });
  }
  return items;
}

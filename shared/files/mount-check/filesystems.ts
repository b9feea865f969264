/**
 * Per-file-system work: identify (blkid -p), read-only fsck, read-only mount or a user-space reader.
 * The fsck commands are the tools' own no-modify modes; mount options are chosen so the kernel does
 * not replay journals or logs (which would be a write): ext `noload`, xfs `norecovery,nouuid`,
 * btrfs `rescue=nologreplay`.
 */
import { createHash } from 'node:crypto';
import { constants } from 'node:fs';
import { lstat, mkdtemp, open, opendir, readFile, readlink, rmdir, statfs } from 'node:fs/promises';
import { join } from 'node:path';
import type { Releaser } from './devices';
import { type ExecResult, run, tailLines } from './exec';

export interface Probe {
  readonly type?: string;
  readonly label?: string;
  readonly uuid?: string;
  readonly usage?: string;
}

/** Low-level probe of the device itself (`-p` bypasses the blkid cache, which may be stale). */
export async function probe(device: string): Promise<Probe> {
  const r = await run('blkid', ['-p', '-o', 'export', device], { timeoutMs: 60_000 });
  const kv: Record<string, string> = {};
  for (const line of r.stdout.split('\n')) {
    const i = line.indexOf('=');
    if (i > 0) kv[line.slice(0, i)] = line.slice(i + 1);
  }
  return { type: kv.TYPE, label: kv.LABEL, uuid: kv.UUID, usage: kv.USAGE };
}

export const SUPPORTED_TYPES = ['ext2', 'ext3', 'ext4', 'xfs', 'btrfs', 'vfat', 'ntfs'] as const;

export interface FsckOutcome {
  readonly ok: boolean;
  readonly detail: string;
  readonly exitCode: number;
  /** xfs_repair -n found log changes it ignored: a crash-consistent copy whose log needs replay. */
  readonly logDirty?: boolean;
}

/** xfs_repair -n's warning that the log holds changes it ignores (the real cause of its exit 1). */
const XFS_DIRTY_LOG = /valuable metadata changes in a log/;

function fsckCommand(type: string, device: string): [string, string[]] | undefined {
  switch (type) {
    case 'ext2':
    case 'ext3':
    case 'ext4':
      return ['e2fsck', ['-f', '-n', device]];
    case 'xfs':
      return ['xfs_repair', ['-n', device]];
    case 'btrfs':
      // Without --check-data-csum, btrfs check reads metadata only and passes damaged file data.
      return ['btrfs', ['check', '--readonly', '--check-data-csum', device]];
    case 'vfat':
      return ['fsck.vfat', ['-n', device]];
    case 'ntfs':
      return ['ntfsfix', ['-n', device]];
    default:
      return undefined;
  }
}

/** Runs the type's read-only consistency check. Exit 0 is clean for every tool used here. */
export async function fsck(type: string, device: string, timeoutMs: number): Promise<FsckOutcome> {
  const cmd = fsckCommand(type, device);
  if (!cmd) return { ok: false, detail: `no read-only checker for file system type ${type}`, exitCode: -1 };
  const [bin, args] = cmd;
  const r = await run(bin, args, { timeoutMs });
  const label = `${bin} ${args.slice(0, -1).join(' ')}`.trim();
  if (r.timedOut)
    return {
      ok: false,
      detail: `${label} timed out after ${Math.round(timeoutMs / 1000)} s`,
      exitCode: r.code,
    };
  if (r.code === 0 && type === 'ntfs') return ntfsRecords(device, label, timeoutMs);
  if (r.code === 0) return { ok: true, detail: `${label}: clean`, exitCode: 0 };
  if (type === 'xfs' && XFS_DIRTY_LOG.test(`${r.stdout}\n${r.stderr}`)) {
    return {
      ok: false,
      logDirty: true,
      detail: `${label} exit ${r.code}: the log holds metadata changes that were not replayed (a crash-consistent snapshot); the inconsistencies it reports may be only that`,
      exitCode: r.code,
    };
  }
  return { ok: false, detail: `${label} exit ${r.code}: ${reasonFrom(r) || 'no output'}`, exitCode: r.code };
}

/**
 * `ntfsfix -n` checks only the boot sectors, `$MFT` against `$MFTMirr` and the volume flags: an
 * overwritten file record passes it. So every MFT record that `$MFT`'s bitmap marks in use is read
 * (`ntfscat -i 0`, streamed) and must carry the `FILE` signature (`BAAD` or anything else marks a
 * record NTFS itself would refuse).
 * @see https://flatcap.github.io/linux-ntfs/ntfs/concepts/file_record.html
 */
async function ntfsRecords(device: string, label: string, timeoutMs: number): Promise<FsckOutcome> {
  const chunks: Buffer[] = [];
  const bitmapRun = await run('ntfscat', ['-q', '-i', '0', '-a', '0xb0', device], {
    timeoutMs,
    onStdout: (c) => chunks.push(c),
  });
  if (bitmapRun.code !== 0)
    return {
      ok: false,
      exitCode: bitmapRun.code,
      detail: `ntfscat could not read the $MFT bitmap: ${tailLines(bitmapRun.stderr) || `exit ${bitmapRun.code}`}`,
    };
  const bitmap = Buffer.concat(chunks);
  const recordSize = 1024;
  let pending: Buffer = Buffer.alloc(0);
  let index = 0;
  let inUse = 0;
  const bad: string[] = [];
  const inspect = (rec: Buffer, i: number) => {
    if (!((bitmap[i >> 3] ?? 0) & (1 << (i & 7)))) return;
    inUse++;
    if (rec.toString('latin1', 0, 4) !== 'FILE') {
      bad.push(`record ${i}: no FILE signature (${JSON.stringify(rec.toString('latin1', 0, 4))})`);
      return;
    }
    // ntfscat has already applied (and on failure reported) the update-sequence fixups.
    if (rec.readUInt16LE(4) + 2 * rec.readUInt16LE(6) > recordSize)
      bad.push(`record ${i}: update sequence array out of bounds`);
  };
  const r = await run('ntfscat', ['-q', '-i', '0', device], {
    timeoutMs,
    onStdout: (chunk) => {
      pending = pending.length ? Buffer.concat([pending, chunk]) : chunk;
      let at = 0;
      for (; at + recordSize <= pending.length; at += recordSize)
        inspect(pending.subarray(at, at + recordSize), index++);
      pending = Buffer.from(pending.subarray(at));
    },
  });
  if (r.code !== 0)
    return {
      ok: false,
      exitCode: r.code,
      detail: `${label}: clean, but ntfscat could not read $MFT: ${tailLines(r.stderr) || `exit ${r.code}`}`,
    };
  if (bad.length > 0) {
    return {
      ok: false,
      exitCode: 1,
      detail: `${label} reports clean (it does not read file records), but ${bad.length} of ${inUse} MFT records in use are damaged: ${bad.slice(0, 3).join('; ')}`,
    };
  }
  return { ok: true, exitCode: 0, detail: `${label}: clean; ${inUse} MFT records in use, all intact` };
}

/** The `Filesystem features:` line of an ext2/3/4 superblock, as `dumpe2fs -h` prints it. */
async function extFeatures(device: string): Promise<{ features: string; header: string }> {
  const r = await run('dumpe2fs', ['-h', device], { timeoutMs: 60_000 });
  return { features: /^Filesystem features:(.*)$/m.exec(r.stdout)?.[1] ?? '', header: r.stdout };
}

/**
 * What an ext3/4 file system needs done before it can be judged, as the kernel does at mount, or
 * undefined: a journal to replay (`needs_recovery`: a crash-consistent snapshot of a mounted file
 * system) and/or orphan inodes to release (files deleted while still open, which a frozen,
 * application-consistent snapshot keeps too; in the superblock's list or, with `orphan_file`, marked
 * `orphan_present`: `e2fsck -n` fails all of these with exit 4). XFS is detected by its checker
 * (FsckOutcome.logDirty).
 */
export async function journalNeedsRecovery(type: string, device: string): Promise<string | undefined> {
  if (type !== 'ext3' && type !== 'ext4') return undefined;
  const { features, header } = await extFeatures(device);
  const needs = [
    /\bneeds_recovery\b/.test(features) && 'the journal needs recovery (a crash-consistent copy)',
    (/^First orphan inode:\s*[1-9]/m.test(header) || /\borphan_present\b/.test(features)) &&
      'orphan inodes (files deleted while open) wait to be released',
  ].filter((x): x is string => typeof x === 'string');
  return needs.length > 0 ? needs.join(', and ') : undefined;
}

/** A read-write mount and unmount: the kernel replays the journal or log and releases orphans. */
async function kernelRecovery(type: string, device: string, workDir: string, timeoutMs: number) {
  const dir = await mkdtemp(join(workDir, 'replay-'));
  try {
    const m = await run('mount', ['-t', type, ...(type === 'xfs' ? ['-o', 'nouuid'] : []), device, dir], {
      timeoutMs,
    });
    if (m.code !== 0)
      throw new Error(
        `read-write mount to recover ${type} failed: ${(await kernelReason(device)) ?? tailLines(m.stderr)}`,
      );
    const u = await run('umount', [dir], { timeoutMs, release: true });
    if (u.code !== 0) throw new Error(`unmount after the ${type} recovery failed: ${tailLines(u.stderr)}`);
  } finally {
    await rmdir(dir).catch(() => undefined);
  }
}

/**
 * Replays the journal and releases orphan inodes (ext: `e2fsck -p -E journal_only`, nothing else
 * repaired; with `orphan_file` the kernel, since e2fsck's journal-only pass leaves that file
 * unclean) or replays the log (xfs: the kernel, the only way XFS replays) on a WRITABLE throwaway
 * device. Returns what was done, or throws with the tool's reason.
 */
export async function replayJournal(
  type: string,
  device: string,
  workDir: string,
  timeoutMs: number,
): Promise<string> {
  if (type === 'xfs') {
    await kernelRecovery(type, device, workDir, timeoutMs);
    return 'XFS log replayed (read-write mount and unmount)';
  }
  const { features } = await extFeatures(device);
  if (/\borphan_file\b/.test(features)) {
    await kernelRecovery(type, device, workDir, timeoutMs);
    const journal = /\bneeds_recovery\b/.test(features) ? `${type} journal replayed, ` : '';
    return `${journal}orphan file released (read-write mount and unmount)`;
  }
  const r = await run('e2fsck', ['-p', '-E', 'journal_only', device], { timeoutMs });
  // e2fsck exit 1 = errors corrected (the journal was replayed), 0 = nothing to do.
  if (r.code > 1)
    throw new Error(`e2fsck -p -E journal_only exit ${r.code}: ${reasonFrom(r) || 'no output'}`);
  const out = `${r.stdout}\n${r.stderr}`;
  const orphans = out.match(/Clearing orphaned inode/g)?.length ?? 0;
  const done = [
    /recovering journal/i.test(out) && `${type} journal replayed`,
    orphans > 0 && `${orphans} orphan inode(s) released`,
  ].filter((x): x is string => typeof x === 'string');
  return `${done.length > 0 ? done.join(', ') : 'nothing left to recover'} (e2fsck -p -E journal_only)`;
}

/**
 * When blkid finds no signature, looks for what a damaged primary superblock leaves behind: an ext
 * backup superblock (first one at block 8193 for 1 KiB blocks, else 32768), so the message names the
 * real cause instead of "no file system".
 */
export async function backupSuperblock(device: string): Promise<string | undefined> {
  for (const [block, size] of [
    [32768, 4096],
    [8193, 1024],
    [16384, 2048],
  ] as const) {
    const r = await run('dumpe2fs', ['-h', '-o', `superblock=${block}`, '-o', `blocksize=${size}`, device], {
      timeoutMs: 60_000,
    });
    if (r.code === 0 && /Filesystem magic number:\s+0xEF53/.test(r.stdout)) {
      const features = /^Filesystem features:(.*)$/m.exec(r.stdout)?.[1] ?? '';
      const kind = /\bextent\b/.test(features) ? 'ext4' : /has_journal/.test(features) ? 'ext3' : 'ext2';
      return `the primary superblock is damaged: an intact ${kind} backup superblock is at block ${block} (block size ${size}); e2fsck -b ${block} -B ${size} can repair from it`;
    }
  }
  return undefined;
}

/** The most telling lines of a failing tool: lines that mention a problem, else the tail. */
function reasonFrom(r: ExecResult): string {
  const all = `${r.stderr}\n${r.stdout}`;
  const telling = all
    .split('\n')
    .map((l) => l.trim())
    .filter((l) =>
      /bad|corrupt|error|invalid|wrong|can't|cannot|couldn't|unable|fail|not |superblock|magic|damaged/i.test(
        l,
      ),
    )
    .filter((l) => !/^(no modify flag|would )/i.test(l));
  const text = telling.length > 0 ? telling.slice(0, 3).join(' | ') : tailLines(all, 3);
  return text.length > 400 ? `${text.slice(0, 399)}…` : text;
}

/** The kernel's own reason for a failed mount (mount(8) only says "wrong fs type, bad superblock…"). */
async function kernelReason(device: string): Promise<string | undefined> {
  const name = device.split('/').pop() ?? device;
  const r = await run('dmesg', [], { timeoutMs: 10_000, maxOutput: 64 * 1024 });
  if (r.code !== 0) return undefined;
  const line = r.stdout
    .split('\n')
    .filter((l) => l.includes(`(${name})`) && !/detected capacity change/.test(l))
    .at(-1);
  return line?.replace(/^\[[^\]]*\]\s*/, '').trim() || undefined;
}

/** Whether the running kernel can mount vfat (some minimal kernels ship without the module). */
async function kernelHas(fsType: string): Promise<boolean> {
  try {
    const text = await readFile('/proc/filesystems', 'utf8');
    return text.split('\n').some((l) => l.trim().split(/\s+/).pop() === fsType);
  } catch {
    return false;
  }
}

/** Reads a file system's content, whichever way it was opened. Paths are absolute within the fs. */
export interface FsReader {
  readonly access: 'mount' | 'mtools';
  /** `file`, `dir`, `other`, or undefined when absent. */
  kind(path: string): Promise<'file' | 'dir' | 'other' | undefined>;
  sha256(path: string): Promise<string>;
  /** Regular files and their total bytes below `dir` (recursive, symlinks not followed). */
  tally(dir: string): Promise<{ files: number; bytes: number }>;
  space(): Promise<
    { freeBytes: number; totalBytes: number; freeInodes?: number; totalInodes?: number } | undefined
  >;
}

export interface OpenOutcome {
  readonly reader?: FsReader;
  readonly detail: string;
}

function mountArgs(type: string, device: string, dir: string): [string, string[]] {
  switch (type) {
    case 'ext2':
    case 'ext3':
    case 'ext4':
      return ['mount', ['-t', type, '-o', type === 'ext2' ? 'ro' : 'ro,noload', device, dir]];
    case 'xfs':
      return ['mount', ['-t', 'xfs', '-o', 'ro,norecovery,nouuid', device, dir]];
    case 'btrfs':
      // rescue=nologreplay (kernel ≥ 5.9) replaced the old nologreplay option, which 6.x kernels reject.
      return ['mount', ['-t', 'btrfs', '-o', 'ro,rescue=nologreplay', device, dir]];
    case 'ntfs':
      return ['ntfs-3g', ['-o', 'ro', device, dir]];
    default:
      return ['mount', ['-t', type, '-o', 'ro', device, dir]];
  }
}

/** Mounts read-only (or opens with mtools for vfat without kernel support). Registers the release. */
export async function openFileSystem(
  type: string,
  device: string,
  workDir: string,
  name: string,
  releaser: Releaser,
  timeoutMs: number,
): Promise<OpenOutcome> {
  if (type === 'vfat' && !(await kernelHas('vfat'))) {
    const r = await run('mdir', ['-i', device, '-b', '::/'], { env: MTOOLS_ENV, timeoutMs });
    if (r.code !== 0)
      return {
        detail: `mtools could not read the vfat file system: ${tailLines(r.stderr) || `exit ${r.code}`}`,
      };
    return { reader: mtoolsReader(device, timeoutMs), detail: 'read with mtools (no vfat in this kernel)' };
  }
  const dir = await mkdtemp(join(workDir, `${name}-`));
  const [bin, args] = mountArgs(type, device, dir);
  const r = await run(bin, args, { timeoutMs });
  if (r.code !== 0) {
    releaser.trackDir(dir);
    const kernel = await kernelReason(device);
    const tool = tailLines(`${r.stderr}\n${r.stdout}`, 1).replace(/^mount: [^:]+: /, '');
    return {
      detail: `read-only mount of ${type} failed: ${kernel ? `${kernel} (${tool})` : tool || `exit ${r.code}`}`,
    };
  }
  releaser.trackMount(dir);
  return {
    reader: mountedReader(dir),
    detail: `mounted read-only (${args[args.indexOf('-o') + 1] ?? 'ro'})`,
  };
}

const READ_BUFFER_BYTES = 1 << 20;
const freeBuffers: Buffer[] = [];
const takeBuffer = () => freeBuffers.pop() ?? Buffer.allocUnsafe(READ_BUFFER_BYTES);
const giveBuffer = (b: Buffer) => {
  if (freeBuffers.length < 4) freeBuffers.push(b);
};

/**
 * Resolves `path` as the restored system would see it, with `root` as `/`: every symlink on the way
 * (absolute or relative, also the last one) is read and followed inside `root`, and `..` stops at
 * `root`. The kernel would follow an absolute link such as `/opt/licenses → /usr/share/…` onto the
 * helper's own files, so links are never left to it. Returns a path under `root` with no symlink in
 * it, or undefined when a component is missing.
 */
export async function resolveInside(root: string, path: string): Promise<string | undefined> {
  const todo = path.split('/').filter(Boolean);
  const parts: string[] = [];
  let hops = 0;
  while (todo.length > 0) {
    const c = todo.shift() as string;
    if (c === '.') continue;
    if (c === '..') {
      parts.pop();
      continue;
    }
    const here = join(root, ...parts, c);
    const st = await lstat(here).catch(() => undefined);
    if (!st) return undefined;
    if (!st.isSymbolicLink()) {
      parts.push(c);
      continue;
    }
    if (++hops > 40) throw new Error(`${path}: too many levels of symbolic links`);
    const target = await readlink(here);
    if (target.startsWith('/')) parts.length = 0;
    todo.unshift(...target.split('/').filter(Boolean));
  }
  return join(root, ...parts);
}

async function resolved(root: string, path: string): Promise<string> {
  const real = await resolveInside(root, path);
  if (!real) throw Object.assign(new Error(`${path}: no such file or directory`), { code: 'ENOENT' });
  return real;
}

/**
 * A reader over a mounted directory: symlinks resolve inside the mounted root (an absolute link never
 * reaches the helper's own files), hashing reads 1 MiB at a time. The path-check program reads an
 * NFS/Lustre mount with it too.
 */
export function mountedReader(root: string): FsReader {
  return {
    access: 'mount',
    async kind(path) {
      const real = await resolveInside(root, path);
      const st = real ? await lstat(real).catch(() => undefined) : undefined;
      if (!st) return undefined;
      return st.isFile() ? 'file' : st.isDirectory() ? 'dir' : 'other';
    },
    async sha256(path) {
      // Reused read buffers: hashing hundreds of canaries allocates nothing per chunk, which keeps
      // the program's peak RSS flat (streams allocate a fresh buffer per chunk, collected lazily).
      const buf = takeBuffer();
      // O_NOFOLLOW: the resolved path holds no link, and nothing may turn it into one.
      const fh = await open(await resolved(root, path), constants.O_RDONLY | constants.O_NOFOLLOW);
      try {
        const hash = createHash('sha256');
        for (;;) {
          const { bytesRead } = await fh.read(buf, 0, buf.length, null);
          if (bytesRead === 0) break;
          hash.update(buf.subarray(0, bytesRead));
        }
        return hash.digest('hex');
      } finally {
        await fh.close();
        giveBuffer(buf);
      }
    },
    async tally(dir) {
      let files = 0;
      let bytes = 0;
      // Directories are read a few at a time, each streamed (opendir) with its files stat'ed in
      // batches: fast on 50k-file trees, and memory stays flat even for a directory of millions.
      const walkOne = async (d: string, next: string[]): Promise<void> => {
        const handle = await opendir(d, { bufferSize: 256 });
        let batch: string[] = [];
        const flush = async () => {
          const sizes = await Promise.all(
            batch.map((p) =>
              lstat(p).then(
                (st) => st.size,
                () => 0,
              ),
            ),
          );
          for (const n of sizes) bytes += n;
          batch = [];
        };
        for await (const entry of handle) {
          if (entry.isDirectory()) next.push(join(d, entry.name));
          else if (entry.isFile()) {
            files++;
            batch.push(join(d, entry.name));
            if (batch.length >= 256) await flush();
          }
        }
        await flush();
      };
      let level = [await resolved(root, dir)];
      while (level.length > 0) {
        const next: string[] = [];
        for (let i = 0; i < level.length; i += 4)
          await Promise.all(level.slice(i, i + 4).map((d) => walkOne(d, next)));
        level = next;
      }
      return { files, bytes };
    },
    async space() {
      const s = await statfs(root);
      return {
        freeBytes: s.bavail * s.bsize,
        totalBytes: s.blocks * s.bsize,
        ...(s.files > 0 ? { freeInodes: s.ffree, totalInodes: s.files } : {}),
      };
    },
  };
}

const MTOOLS_ENV = { MTOOLS_SKIP_CHECK: '1', MTOOLS_NO_VFAT: '0' };

function mtoolsReader(device: string, timeoutMs: number): FsReader {
  const m = (cmd: string, args: string[], onStdout?: (c: Buffer) => void) =>
    run(cmd, ['-i', device, ...args], { env: MTOOLS_ENV, timeoutMs, maxOutput: 64 * 1024 * 1024, onStdout });
  return {
    access: 'mtools',
    async kind(path) {
      const r = await m('mdir', ['-b', '-a', `::${path}`]);
      if (r.code !== 0) return undefined;
      const lines = r.stdout.split('\n').filter(Boolean);
      // `mdir -b` on a file prints exactly that file; on a directory it prints the entries in it.
      const target = `::${path}`.toLowerCase();
      return lines.length === 1 && lines[0]?.toLowerCase() === target ? 'file' : 'dir';
    },
    async sha256(path) {
      const hash = createHash('sha256');
      const r = await m('mcopy', ['-n', `::${path}`, '-'], (c) => hash.update(c));
      if (r.code !== 0)
        throw new Error(`mcopy could not read ${path}: ${tailLines(r.stderr) || `exit ${r.code}`}`);
      return hash.digest('hex');
    },
    async tally(dir) {
      const bare = await m('mdir', ['-b', '-a', '-/', `::${dir}`]);
      if (bare.code !== 0) throw new Error(`mdir could not list ${dir}: ${tailLines(bare.stderr)}`);
      const files = bare.stdout.split('\n').filter((l) => l && !l.endsWith('/')).length;
      const long = await m('mdir', ['-a', '-/', `::${dir}`]);
      // The last "N files  X bytes" line is the grand total (directories count 0 bytes).
      const totals = [...long.stdout.matchAll(/^\s*\d[\d ]* files?\s+([\d ]+) bytes\s*$/gm)];
      const bytes = Number((totals.at(-1)?.[1] ?? '0').replace(/\s/g, ''));
      return { files, bytes };
    },
    async space() {
      const r = await m('mdir', ['-a', '::/']);
      const free = /([\d ]+) bytes free/.exec(r.stdout)?.[1];
      const info = await m('minfo', ['::']);
      const sectorSize = Number(/sector size: (\d+)/.exec(info.stdout)?.[1] ?? 512);
      const sectors =
        Number(/big size: (\d+)/.exec(info.stdout)?.[1] ?? 0) ||
        Number(/small size: (\d+)/.exec(info.stdout)?.[1] ?? 0);
      if (free === undefined || !sectors) return undefined;
      return { freeBytes: Number(free.replace(/\s/g, '')), totalBytes: sectors * sectorSize };
    },
  };
}

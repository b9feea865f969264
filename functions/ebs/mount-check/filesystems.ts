/**
 * Per-file-system work: identify (blkid -p), read-only fsck, read-only mount or a user-space reader.
 * The fsck commands are the tools' own no-modify modes; mount options are chosen so the kernel does
 * not replay journals or logs (which would be a write): ext `noload`, xfs `norecovery,nouuid`,
 * btrfs `rescue=nologreplay`.
 */
import { createHash } from 'node:crypto';
import { lstat, mkdtemp, open, opendir, readFile, statfs } from 'node:fs/promises';
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
}

function fsckCommand(type: string, device: string): [string, string[]] | undefined {
  switch (type) {
    case 'ext2':
    case 'ext3':
    case 'ext4':
      return ['e2fsck', ['-f', '-n', device]];
    case 'xfs':
      return ['xfs_repair', ['-n', device]];
    case 'btrfs':
      return ['btrfs', ['check', '--readonly', device]];
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
  if (r.code === 0) return { ok: true, detail: `${label}: clean`, exitCode: 0 };
  return { ok: false, detail: `${label} exit ${r.code}: ${reasonFrom(r) || 'no output'}`, exitCode: r.code };
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

function inside(root: string, path: string): string {
  const clean = path.split('/').filter((s) => s && s !== '.' && s !== '..');
  return join(root, ...clean);
}

function mountedReader(root: string): FsReader {
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
    async sha256(path) {
      // Reused read buffers: hashing hundreds of canaries allocates nothing per chunk, which keeps
      // the program's peak RSS flat (streams allocate a fresh buffer per chunk, collected lazily).
      const buf = takeBuffer();
      const fh = await open(inside(root, path), 'r');
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
      let level = [inside(root, dir)];
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

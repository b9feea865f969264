/**
 * Real disk images for the mount-check tests and the benchmark, built in the test run with the
 * file systems' own tools (run as root: xfs and ntfs are filled through a read-write mount).
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  closeSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';

const sh = (cmd: string, args: string[], env: Record<string, string> = {}) =>
  execFileSync(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } }).toString();

export const CANARY = '/data/canary.bin';
export const CONFIG = '/etc/app.conf';

/** A small tree: /etc/app.conf, /data/file-N.txt, /data/sub/deep.txt and a 64 KiB canary. */
export function makeTree(
  root: string,
  options: { canarySeed?: string; files?: number } = {},
): { canarySha: string; files: number; bytes: number } {
  mkdirSync(join(root, 'etc'), { recursive: true });
  mkdirSync(join(root, 'data', 'sub'), { recursive: true });
  writeFileSync(join(root, 'etc', 'app.conf'), 'port=8080\n');
  const n = options.files ?? 20;
  let bytes = 0;
  for (let i = 0; i < n; i++) {
    const body = `record ${i}\n`.repeat(10);
    writeFileSync(join(root, 'data', `file-${i}.txt`), body);
    bytes += body.length;
  }
  writeFileSync(join(root, 'data', 'sub', 'deep.txt'), 'deep\n');
  bytes += 5;
  const seed = options.canarySeed ?? 'canary';
  const canary = Buffer.alloc(64 * 1024);
  for (let i = 0; i < canary.length; i += 32)
    createHash('sha256').update(`${seed}:${i}`).digest().copy(canary, i);
  writeFileSync(join(root, 'data', 'canary.bin'), canary);
  bytes += canary.length;
  return { canarySha: createHash('sha256').update(canary).digest('hex'), files: n + 2, bytes };
}

/**
 * Attaches `img` to a loop device, mounts it with `mountCmd` on a new folder in `parent`, runs `use`
 * on the mount point, then unmounts, detaches and removes the folder, whatever `use` did.
 */
function withLoopMount(
  img: string,
  parent: string,
  mountCmd: (dev: string, dir: string) => void,
  use: (dir: string) => void,
): void {
  const dir = mkdtempSync(join(parent, 'mnt-'));
  const dev = sh('losetup', ['--find', '--show', img]).trim();
  try {
    mountCmd(dev, dir);
    try {
      use(dir);
    } finally {
      sh('umount', [dir]);
    }
  } finally {
    sh('losetup', ['-d', dev]);
    rmSync(dir, { recursive: true, force: true });
  }
}

function fillThroughMount(img: string, src: string, mountCmd: (dev: string, dir: string) => void) {
  withLoopMount(img, join(src, '..'), mountCmd, (dir) => sh('cp', ['-a', `${src}/.`, dir]));
}

export function ext4Image(img: string, src: string, sizeMiB = 32, features: string[] = []): string {
  sh('mkfs.ext4', ['-q', '-F', ...features.flatMap((f) => ['-O', f]), '-d', src, img, `${sizeMiB}M`]);
  return img;
}

export function xfsImage(img: string, src: string): string {
  // mkfs.xfs refuses file systems under 300 MiB; a sparse file costs only what is written.
  sh('truncate', ['-s', '300M', img]);
  sh('mkfs.xfs', ['-q', '-f', img]);
  fillThroughMount(img, src, (dev, dir) => sh('mount', ['-t', 'xfs', dev, dir]));
  return img;
}

export function btrfsImage(img: string, src: string): string {
  sh('truncate', ['-s', '128M', img]);
  sh('mkfs.btrfs', ['-q', '-f', '--rootdir', src, img]);
  return img;
}

export function vfatImage(img: string, src: string): string {
  rmSync(img, { force: true });
  sh('mkfs.vfat', ['-C', img, String(16 * 1024)]);
  sh('sh', ['-c', `cd "${src}" && mcopy -s -i "${img}" * ::/`], { MTOOLS_SKIP_CHECK: '1' });
  return img;
}

export function ntfsImage(img: string, src: string): string {
  sh('truncate', ['-s', '32M', img]);
  sh('mkfs.ntfs', ['-F', '-Q', '-q', img]);
  fillThroughMount(img, src, (dev, dir) => sh('ntfs-3g', [dev, dir]));
  return img;
}

/** A GPT disk with an ext4 partition (p1) and a vfat partition (p2), both holding `src`. */
export function gptImage(img: string, src: string, work: string): string {
  sh('truncate', ['-s', '100M', img]);
  execFileSync('sfdisk', ['--quiet', img], {
    input: 'label: gpt\nsize=40MiB, type=linux, name=root\nsize=40MiB, type=uefi, name=esp\n',
  });
  const table = JSON.parse(sh('sfdisk', ['--json', img])) as {
    partitiontable: { partitions: { start: number }[] };
  };
  const [p1, p2] = table.partitiontable.partitions;
  const a = ext4Image(join(work, 'gpt-p1.img'), src, 40);
  const b = join(work, 'gpt-p2.img');
  rmSync(b, { force: true });
  sh('mkfs.vfat', ['-C', b, String(40 * 1024)]);
  sh('sh', ['-c', `cd "${src}" && mcopy -s -i "${b}" * ::/`], { MTOOLS_SKIP_CHECK: '1' });
  for (const [part, file] of [
    [p1, a],
    [p2, b],
  ] as const) {
    sh('dd', [
      `if=${file}`,
      `of=${img}`,
      'bs=512',
      `seek=${part?.start ?? 0}`,
      'conv=notrunc,sparse',
      'status=none',
    ]);
  }
  return img;
}

/** Changes bytes of the ext4 primary superblock (block count), keeping its magic so it is still found. */
export function damageExt4Superblock(img: string): void {
  const buf = readFileSync(img);
  buf.writeUInt32LE(0x7fffffff, 1024 + 4);
  writeFileSync(img, buf);
}

/** Sets an incompatible feature bit no kernel knows, so the file system cannot be mounted. */
export function makeUnmountable(img: string): void {
  sh('debugfs', ['-w', '-R', 'feature FEATURE_I30', img]);
}

/** Loop devices whose backing file is under `dir`, and mounts under `dir`: both must be empty after a check. */
export function heldUnder(dir: string): { loops: string[]; mounts: string[] } {
  const loops = sh('losetup', ['-a'])
    .split('\n')
    .filter((l) => l.includes(dir));
  const mounts = readFileSync('/proc/mounts', 'utf8')
    .split('\n')
    .filter((l) => l.includes(dir));
  return { loops, mounts };
}

/** Writes `file` into `img` at byte `offset` (sparse, in place). */
function writeAt(img: string, file: string, offset: number): void {
  sh('dd', [
    `if=${file}`,
    `of=${img}`,
    'bs=1M',
    'oflag=seek_bytes',
    `seek=${offset}`,
    'conv=notrunc,sparse',
    'status=none',
  ]);
}

function partitionStarts(img: string): number[] {
  const t = JSON.parse(sh('sfdisk', ['--json', img])) as {
    partitiontable: { partitions: { start: number }[] };
  };
  return t.partitiontable.partitions.map((p) => p.start * 512);
}

/**
 * An LVM physical volume of 120 MiB (VG `vg`, default `rvtestvg`) with LV `root` (ext4 holding
 * `src`) and LV `data` (ext4 holding `src`). Made with LVM's metadata tools only (`--driverloaded
 * n`): no device-mapper needed. `wipeRoot` zeroes the root LV's first 16 MiB.
 */
export function lvmPhysicalVolume(
  pv: string,
  src: string,
  work: string,
  options: { wipeRoot?: boolean; vg?: string } = {},
): string {
  rmSync(pv, { force: true });
  sh('truncate', ['-s', '120M', pv]);
  const dev = sh('losetup', ['--find', '--show', pv]).trim();
  const config = `devices { use_devicesfile=0 filter=["a|^${dev}$|","r|.*|"] }`;
  const env = { LVM_SUPPRESS_FD_WARNINGS: '1' };
  const vg = options.vg ?? 'rvtestvg';
  try {
    sh('pvcreate', ['-q', '--config', config, dev], env);
    sh('vgcreate', ['-q', '--config', config, vg, dev], env);
    for (const [name, size] of [
      ['root', '40M'],
      ['data', '32M'],
    ] as const)
      sh(
        'lvcreate',
        ['-q', '--driverloaded', 'n', '--config', config, '-an', '-Zn', '-y', '-L', size, '-n', name, vg],
        env,
      );
  } finally {
    sh('losetup', ['-d', dev]);
  }
  // pe_start is 1 MiB and extents are 4 MiB: root at extents 0-9, data at 10-17.
  writeAt(pv, ext4Image(join(work, 'lvm-root.img'), src, 40), 1 << 20);
  writeAt(pv, ext4Image(join(work, 'lvm-data.img'), src, 32), (1 << 20) + 40 * (1 << 20));
  if (options.wipeRoot)
    sh('dd', ['if=/dev/zero', `of=${pv}`, 'bs=1M', 'seek=1', 'count=16', 'conv=notrunc', 'status=none']);
  return pv;
}

/**
 * A GPT disk like a stock Linux install: p1 a clean ext4 /boot, p2 an LVM PV (see
 * lvmPhysicalVolume). `wipeRoot` zeroes the root LV's first 16 MiB.
 */
export function lvmGptImage(
  img: string,
  src: string,
  work: string,
  options: { wipeRoot?: boolean } = {},
): string {
  sh('truncate', ['-s', '160M', img]);
  execFileSync('sfdisk', ['--quiet', img], {
    input: 'label: gpt\nsize=20MiB, type=linux, name=boot\nsize=120MiB, type=lvm, name=pv\n',
  });
  const [p1 = 0, p2 = 0] = partitionStarts(img);
  writeAt(img, ext4Image(join(work, 'lvm-boot.img'), src, 20), p1);
  writeAt(img, lvmPhysicalVolume(join(work, 'lvm-pv.img'), src, work, options), p2);
  return img;
}

/**
 * A member of a two-disk MD RAID 1 (metadata 1.2 superblock at 4 KiB, data from 1 MiB) whose data
 * area holds a clean ext4 with `src`. Written by hand: this kernel has no md driver for mdadm to
 * create an array with. Layout of `struct mdp_superblock_1` as in the kernel's md_p.h.
 */
export function mdMemberImage(img: string, src: string, work: string): string {
  rmSync(img, { force: true });
  sh('truncate', ['-s', '40M', img]);
  writeAt(img, ext4Image(join(work, 'md-data.img'), src, 32), 1 << 20);
  const maxDev = 2;
  const sb = Buffer.alloc(256 + 2 * maxDev);
  sb.writeUInt32LE(0xa92b4efc, 0); // magic
  sb.writeUInt32LE(1, 4); // major_version
  createHash('md5').update(img).digest().copy(sb, 16); // set_uuid
  sb.write('rvtest:0', 32, 'latin1'); // set_name
  sb.writeUInt32LE(1, 72); // level: RAID 1
  sb.writeBigUInt64LE(BigInt(32 * 2048), 80); // size (sectors)
  sb.writeUInt32LE(2, 92); // raid_disks
  sb.writeBigUInt64LE(2048n, 128); // data_offset (sectors)
  sb.writeBigUInt64LE(BigInt(32 * 2048), 136); // data_size
  sb.writeBigUInt64LE(8n, 144); // super_offset (sectors): 4 KiB
  sb.writeUInt32LE(maxDev, 220); // max_dev
  sb.writeUInt16LE(0, 256); // dev_roles[0]: this disk is slot 0
  sb.writeUInt16LE(1, 258);
  let sum = 0n;
  for (let i = 0; i + 4 <= sb.length; i += 4) sum += BigInt(sb.readUInt32LE(i));
  sb.writeUInt32LE(Number(((sum & 0xffffffffn) + (sum >> 32n)) & 0xffffffffn), 216); // sb_csum
  const file = join(work, 'md-sb.bin');
  writeFileSync(file, sb);
  sh('dd', [`if=${file}`, `of=${img}`, 'bs=4096', 'seek=1', 'conv=notrunc', 'status=none']);
  return img;
}

/** A GPT disk whose p1 is a clean ext4 and whose p2 (a Linux data partition) was wiped. */
export function wipedRootImage(img: string, src: string, work: string): string {
  sh('truncate', ['-s', '80M', img]);
  execFileSync('sfdisk', ['--quiet', img], {
    input:
      'label: gpt\nsize=20MiB, type=uefi, name=esp\nsize=20MiB, type=linux, name=root\nsize=1MiB, type=21686148-6449-6E6F-744E-656564454649, name=bios\n',
  });
  const [p1 = 0] = partitionStarts(img);
  writeAt(img, ext4Image(join(work, 'wiped-p1.img'), src, 20), p1);
  return img;
}

/** A LUKS2 container (no key source on the helper). */
export function luksImage(img: string, work: string): string {
  sh('truncate', ['-s', '32M', img]);
  const key = join(work, 'luks.key');
  writeFileSync(key, 'not-a-secret');
  sh('cryptsetup', [
    'luksFormat',
    '--batch-mode',
    '--pbkdf',
    'pbkdf2',
    '--pbkdf-force-iterations',
    '1000',
    '--key-file',
    key,
    img,
  ]);
  return img;
}

/**
 * Mounts `img` read-write, lets `write` change it, then shuts the file system down the way a crash
 * does (`xfs_io -x -c "shutdown -f"`: the log is flushed but never checkpointed, as in an EBS
 * snapshot of a running instance), so the image needs journal/log recovery. `orphans` files are
 * deleted while still open when the crash comes (a running program's temporary files): the
 * file system then also holds orphan inodes.
 */
export function crashAfter(
  img: string,
  type: 'ext4' | 'xfs',
  write: (root: string) => void,
  options: { orphans?: number } = {},
): string {
  const mount = (dev: string, dir: string) =>
    sh('mount', ['-t', type, ...(type === 'xfs' ? ['-o', 'nouuid'] : []), dev, dir]);
  withLoopMount(img, join(img, '..'), mount, (dir) => {
    write(dir);
    withDeletedWhileOpen(dir, options.orphans ?? 0, () => {
      sh('sync', []);
      sh('xfs_io', ['-x', '-c', 'shutdown -f', dir]);
    });
  });
  return img;
}

/**
 * Writes `count` files of 256 KiB in `dir` and deletes them while open, runs `use` while they are
 * orphan inodes, then closes them.
 */
function withDeletedWhileOpen(dir: string, count: number, use: () => void): void {
  const held: number[] = [];
  try {
    for (let i = 0; i < count; i++) {
      const file = join(dir, `orphan-${i}.tmp`);
      writeFileSync(file, Buffer.alloc(256 * 1024, i + 1));
      held.push(openSync(file, 'r'));
      unlinkSync(file);
    }
    use();
  } finally {
    for (const fd of held) closeSync(fd);
  }
}

/**
 * An application-consistent snapshot of `img`: mounted read-write, `orphans` files deleted while
 * still open, then frozen (`fsfreeze`, as snapshot pre-scripts do) and copied to `copy` while
 * frozen. The copy's journal is clean, but its orphan list is not.
 */
export function frozenCopy(img: string, copy: string, orphans: number): string {
  const mount = (dev: string, dir: string) => sh('mount', ['-t', 'ext4', dev, dir]);
  withLoopMount(img, join(img, '..'), mount, (dir) =>
    withDeletedWhileOpen(dir, orphans, () => {
      sh('sync', []);
      sh('fsfreeze', ['-f', dir]);
      try {
        sh('cp', ['--sparse=always', img, copy]);
      } finally {
        sh('fsfreeze', ['-u', dir]);
      }
    }),
  );
  return copy;
}

/** Overwrites MFT record `record` of an NTFS image (4 KiB clusters, MFT at cluster 4: mkfs.ntfs -Q on 32 MiB). */
export function damageMftRecord(img: string, record: number): void {
  const boot = readFileSync(img).subarray(0, 512);
  const cluster = boot.readUInt16LE(11) * (boot[13] ?? 8);
  const mftAt = Number(boot.readBigInt64LE(48)) * cluster;
  const buf = readFileSync(img);
  buf.fill(0x41, mftAt + record * 1024, mftAt + (record + 1) * 1024);
  writeFileSync(img, buf);
}

/** Overwrites 16 bytes inside the first data block holding `needle` (fsck of metadata cannot see it). */
export function corruptData(img: string, needle: Buffer): void {
  const buf = readFileSync(img);
  const at = buf.indexOf(needle);
  if (at < 0) throw new Error('needle not found in the image');
  buf.fill(0, at + 100, at + 116);
  writeFileSync(img, buf);
}

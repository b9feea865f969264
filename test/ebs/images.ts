/**
 * Real disk images for the mount-check tests and the benchmark, built in the test run with the
 * file systems' own tools (run as root: xfs and ntfs are filled through a read-write mount).
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
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

function fillThroughMount(img: string, src: string, mountCmd: (dev: string, dir: string) => void) {
  const dir = mkdtempSync(join(src, '..', 'fill-'));
  const dev = sh('losetup', ['--find', '--show', img]).trim();
  try {
    mountCmd(dev, dir);
    try {
      sh('cp', ['-a', `${src}/.`, dir]);
    } finally {
      sh('umount', [dir]);
    }
  } finally {
    sh('losetup', ['-d', dev]);
    rmSync(dir, { recursive: true, force: true });
  }
}

export function ext4Image(img: string, src: string, sizeMiB = 32): string {
  sh('mkfs.ext4', ['-q', '-F', '-d', src, img, `${sizeMiB}M`]);
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

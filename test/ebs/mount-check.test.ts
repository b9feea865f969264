import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { cliTarget } from '../../functions/ebs/cli';
import { bundleMountCheck } from '../../shared/files/mount-check/bundle';
import {
  type FsCheckSpec,
  type MountCheckResult,
  type ReplayMode,
  runMountCheck,
} from '../../shared/files/mount-check/index';
import { runValidator } from '../../shared/validator';
import { config, contextInput, job } from './context';
import {
  btrfsImage,
  CANARY,
  CONFIG,
  corruptData,
  crashAfter,
  damageExt4Superblock,
  damageMftRecord,
  ext4Image,
  frozenCopy,
  gptImage,
  heldUnder,
  luksImage,
  lvmGptImage,
  lvmPhysicalVolume,
  makeTree,
  makeUnmountable,
  mdMemberImage,
  ntfsImage,
  vfatImage,
  wipedRootImage,
  xfsImage,
} from './images';

let work: string;
let src: string;
let canarySha: string;
const images: Record<string, string> = {};

const profile = (sha = canarySha, extraPaths: string[] = []): FsCheckSpec[] => [
  { kind: 'paths', id: 'app-files', paths: [CONFIG, '/data', ...extraPaths] },
  { kind: 'files', id: 'canaries', files: { [CANARY]: `sha256:${sha}` } },
  { kind: 'directory', id: 'enough-data', directory: { path: '/data', minFiles: 22, minBytes: 65536 } },
  { kind: 'freeSpace', id: 'space', freeSpace: { minFreePercent: 5 } },
];

const status = (r: MountCheckResult) => Object.fromEntries(r.checks.map((c) => [c.id, c.status]));
const item = (r: MountCheckResult, id: string) => r.checks.find((c) => c.id === id);
const check = (device: string, checks = profile(), replay?: ReplayMode) =>
  runMountCheck({ device, checks, workDir: work, toolTimeoutMs: 120_000, ...(replay ? { replay } : {}) });
const sha256 = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'rv-ebs-test-'));
  src = join(work, 'src');
  ({ canarySha } = makeTree(src));
  images.ext4 = ext4Image(join(work, 'ext4.img'), src);
  images.xfs = xfsImage(join(work, 'xfs.img'), src);
  images.btrfs = btrfsImage(join(work, 'btrfs.img'), src);
  images.vfat = vfatImage(join(work, 'vfat.img'), src);
  images.ntfs = ntfsImage(join(work, 'ntfs.img'), src);
  images.gpt = gptImage(join(work, 'gpt.img'), src, work);
}, 240_000);

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

afterEach(() => {
  // Every test, pass or fail: no loop device over our images and no mount under our directory.
  expect(heldUnder(work)).toEqual({ loops: [], mounts: [] });
});

describe('runMountCheck', () => {
  it.each(['ext4', 'xfs', 'btrfs', 'ntfs'])(
    'passes fsck, a read-only mount and every profile check when a %s image is clean',
    async (type) => {
      const r = await check(images[type] ?? '');
      expect(status(r)).toEqual({
        'fsck:disk': 'pass',
        'mount:disk': 'pass',
        'app-files': 'pass',
        canaries: 'pass',
        'enough-data': 'pass',
        space: 'pass',
      });
      expect(r.ok).toBe(true);
      expect(r.released).toBe(true);
      expect(r.filesystems[0]).toMatchObject({ name: 'disk', type, access: 'mount' });
      expect(item(r, 'enough-data')?.data).toMatchObject({ files: 22 });
    },
  );

  it('reads a vfat image with mtools when the kernel cannot mount vfat', async () => {
    const r = await check(images.vfat ?? '');
    expect(r.ok).toBe(true);
    expect(r.filesystems[0]).toMatchObject({ type: 'vfat', access: 'mtools' });
    expect(item(r, 'mount:disk')?.detail).toContain('mtools');
    expect(item(r, 'enough-data')?.data).toMatchObject({ files: 22 });
  });

  it('checks both partitions of a GPT disk', async () => {
    const r = await check(images.gpt ?? '');
    expect(r.partitionTable).toBe('gpt');
    expect(r.filesystems.map((f) => [f.name, f.type])).toEqual([
      ['p1', 'ext4'],
      ['p2', 'vfat'],
    ]);
    expect(status(r)).toMatchObject({
      'fsck:p1': 'pass',
      'mount:p1': 'pass',
      'fsck:p2': 'pass',
      'mount:p2': 'pass',
      canaries: 'pass',
    });
    expect(r.ok).toBe(true);
    expect(r.filesystems[1]?.offsetBytes).toBeGreaterThan(0);
  });

  it('fails fsck and mount with the superblock reason when the superblock is damaged', async () => {
    const img = ext4Image(join(work, 'damaged.img'), src);
    damageExt4Superblock(img);
    const r = await check(img);
    expect(r.ok).toBe(false);
    expect(item(r, 'fsck:disk')?.status).toBe('fail');
    expect(item(r, 'fsck:disk')?.detail).toMatch(
      /e2fsck -f -n exit 4: .*Superblock checksum does not match superblock/,
    );
    expect(item(r, 'mount:disk')?.status).toBe('fail');
    // Nothing could be read, so the profile checks fail too instead of passing on nothing.
    expect(item(r, 'canaries')).toMatchObject({
      status: 'fail',
      detail: 'no file system of the volume could be opened, so this check could not run',
    });
  });

  it('fails the paths check naming the missing path', async () => {
    const r = await check(images.ext4 ?? '', profile(canarySha, ['/etc/missing.conf']));
    expect(item(r, 'app-files')).toMatchObject({
      status: 'fail',
      detail: 'missing on every file system: /etc/missing.conf',
    });
    expect(item(r, 'fsck:disk')?.status).toBe('pass');
    expect(r.ok).toBe(false);
  });

  it('fails the canary check when its content changed though fsck finds nothing', async () => {
    const other = join(work, 'src-changed');
    makeTree(other, { canarySeed: 'tampered' });
    const img = ext4Image(join(work, 'changed.img'), other);
    const r = await check(img);
    expect(item(r, 'fsck:disk')?.status).toBe('pass');
    expect(item(r, 'canaries')?.status).toBe('fail');
    expect(item(r, 'canaries')?.detail).toMatch(
      /^\/data\/canary\.bin content changed \(sha256 [0-9a-f]{12}…, expected [0-9a-f]{12}…\)$/,
    );
  });

  it('fails the mount with the kernel reason when the file system cannot be mounted', async () => {
    const img = ext4Image(join(work, 'unmountable.img'), src);
    makeUnmountable(img);
    const r = await check(img);
    expect(item(r, 'mount:disk')?.status).toBe('fail');
    expect(item(r, 'mount:disk')?.detail).toMatch(
      /^ext4 on the whole device: read-only mount of ext4 failed: /,
    );
    expect(item(r, 'mount:disk')?.detail).toMatch(/feature|wrong fs type/);
    expect(item(r, 'fsck:disk')?.detail).toContain('unsupported feature');
  });

  it('fails when the device holds no file system at all', async () => {
    const img = join(work, 'zeros.img');
    execFileSync('truncate', ['-s', '8M', img]);
    const r = await check(img);
    expect(item(r, 'filesystems')).toMatchObject({ status: 'fail' });
    expect(item(r, 'filesystems')?.detail).toContain('no supported file system found');
    expect(r.ok).toBe(false);
  });

  it('fails the directory check when there are fewer files than required', async () => {
    const r = await check(images.ext4 ?? '', [
      { kind: 'directory', id: 'lots', directory: { path: '/data', minFiles: 1000 } },
    ]);
    expect(item(r, 'lots')?.detail).toBe('/data: 22 files < minFiles 1000');
  });

  it('never writes to the image it checks', async () => {
    const img = images.ext4 ?? '';
    const before = execFileSync('sha256sum', [img]).toString();
    await check(img);
    expect(execFileSync('sha256sum', [img]).toString()).toBe(before);
  });

  it('fails on a path that is not a device or image', async () => {
    const r = await check(join(work, 'nope.img'));
    expect(item(r, 'device')).toMatchObject({ status: 'fail' });
  });
});

describe('runMountCheck on real disk layouts (no false pass)', () => {
  it('fails a wiped Linux partition beside a clean ESP, and skips the BIOS boot partition', async () => {
    const r = await check(wipedRootImage(join(work, 'wiped.img'), src, work));
    expect(item(r, 'fsck:p1')?.status).toBe('pass');
    expect(item(r, 'fs:p2')).toMatchObject({ status: 'fail' });
    expect(item(r, 'fs:p2')?.detail).toMatch(
      /^partition 2: no recognisable file system \(partition type 0fc63daf-.*\): wiped/,
    );
    expect(item(r, 'fs:p3')).toMatchObject({
      status: 'skip',
      detail: 'no file system on partition 3 (BIOS boot partition)',
    });
    expect(r.ok).toBe(false);
  });

  it('passes the wiped partition only when the profile names it unchecked, and fails a name the volume lacks', async () => {
    const img = wipedRootImage(join(work, 'wiped2.img'), src, work);
    const ok = await check(img, [
      ...profile(),
      {
        kind: 'unchecked',
        id: 'scratch',
        unchecked: { partitions: ['p2'], reason: 'scratch space, wiped at boot' },
      },
    ]);
    expect(item(ok, 'fs:p2')?.status).toBe('skip');
    expect(item(ok, 'scratch')).toMatchObject({ status: 'skip' });
    expect(ok.ok).toBe(true);
    const typo = await check(img, [
      ...profile(),
      { kind: 'unchecked', id: 'scratch', unchecked: { partitions: ['p9'], reason: 'typo' } },
    ]);
    expect(item(typo, 'scratch')?.detail).toBe(
      'names p9, which the volume does not have (it has p1, p2, p3)',
    );
    expect(typo.ok).toBe(false);
  });

  it('opens each logical volume of an LVM PV read-only without activating it, and checks them', async () => {
    const img = lvmGptImage(join(work, 'lvm.img'), src, work);
    const before = sha256(img);
    const r = await check(img);
    expect(status(r)).toMatchObject({
      'fsck:p1': 'pass',
      'fs:p2': 'skip',
      'fsck:rvtestvg/data': 'pass',
      'mount:rvtestvg/data': 'pass',
      'fsck:rvtestvg/root': 'pass',
      'mount:rvtestvg/root': 'pass',
      canaries: 'pass',
    });
    expect(r.ok).toBe(true);
    expect(sha256(img)).toBe(before);
  });

  it('fails when the root LV was zeroed even though /boot beside it is clean', async () => {
    const r = await check(lvmGptImage(join(work, 'lvm-wiped.img'), src, work, { wipeRoot: true }));
    expect(item(r, 'fsck:p1')?.status).toBe('pass');
    expect(item(r, 'fsck:rvtestvg/data')?.status).toBe('pass');
    expect(item(r, 'fs:rvtestvg/root')?.status).toBe('fail');
    expect(item(r, 'fs:rvtestvg/root')?.detail).toMatch(
      /^logical volume rvtestvg\/root: no recognisable file system/,
    );
    expect(r.ok).toBe(false);
  });

  it('says a LUKS container is unsupported instead of skipping it', async () => {
    const r = await check(luksImage(join(work, 'luks.img'), work));
    expect(item(r, 'fs:disk')).toMatchObject({
      status: 'fail',
      detail:
        'the whole device: LUKS-encrypted: not supported (the helper has no key source); its content was not checked',
    });
    expect(r.ok).toBe(false);
  });

  it('says an MD RAID member is unsupported instead of checking or skipping it', async () => {
    const img = mdMemberImage(join(work, 'md.img'), src, work);
    const r = await check(img);
    expect(item(r, 'fs:disk')).toMatchObject({
      status: 'fail',
      detail:
        'the whole device: a software RAID member (linux_raid_member): not supported (assembling an array needs every member); its content was not checked',
    });
    expect(r.checks.some((c) => c.id.startsWith('fsck:'))).toBe(false);
    expect(r.ok).toBe(false);
  });

  it('checks each logical volume of a whole-disk PV (no partition table), and fails a zeroed one', async () => {
    const good = await check(lvmPhysicalVolume(join(work, 'pv-disk.img'), src, work));
    expect(good.partitionTable).toBe('none');
    expect(status(good)).toMatchObject({
      'fs:disk': 'skip',
      'fsck:rvtestvg/root': 'pass',
      'mount:rvtestvg/root': 'pass',
      'fsck:rvtestvg/data': 'pass',
      canaries: 'pass',
    });
    expect(good.ok).toBe(true);
    const wiped = await check(
      lvmPhysicalVolume(join(work, 'pv-disk-wiped.img'), src, work, { wipeRoot: true }),
    );
    expect(item(wiped, 'fs:rvtestvg/root')?.status).toBe('fail');
    expect(wiped.ok).toBe(false);
  });

  it("reads the checked volume's own LVM metadata when the machine holds a VG of the same name", async () => {
    // The helper's (or another disk's) VG rvtestvg, whole and clean, beside a restored one whose root LV is zeroed.
    const other = lvmPhysicalVolume(join(work, 'pv-helper.img'), src, work);
    const loop = execFileSync('losetup', ['--find', '--show', '--read-only', other]).toString().trim();
    try {
      const r = await check(lvmPhysicalVolume(join(work, 'pv-restored.img'), src, work, { wipeRoot: true }));
      expect(item(r, 'fs:rvtestvg/root')).toMatchObject({ status: 'fail' });
      expect(item(r, 'fsck:rvtestvg/data')?.status).toBe('pass');
      expect(r.ok).toBe(false);
    } finally {
      execFileSync('losetup', ['-d', loop]);
    }
  });

  it('names a damaged primary superblock when a backup superblock survives', async () => {
    const img = ext4Image(join(work, 'nosb.img'), src);
    const buf = readFileSync(img);
    buf.fill(0, 1024, 2048);
    writeFileSync(img, buf);
    const r = await check(img);
    expect(item(r, 'fs:disk')?.detail).toMatch(
      /^the whole device: the primary superblock is damaged: an intact ext4 backup superblock is at block \d+/,
    );
    expect(r.ok).toBe(false);
  });

  it('fails fsck of an NTFS image whose file record was overwritten, though ntfsfix -n says clean', async () => {
    const img = ntfsImage(join(work, 'ntfs-mft.img'), src);
    const inode = /Dumping Inode (\d+)/.exec(
      execFileSync('ntfsinfo', ['-F', CONFIG, img], { stdio: ['ignore', 'pipe', 'ignore'] }).toString(),
    )?.[1];
    damageMftRecord(img, Number(inode));
    const r = await check(img);
    expect(item(r, 'fsck:disk')?.status).toBe('fail');
    expect(item(r, 'fsck:disk')?.detail).toMatch(
      new RegExp(
        `ntfsfix -n reports clean .* MFT records in use are damaged: record ${inode}: no FILE signature`,
      ),
    );
  });

  it('fails fsck of a btrfs image whose file data no longer matches its checksums', async () => {
    const img = btrfsImage(join(work, 'btrfs-data.img'), src);
    corruptData(img, readFileSync(join(src, 'data', 'canary.bin')).subarray(0, 4096));
    const r = await check(img);
    expect(item(r, 'fsck:disk')?.status).toBe('fail');
    expect(item(r, 'fsck:disk')?.detail).toMatch(/btrfs check --readonly --check-data-csum exit 1: .*csum/);
  });
});

describe('runMountCheck on crash-consistent snapshots', () => {
  const late = (root: string) => {
    mkdirSync(join(root, 'late'), { recursive: true });
    for (let i = 0; i < 50; i++)
      writeFileSync(join(root, 'late', `f${i}.txt`), `written just before the snapshot ${i}\n`);
  };
  const lateCheck: FsCheckSpec = { kind: 'paths', id: 'late', paths: ['/late/f49.txt', CONFIG] };

  it.each(['ext4', 'xfs'] as const)(
    'replays the %s journal on a throwaway copy, records it, then checks (the image is unchanged)',
    async (type) => {
      const base =
        type === 'ext4' ? ext4Image(join(work, 'crash.ext4'), src) : xfsImage(join(work, 'crash.xfs'), src);
      const img = crashAfter(base, type, late);
      const before = sha256(img);
      const r = await check(img, [lateCheck]);
      expect(status(r)).toEqual({
        'replay:disk': 'pass',
        'fsck:disk': 'pass',
        'mount:disk': 'pass',
        late: 'pass',
      });
      expect(item(r, 'replay:disk')?.detail).toContain(
        'on a temporary copy (the image itself is not changed)',
      );
      expect(r.filesystems[0]?.replayed).toMatch(type === 'xfs' ? /XFS log replayed/ : /journal replayed/);
      expect(sha256(img)).toBe(before);
    },
  );

  it('replays an ext4 journal with orphan inodes, which e2fsck -n alone fails, and passes the replayed copy', async () => {
    const img = crashAfter(ext4Image(join(work, 'crash-orphans.ext4'), src), 'ext4', late, { orphans: 3 });
    // The case as found: a no-modify check of the snapshot itself fails (exit 4) on the orphans.
    const raw = spawnSync('e2fsck', ['-f', '-n', img], { encoding: 'utf8' });
    expect(raw.status).toBe(4);
    expect(raw.stdout).toMatch(/orphan/i);
    const r = await check(img, [lateCheck]);
    expect(status(r)).toEqual({
      'replay:disk': 'pass',
      'fsck:disk': 'pass',
      'mount:disk': 'pass',
      late: 'pass',
    });
    expect(r.filesystems[0]?.replayed).toMatch(/ext4 journal replayed/);
  });

  it('releases the orphan inodes of a frozen snapshot (clean journal, e2fsck -n exit 4) and passes it', async () => {
    const img = frozenCopy(ext4Image(join(work, 'frozen.ext4'), src), join(work, 'frozen-copy.ext4'), 2);
    expect(
      execFileSync('dumpe2fs', ['-h', img], { stdio: ['ignore', 'pipe', 'ignore'] }).toString(),
    ).not.toMatch(/needs_recovery/);
    expect(spawnSync('e2fsck', ['-f', '-n', img]).status).toBe(4);
    const before = sha256(img);
    const r = await check(img, [{ kind: 'paths', id: 'conf', paths: [CONFIG] }]);
    expect(status(r)).toEqual({
      'replay:disk': 'pass',
      'fsck:disk': 'pass',
      'mount:disk': 'pass',
      conf: 'pass',
    });
    expect(item(r, 'replay:disk')?.detail).toContain(
      'orphan inodes (files deleted while open) wait to be released',
    );
    expect(r.filesystems[0]?.replayed).toMatch(/^2 orphan inode\(s\) released \(e2fsck -p -E journal_only\)/);
    expect(sha256(img)).toBe(before);
  });

  it('releases the orphan file of a frozen ext4 made with the orphan_file feature and passes it', async () => {
    const base = ext4Image(join(work, 'frozen-of.ext4'), src, 32, ['orphan_file']);
    const img = frozenCopy(base, join(work, 'frozen-of-copy.ext4'), 2);
    expect(spawnSync('e2fsck', ['-f', '-n', img]).status).toBe(4);
    const r = await check(img, [{ kind: 'paths', id: 'conf', paths: [CONFIG] }]);
    expect(status(r)).toEqual({
      'replay:disk': 'pass',
      'fsck:disk': 'pass',
      'mount:disk': 'pass',
      conf: 'pass',
    });
    expect(item(r, 'replay:disk')?.detail).toContain(
      'orphan inodes (files deleted while open) wait to be released',
    );
    expect(r.filesystems[0]?.replayed).toMatch(/^orphan file released \(read-write mount and unmount\)/);
  });

  it("replays in place on the volume itself in the helper's mode (the restored volume is a throwaway copy)", async () => {
    const img = crashAfter(xfsImage(join(work, 'crash-inplace.xfs'), src), 'xfs', late);
    expect(spawnSync('xfs_repair', ['-n', img]).status).toBe(1);
    const r = await check(img, [lateCheck], 'in-place');
    expect(status(r)).toEqual({
      'replay:disk': 'pass',
      'fsck:disk': 'pass',
      'mount:disk': 'pass',
      late: 'pass',
    });
    expect(item(r, 'replay:disk')?.detail).toContain('on the restored volume (a throwaway copy)');
    // The log was replayed on the volume itself: it no longer needs recovery.
    expect(spawnSync('xfs_repair', ['-n', img]).status).toBe(0);
  });

  it('fails naming the unreplayed log when replay is off', async () => {
    const img = crashAfter(xfsImage(join(work, 'crash-off.xfs'), src), 'xfs', late);
    const r = await check(img, [lateCheck], 'off');
    expect(item(r, 'replay:disk')?.status).toBe('fail');
    expect(item(r, 'fsck:disk')?.detail).toContain('the log holds metadata changes that were not replayed');
    expect(r.ok).toBe(false);
  });
});

describe('mount-check on symlinks inside the restored file system', () => {
  let img: string;
  beforeAll(() => {
    const tree = join(work, 'src-links');
    makeTree(tree);
    mkdirSync(join(tree, 'opt'), { recursive: true });
    mkdirSync(join(tree, 'usr', 'share', 'app'), { recursive: true });
    writeFileSync(join(tree, 'usr', 'share', 'app', 'real.txt'), 'inside the image\n');
    // Absolute links as on the source system: they must resolve inside the image, never on the helper.
    symlinkSync('/usr/share/common-licenses', join(tree, 'opt', 'licenses'));
    symlinkSync('/usr/share/app', join(tree, 'opt', 'app'));
    symlinkSync('../../../../../../etc', join(tree, 'data', 'up'));
    img = ext4Image(join(work, 'links.img'), tree);
  });

  it("fails a files check that an absolute link would satisfy with the helper's own file", async () => {
    const host = '/usr/share/common-licenses/Apache-2.0';
    const r = await check(img, [
      { kind: 'files', id: 'lic', files: { '/opt/licenses/Apache-2.0': `sha256:${sha256(host)}` } },
      { kind: 'paths', id: 'lic-dir', paths: ['/opt/licenses'] },
    ]);
    expect(item(r, 'lic')).toMatchObject({ status: 'fail', detail: '/opt/licenses/Apache-2.0 missing' });
    expect(item(r, 'lic-dir')).toMatchObject({
      status: 'fail',
      detail: 'missing on every file system: /opt/licenses',
    });
  });

  it('follows absolute and escaping relative links inside the image', async () => {
    const r = await check(img, [
      {
        kind: 'files',
        id: 'app',
        files: {
          '/opt/app/real.txt': `sha256:${createHash('sha256').update('inside the image\n').digest('hex')}`,
        },
      },
      {
        kind: 'files',
        id: 'conf',
        files: { '/data/up/app.conf': `sha256:${createHash('sha256').update('port=8080\n').digest('hex')}` },
      },
      { kind: 'directory', id: 'dir', directory: { path: '/opt/app', minFiles: 1 } },
    ]);
    expect(status(r)).toMatchObject({ app: 'pass', conf: 'pass', dir: 'pass' });
  });
});

describe('mount-check bundle', () => {
  it('runs with plain node and prints one JSON result when given an image and base64 checks', async () => {
    const out = join(work, 'bundle', 'mount-check.cjs');
    mkdirSync(join(work, 'bundle'), { recursive: true });
    await bundleMountCheck(out);
    const checks = Buffer.from(JSON.stringify(profile())).toString('base64');
    const stdout = execFileSync('node', [
      out,
      '--device',
      images.btrfs ?? '',
      '--checks-base64',
      checks,
    ]).toString();
    const lines = stdout.trim().split('\n');
    expect(lines).toHaveLength(1);
    const result = JSON.parse(lines[0] ?? '{}') as MountCheckResult;
    expect(result.ok).toBe(true);
    expect(result.filesystems[0]?.type).toBe('btrfs');
  });

  it('exits 1 with a failing result and 2 on usage errors', async () => {
    const out = join(work, 'bundle', 'mount-check.cjs');
    await bundleMountCheck(out);
    const file = join(work, 'checks.json');
    writeFileSync(file, JSON.stringify([{ kind: 'paths', id: 'x', paths: ['/absent'] }]));
    let code = 0;
    try {
      execFileSync('node', [out, '--device', images.ext4 ?? '', '--checks-file', file], { stdio: 'pipe' });
    } catch (err) {
      code = (err as { status: number }).status;
    }
    expect(code).toBe(1);
    try {
      execFileSync('node', [out], { stdio: 'pipe' });
    } catch (err) {
      code = (err as { status: number }).status;
    }
    expect(code).toBe(2);
  });
});

describe('check ebs (local mode)', () => {
  const runLocal = (device: string, checks: unknown[]) =>
    runValidator(
      cliTarget.validator,
      contextInput({
        job: job({ type: 'EBS', local: true }),
        config: config(checks),
        mode: 'local',
        target: { device },
      }),
    );

  it('gives SUCCESSFUL with fsck, mount and profile checks when the image is clean', async () => {
    const r = await runLocal(images.xfs ?? '', [
      { id: 'app', paths: [CONFIG] },
      { id: 'canary', files: { [CANARY]: `sha256:${canarySha}` } },
    ]);
    expect(r.verdict.verdict).toBe('SUCCESSFUL');
    expect(r.results.map((x) => x.id)).toEqual(['fsck:disk', 'mount:disk', 'app', 'canary']);
    expect(r.notes.partitionTable).toBe('none');
  });

  it('gives FAILED naming the canary when its content differs', async () => {
    const r = await runLocal(images.ext4 ?? '', [
      { id: 'canary', files: { [CANARY]: `sha256:${'a'.repeat(64)}` } },
    ]);
    expect(r.verdict.verdict).toBe('FAILED');
    expect(r.verdict.message).toMatch(/canary failed: \/data\/canary\.bin content changed/);
  });

  it('declares --device as its one required flag', () => {
    expect(cliTarget).toMatchObject({ type: 'ebs', resourceType: 'EBS' });
    expect(cliTarget.options).toEqual([
      expect.objectContaining({ flags: '--device <path>', required: true }),
    ]);
  });
});

describe('mount-check program on SIGTERM', () => {
  it('releases its loop devices before exiting when SSM cancels it mid-fsck', async () => {
    const out = join(work, 'bundle', 'mount-check.cjs');
    mkdirSync(join(work, 'bundle'), { recursive: true });
    await bundleMountCheck(out);
    // A stand-in e2fsck that hangs, so the signal arrives while the device is attached.
    const fakeBin = join(work, 'fake-bin');
    mkdirSync(fakeBin, { recursive: true });
    writeFileSync(join(fakeBin, 'e2fsck'), '#!/bin/sh\nexec sleep 31.7\n', { mode: 0o755 });
    const { spawn } = await import('node:child_process');
    const child = spawn('node', [out, '--device', images.ext4 ?? '', '--checks-json', '[]'], {
      env: { ...process.env, PATH: `${fakeBin}:${process.env.PATH}` },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    child.stdout.on('data', (c: Buffer) => {
      stdout += c.toString();
    });
    const until = Date.now() + 20_000;
    const fsckRunning = () =>
      execFileSync('sh', ['-c', 'pgrep -f "slee[p] 31.7" || true']).toString().trim() !== '';
    while (!fsckRunning() && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
    expect(heldUnder(work).loops.length).toBeGreaterThan(0);
    child.kill('SIGTERM');
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(code).toBe(1);
    expect(JSON.parse(stdout.trim())).toMatchObject({ ok: false, aborted: 'SIGTERM' });
    // The hanging checker was killed too, not left holding the device.
    expect(execFileSync('sh', ['-c', `pgrep -f "slee[p] 31.7" || true`]).toString().trim()).toBe('');
    // afterEach asserts no loop device or mount of ours is left.
  });
});

/**
 * Benchmark: the mount-check program on an ext4 image of EBS_BENCH_SIZE_MIB (default 2 GiB) holding
 * EBS_BENCH_FILES (default 50,000) files and EBS_BENCH_CANARIES (default 200) SHA-256 canaries of
 * 1 MiB, run exactly as on the helper (the esbuild bundle under plain `node`), beside the baseline
 * measured in the same run on the same image: `e2fsck -fn` plus `sha256sum` of the same canaries
 * (through a read-only loop mount, which is what reading them needs).
 * Target: mount check ≤ 1.3 × baseline; peak RSS of the program < 100 MB. Needs root (loop devices).
 * Run: `npx tsx bench/ebs.ts`.
 *
 * Two mount-check profiles are timed: "like-for-like" (fsck + mount + the 200 canaries: the work the
 * baseline does) and "full" (adds a directory check walking all files, paths and free space).
 * Each variant runs warm (the image in the page cache) and the best of three runs counts.
 */

import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bundleMountCheck } from '../shared/files/mount-check/bundle';
import type { FsCheckSpec, MountCheckResult } from '../shared/files/mount-check/types';
import { judge } from './_targets';

const SIZE_MIB = Number(process.env.EBS_BENCH_SIZE_MIB ?? 2048);
const FILES = Number(process.env.EBS_BENCH_FILES ?? 50_000);
const CANARIES = Number(process.env.EBS_BENCH_CANARIES ?? 200);
const FILE_BYTES = 16 * 1024;
const CANARY_BYTES = 1024 * 1024;
const TARGET_RATIO = 1.3;
const TARGET_RSS_MB = 100;
const RUNS = 3;

const secs = (ms: number) => `${(ms / 1000).toFixed(2)} s`;

function buildImage(work: string): { img: string; canaries: Record<string, string>; buildMs: number } {
  const t0 = performance.now();
  const src = join(work, 'src');
  const block = Buffer.alloc(FILE_BYTES);
  for (let d = 0; d < Math.ceil(FILES / 1000); d++) {
    const dir = join(src, 'data', `d${String(d).padStart(3, '0')}`);
    mkdirSync(dir, { recursive: true });
    for (let i = d * 1000; i < Math.min(FILES, (d + 1) * 1000); i++) {
      block.writeUInt32LE(i, 0);
      writeFileSync(join(dir, `f${i}.bin`), block);
    }
  }
  mkdirSync(join(src, 'canaries'), { recursive: true });
  const canaries: Record<string, string> = {};
  const buf = Buffer.alloc(CANARY_BYTES);
  for (let c = 0; c < CANARIES; c++) {
    for (let o = 0; o < buf.length; o += 32) createHash('sha256').update(`${c}:${o}`).digest().copy(buf, o);
    writeFileSync(join(src, 'canaries', `c${c}.bin`), buf);
    canaries[`/canaries/c${c}.bin`] = `sha256:${createHash('sha256').update(buf).digest('hex')}`;
  }
  const img = join(work, 'bench.img');
  execFileSync('mkfs.ext4', ['-q', '-F', '-d', src, img, `${SIZE_MIB}M`]);
  rmSync(src, { recursive: true, force: true });
  return { img, canaries, buildMs: performance.now() - t0 };
}

function runProgram(
  bundle: string,
  preload: string,
  img: string,
  checks: FsCheckSpec[],
): { ms: number; rssMb: number; result: MountCheckResult } {
  const t0 = performance.now();
  const r = spawnSync(
    'node',
    [
      '--require',
      preload,
      bundle,
      '--device',
      img,
      '--checks-base64',
      Buffer.from(JSON.stringify(checks)).toString('base64'),
    ],
    {
      maxBuffer: 64 * 1024 * 1024,
    },
  );
  const ms = performance.now() - t0;
  const rss = Number(/MAXRSS (\d+)/.exec(r.stderr.toString())?.[1] ?? Number.NaN);
  return { ms, rssMb: rss / 1024, result: JSON.parse(r.stdout.toString()) as MountCheckResult };
}

function runBaseline(img: string, work: string, canaries: Record<string, string>): number {
  const t0 = performance.now();
  const dev = execFileSync('losetup', ['--find', '--show', '--read-only', img]).toString().trim();
  const mnt = mkdtempSync(join(work, 'mnt-'));
  try {
    const fsck = spawnSync('e2fsck', ['-fn', dev]);
    if (fsck.status !== 0) throw new Error(`baseline e2fsck failed: ${fsck.stderr}`);
    execFileSync('mount', ['-o', 'ro,noload', dev, mnt]);
    try {
      const out = execFileSync(
        'sha256sum',
        Object.keys(canaries).map((p) => join(mnt, p)),
        { maxBuffer: 16 * 1024 * 1024 },
      ).toString();
      if (out.trim().split('\n').length !== CANARIES)
        throw new Error('baseline sha256sum hashed the wrong number of files');
    } finally {
      execFileSync('umount', [mnt]);
    }
  } finally {
    execFileSync('losetup', ['-d', dev]);
    rmSync(mnt, { recursive: true, force: true });
  }
  return performance.now() - t0;
}

export default async function bench(): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), 'rv-bench-ebs-'));
  try {
    process.stdout.write(
      `building a ${SIZE_MIB} MiB ext4 image with ${FILES} files and ${CANARIES} canaries of 1 MiB…\n`,
    );
    const { img, canaries, buildMs } = buildImage(work);
    process.stdout.write(`image built in ${secs(buildMs)}\n`);
    const bundle = join(work, 'mount-check.cjs');
    await bundleMountCheck(bundle);
    const preload = join(work, 'rss.cjs');
    writeFileSync(
      preload,
      "process.on('exit', () => process.stderr.write('MAXRSS ' + process.resourceUsage().maxRSS + '\\n'));\n",
    );

    const likeForLike: FsCheckSpec[] = [{ kind: 'files', id: 'canaries', files: canaries }];
    const full: FsCheckSpec[] = [
      ...likeForLike,
      { kind: 'paths', id: 'paths', paths: ['/data', '/canaries'] },
      {
        kind: 'directory',
        id: 'all-files',
        directory: { path: '/data', minFiles: FILES, minBytes: FILES * FILE_BYTES },
      },
      { kind: 'freeSpace', id: 'space', freeSpace: { minFreePercent: 5, minFreeInodesPercent: 5 } },
    ];

    runBaseline(img, work, canaries); // warm the page cache for every variant alike
    const base: number[] = [];
    const lfl: { ms: number; rssMb: number }[] = [];
    const fl: { ms: number; rssMb: number }[] = [];
    for (let i = 0; i < RUNS; i++) {
      base.push(runBaseline(img, work, canaries));
      const a = runProgram(bundle, preload, img, likeForLike);
      if (!a.result.ok)
        throw new Error(
          `mount check failed: ${JSON.stringify(a.result.checks.filter((c) => c.status !== 'pass'))}`,
        );
      lfl.push(a);
      const b = runProgram(bundle, preload, img, full);
      if (!b.result.ok)
        throw new Error(
          `full mount check failed: ${JSON.stringify(b.result.checks.filter((c) => c.status !== 'pass'))}`,
        );
      fl.push(b);
    }
    const best = (xs: number[]) => Math.min(...xs);
    const baseMs = best(base);
    const lflMs = best(lfl.map((x) => x.ms));
    const flMs = best(fl.map((x) => x.ms));
    const rss = Math.max(...lfl.map((x) => x.rssMb), ...fl.map((x) => x.rssMb));
    const line = (name: string, ms: number) => {
      process.stdout.write(`${name.padEnd(44)} ${secs(ms).padStart(9)}\n`);
      judge(`ebs/${name} vs baseline`, ms / baseMs, '≤', TARGET_RATIO, '×');
    };
    process.stdout.write(
      `baseline: e2fsck -fn + mount + sha256sum ×${CANARIES}  ${secs(baseMs).padStart(9)}\n`,
    );
    line('mount check, like-for-like (fsck+mount+hashes)', lflMs);
    line(`mount check, full profile (+walk ${FILES} files)`, flMs);
    judge('ebs/peak RSS of the mount-check program', rss, '<', TARGET_RSS_MB, 'MB');
    process.stdout.write(
      `peak RSS by run: like-for-like ${Math.max(...lfl.map((x) => x.rssMb)).toFixed(1)} MB, full ${Math.max(...fl.map((x) => x.rssMb)).toFixed(1)} MB)\n`,
    );
    process.stdout.write(
      `runs: baseline ${base.map(secs).join(', ')}; like-for-like ${lfl.map((x) => secs(x.ms)).join(', ')}; full ${fl.map((x) => secs(x.ms)).join(', ')}\n`,
    );
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  await bench();
}

/**
 * The mount check's input (the profile's file-system checks) and its one JSON result. Plain types
 * with no runtime dependencies, so the standalone bundle shipped to the helper stays small.
 */

/** A file-system check from the profile, as parsed by shared/files/kinds.ts. */
export type FsCheckSpec =
  | { readonly kind: 'paths'; readonly id: string; readonly paths: readonly string[] }
  | { readonly kind: 'files'; readonly id: string; readonly files: Readonly<Record<string, string>> }
  | {
      readonly kind: 'directory';
      readonly id: string;
      readonly directory: { readonly path: string; readonly minFiles?: number; readonly minBytes?: number };
    }
  | {
      readonly kind: 'freeSpace';
      readonly id: string;
      readonly freeSpace: { readonly minFreePercent?: number; readonly minFreeInodesPercent?: number };
    }
  | {
      /** Partitions (or LVs) the profile knowingly leaves unchecked; any other unreadable one fails. */
      readonly kind: 'unchecked';
      readonly id: string;
      readonly unchecked: { readonly partitions: readonly string[]; readonly reason: string };
    };

export const FS_CHECK_KINDS = ['paths', 'files', 'directory', 'freeSpace', 'unchecked'] as const;

/**
 * What to do with a file system whose journal or log needs recovery (a crash-consistent snapshot of
 * a running instance): `in-place` replays on the device itself (the helper: the restored volume is a
 * throwaway copy), `copy` replays on a temporary sparse copy of an image file (local `check ebs`; the
 * image is never changed), `off` reports it without replaying.
 */
export type ReplayMode = 'in-place' | 'copy' | 'off';
export const REPLAY_MODES = ['in-place', 'copy', 'off'] as const;

export interface MountCheckRequest {
  /** Block device (`/dev/nvme1n1`, `/dev/xvdf`) or image file. */
  readonly device: string;
  readonly checks: readonly FsCheckSpec[];
  /** Where mount points are created. Default: a fresh directory under the OS temp dir. */
  readonly workDir?: string;
  /** Per-tool timeout (fsck on a large volume can take minutes). Default 30 min. */
  readonly toolTimeoutMs?: number;
  /** Journal/log replay before the check. @default 'copy' */
  readonly replay?: ReplayMode;
}

export type MountCheckStatus = 'pass' | 'fail' | 'skip' | 'error';

export interface MountCheckItem {
  readonly id: string;
  readonly status: MountCheckStatus;
  readonly detail: string;
  readonly data?: Record<string, unknown>;
  readonly durationMs: number;
}

export interface FileSystemReport {
  /** `disk` for a file system on the whole device, `p1`, `p2`… for partitions, `<vg>/<lv>` for LVM. */
  readonly name: string;
  readonly offsetBytes: number;
  readonly sizeBytes: number;
  /** blkid TYPE (`ext4`, `xfs`, `btrfs`, `vfat`, `ntfs`), or undefined when none was found. */
  readonly type?: string;
  readonly label?: string;
  readonly uuid?: string;
  /** How its content was read: a read-only kernel/FUSE mount, mtools, or not at all. */
  readonly access: 'mount' | 'mtools' | 'none';
  /** Set when the journal/log was replayed before the check: how, and on what. */
  readonly replayed?: string;
  readonly freeBytes?: number;
  readonly totalBytes?: number;
  readonly freeInodes?: number;
  readonly totalInodes?: number;
}

export interface MountCheckResult {
  readonly version: 1;
  readonly device: string;
  /** True when every item passed or was skipped. */
  readonly ok: boolean;
  readonly partitionTable: 'gpt' | 'dos' | 'none';
  readonly filesystems: readonly FileSystemReport[];
  /** Built-in items (`fsck:p1`, `mount:p1`, `filesystems`) first, then the profile's checks by id. */
  readonly checks: readonly MountCheckItem[];
  /** True when every loop device and mount the check created was released. */
  readonly released: boolean;
  /** What could not be released (a loop device or mount point), for the operator. */
  readonly leaks?: readonly string[];
  readonly durationMs: number;
}

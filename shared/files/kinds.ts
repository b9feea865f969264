import * as z from 'zod';
import {
  type CheckConfig,
  type CheckKind,
  type CheckOptions,
  checkBase,
  defineCheckKind,
} from '../config/kinds/registry';

/** Run by the mount-check program (EBS, EFS, FSx helpers and `check ebs`). */
const FS_TYPES = ['EBS', 'EFS', 'FSx'] as const;
const absPath = z.string().regex(/^\//, 'must be an absolute path inside the file system');

export const pathsKind = defineCheckKind({
  key: 'paths',
  resourceTypes: FS_TYPES,
  summary: 'paths that must exist on a file system of the volume',
  schema: z.strictObject({ ...checkBase, paths: z.array(absPath).min(1) }),
});

export const filesKind = defineCheckKind({
  key: 'files',
  resourceTypes: FS_TYPES,
  summary: 'files whose SHA-256 must match',
  schema: z.strictObject({
    ...checkBase,
    files: z
      .record(
        absPath,
        z.string().regex(/^sha256:[0-9a-f]{64}$/, 'expected "sha256:<64 lower-case hex digits>"'),
      )
      .refine((f) => Object.keys(f).length > 0, {
        message: 'files is empty, so the check would pass while checking nothing: name at least one file',
      }),
  }),
});

export const directoryKind = defineCheckKind({
  key: 'directory',
  resourceTypes: FS_TYPES,
  summary: 'minimum file count and bytes under a directory',
  schema: z.strictObject({
    ...checkBase,
    directory: z
      .strictObject({
        path: absPath,
        minFiles: z.number().int().min(0).optional(),
        minBytes: z.number().int().min(0).optional(),
      })
      .refine((d) => d.minFiles !== undefined || d.minBytes !== undefined, {
        message: 'give minFiles, minBytes or both',
      }),
  }),
});

export const freeSpaceKind = defineCheckKind({
  key: 'freeSpace',
  resourceTypes: FS_TYPES,
  summary: 'free space and inode sanity on each mounted file system',
  schema: z.strictObject({
    ...checkBase,
    freeSpace: z
      .strictObject({
        minFreePercent: z.number().min(0).max(100).optional(),
        minFreeInodesPercent: z.number().min(0).max(100).optional(),
      })
      .refine((f) => f.minFreePercent !== undefined || f.minFreeInodesPercent !== undefined, {
        message: 'give minFreePercent, minFreeInodesPercent or both (an empty freeSpace checks nothing)',
      }),
  }),
});

export const uncheckedKind = defineCheckKind({
  key: 'unchecked',
  resourceTypes: ['EBS'],
  summary:
    'partitions or LVs (p3, vg/lv) knowingly left unchecked; any other one without a readable file system fails',
  schema: z.strictObject({
    ...checkBase,
    unchecked: z.strictObject({
      partitions: z
        .array(
          z
            .string()
            .regex(/^(disk|p\d+|[A-Za-z0-9+_.-]+\/[A-Za-z0-9+_.-]+)$/, 'expected disk, p<N> or <vg>/<lv>'),
        )
        .min(1),
      reason: z.string().min(1, 'say why it is safe to leave unchecked'),
    }),
  }),
});

type Parsed<K extends CheckKind, Key extends string> = CheckOptions<K> & { readonly kind: Key };

/**
 * A file-system check as its kind's schema parses it. The programs declare their input by hand
 * (FsCheckSpec in mount-check/types.ts, so their bundle carries no schema code); the compiler checks
 * that this type fits it wherever a profile's checks are handed to them.
 */
export type ParsedFsCheck =
  | Parsed<typeof pathsKind, 'paths'>
  | Parsed<typeof filesKind, 'files'>
  | Parsed<typeof directoryKind, 'directory'>
  | Parsed<typeof freeSpaceKind, 'freeSpace'>
  | Parsed<typeof uncheckedKind, 'unchecked'>;

/** A filter for a profile's checks of these kinds, typed as their schemas parsed them. */
export const fsChecksOfKinds =
  <K extends ParsedFsCheck['kind']>(kinds: readonly K[]) =>
  (c: CheckConfig): c is CheckConfig & Extract<ParsedFsCheck, { readonly kind: K }> =>
    (kinds as readonly string[]).includes(c.kind);

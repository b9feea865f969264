/**
 * The sweep of EFS mount targets left behind. The EFS validator creates a mount target on the
 * restored file system for its content checks and deletes it when done (shared/files/content.ts);
 * a Lambda killed at its timeout cannot, and AWS Backup then cannot delete the restored file system.
 * Each reconciler pass (beside the temporary DB instance sweep) deletes the mount targets of
 * restore-test file systems (named `awsbackup-restore-test-…` / tagged `awsbackup-restore-test`, the
 * validators' guard) that are older than `maxAgeMinutes`: a restored file system comes with no mount
 * target of its own, and no validator runs longer than its 15-minute Lambda. Mount targets carry no
 * creation time, so the file system's age decides; a validation that happened to run at that moment
 * sees its mount target vanish and ends FAILED (never a pass).
 * @see https://docs.aws.amazon.com/efs/latest/ug/API_DeleteMountTarget.html
 */
import {
  DeleteMountTargetCommand,
  DescribeMountTargetsCommand,
  type EFSClient,
  type FileSystemDescription,
  paginateDescribeFileSystems,
} from '@aws-sdk/client-efs';
import { reasonOf } from '../errors';
import { isRestoreTestResource } from '../guard';
import { withRetry } from '../retry';

export interface SweptMountTarget {
  readonly fileSystemId: string;
  readonly mountTargetId?: string;
  readonly action: 'deleted' | 'kept' | 'error';
  readonly reason: string;
}

/** One pass. Never throws for one file system: each outcome is in the result. */
export async function sweepMountTargets(deps: {
  readonly efs: EFSClient;
  readonly now: Date;
  /** @default 60 */
  readonly maxAgeMinutes?: number;
}): Promise<SweptMountTarget[]> {
  const maxAgeMs = (deps.maxAgeMinutes ?? 60) * 60_000;
  const out: SweptMountTarget[] = [];
  const fileSystems: FileSystemDescription[] = [];
  for await (const page of paginateDescribeFileSystems({ client: deps.efs }, {}))
    fileSystems.push(...(page.FileSystems ?? []));
  for (const fs of fileSystems) {
    const fileSystemId = fs.FileSystemId ?? '';
    // Only restore-test file systems, by the same guard the validators use; nothing else is looked at.
    if (!isRestoreTestResource(fs.Name ?? fileSystemId, fs.Tags)) continue;
    if (!fs.NumberOfMountTargets) continue;
    const ageMs = fs.CreationTime ? deps.now.getTime() - new Date(fs.CreationTime).getTime() : 0;
    if (ageMs <= maxAgeMs) {
      out.push({
        fileSystemId,
        action: 'kept',
        reason: `restored ${Math.round(ageMs / 60_000)} minutes ago: a validation may still use its mount target`,
      });
      continue;
    }
    try {
      const mts = await withRetry(() =>
        deps.efs.send(new DescribeMountTargetsCommand({ FileSystemId: fileSystemId })),
      );
      for (const mt of mts.MountTargets ?? []) {
        if (mt.LifeCycleState === 'deleting' || mt.LifeCycleState === 'deleted') continue;
        try {
          await withRetry(() =>
            deps.efs.send(new DeleteMountTargetCommand({ MountTargetId: mt.MountTargetId })),
          );
          out.push({
            fileSystemId,
            mountTargetId: mt.MountTargetId,
            action: 'deleted',
            reason: `left on a restore-test file system restored ${Math.round(ageMs / 60_000)} minutes ago`,
          });
        } catch (err) {
          out.push({ fileSystemId, mountTargetId: mt.MountTargetId, action: 'error', reason: reasonOf(err) });
        }
      }
    } catch (err) {
      out.push({ fileSystemId, action: 'error', reason: reasonOf(err) });
    }
  }
  return out;
}

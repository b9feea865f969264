/**
 * The file system validators' settings (EFS and FSx content checks through the file system helper),
 * declared once (the construct sets them for those two types; shared/env.ts reads them).
 */
import { defineSettings, setting } from '../env';

export const fileSystemSettings = defineSettings({
  /** The helper instance content checks run on (a profile's `helperInstanceId` wins). */
  helperInstanceId: 'FILESYSTEM_HELPER_INSTANCE_ID',
  /** Security group of the mount target created for the helper (a profile's list wins). */
  mountTargetSecurityGroupId: 'FILESYSTEM_MOUNT_TARGET_SECURITY_GROUP_ID',
  /** The bundled path-check program; default path-check.cjs beside the function's code. */
  pathCheckFile: 'PATH_CHECK_FILE',
  taskRoot: setting.text('LAMBDA_TASK_ROOT', '.'),
});
export type FileSystemSettings = ReturnType<typeof fileSystemSettings>;

/**
 * What the EFS and FSx validators need for their content checks (`paths`, `files`, `directory`,
 * `freeSpace`): the path-check program shipped next to the handler, the operator's helper instance
 * in their environment, and the IAM to create a temporary mount target (EFS) and run the program on
 * the helper through SSM Run Command. See shared/files/content.ts and docs/other-types.md.
 */
import { Aws, Token } from 'aws-cdk-lib';
import { RESOURCE_TYPE_MODULES } from '../../functions/types';
import { RESTORE_TEST_PREFIX, RESTORE_TEST_TAG } from '../../shared/guard';
import { VALIDATOR_TYPES, type ValidatorType } from '../../shared/resource-types';
import type { AllowSpec } from '../core';

/** The operator's helper instance for EFS/FSx content checks. */
export interface FileSystemHelperSettings {
  /**
   * SSM-managed Linux instance in the file systems' VPC that mounts them read-only and runs the
   * path-check program (`FILESYSTEM_HELPER_INSTANCE_ID`). The validators may send commands to this
   * instance only: a profile's `options.helperInstanceId` naming another instance is denied.
   */
  readonly instanceId: string;
  /**
   * Security group for the temporary EFS mount target; it must admit NFS (2049) from the helper
   * (`FILESYSTEM_MOUNT_TARGET_SECURITY_GROUP_ID`).
   * @default - the VPC's default security group (EFS's default for a new mount target)
   */
  readonly mountTargetSecurityGroupId?: string;
}

/** Validator types that run content checks on a helper (`usesFileSystemHelper` of their module). */
export const FILE_SYSTEM_HELPER_TYPES: readonly ValidatorType[] = VALIDATOR_TYPES.filter(
  (t) => RESOURCE_TYPE_MODULES[t].usesFileSystemHelper,
);

/** File name of the bundled path-check program inside the efs/fsx assets (`/var/task/<this>`). */
export const PATH_CHECK_FILE = 'path-check.cjs';

/**
 * The afterBundling command that builds shared/files/path-check/main.ts into `path-check.cjs` next
 * to the handler. The flags are those of `bundleProgram()` in shared/files/mount-check/bundle.ts
 * (esbuild's JS API, which `bundlePathCheck()` calls); test/infra checks both produce the same program.
 */
export function pathCheckBundleCommand(inputDir: string, outputDir: string): string {
  return [
    JSON.stringify(`${inputDir}/node_modules/.bin/esbuild`),
    JSON.stringify(`${inputDir}/shared/files/path-check/main.ts`),
    '--bundle --platform=node --format=cjs --target=node18 --minify --legal-comments=none --log-level=warning',
    `--outfile=${JSON.stringify(`${outputDir}/${PATH_CHECK_FILE}`)}`,
  ].join(' ');
}

/** The environment the content checks read (shared/files/content.ts). */
export function fileSystemHelperEnvironment(
  helper: FileSystemHelperSettings | undefined,
): Record<string, string> {
  return {
    PATH_CHECK_FILE: `/var/task/${PATH_CHECK_FILE}`,
    ...(helper ? { FILESYSTEM_HELPER_INSTANCE_ID: helper.instanceId } : {}),
    ...(helper?.mountTargetSecurityGroupId
      ? { FILESYSTEM_MOUNT_TARGET_SECURITY_GROUP_ID: helper.mountTargetSecurityGroupId }
      : {}),
  };
}

const INSTANCE_ID = /^i-[0-9a-f]{8,17}$/;
const SECURITY_GROUP_ID = /^sg-[0-9a-f]{8,17}$/;

/** Why the settings cannot work, or undefined. */
export function fileSystemHelperProblem(helper: FileSystemHelperSettings): string | undefined {
  if (!Token.isUnresolved(helper.instanceId) && !INSTANCE_ID.test(helper.instanceId))
    return `fileSystemHelper.instanceId "${helper.instanceId}" is not an EC2 instance id: expected i-0123456789abcdef0.`;
  const sg = helper.mountTargetSecurityGroupId;
  if (sg !== undefined && !Token.isUnresolved(sg) && !SECURITY_GROUP_ID.test(sg))
    return `fileSystemHelper.mountTargetSecurityGroupId "${sg}" is not a security group id: expected sg-0123456789abcdef0.`;
  return undefined;
}

/**
 * The content checks' permissions for one type (none for other types).
 *
 * - EFS: restored file systems have no mount target, so one is created in the helper's subnet and
 *   deleted afterwards. EFS authorizes Create/DeleteMountTarget on the file system (tag conditions
 *   apply: only file systems tagged or named as restore tests, like shared/guard.ts) and also checks
 *   the caller's EC2 permissions for the mount target's network interface.
 * - EFS and FSx: SSM Run Command of `AWS-RunShellScript` on the helper instance only.
 * @see https://docs.aws.amazon.com/efs/latest/ug/API_CreateMountTarget.html (EC2 permissions needed)
 * @see https://docs.aws.amazon.com/efs/latest/ug/API_DeleteMountTarget.html (ec2:DeleteNetworkInterface)
 * @see https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonelasticfilesystem.html
 * @see https://docs.aws.amazon.com/service-authorization/latest/reference/list_awssystemsmanager.html
 */
export function fileSystemHelperStatements(
  type: ValidatorType,
  helper: FileSystemHelperSettings,
): AllowSpec[] {
  if (!(FILE_SYSTEM_HELPER_TYPES as readonly string[]).includes(type)) return [];
  const p = Aws.PARTITION;
  const r = Aws.REGION;
  const a = Aws.ACCOUNT_ID;
  const out: AllowSpec[] = [];
  if (type === 'efs') {
    const fileSystems = [`arn:${p}:elasticfilesystem:${r}:${a}:file-system/*`];
    const why =
      'restored file system ids are generated at restore time; mount targets are authorized on their file system, and the condition admits only restore-test file systems (the same rule as shared/guard.ts)';
    out.push(
      {
        sid: 'MountTargetOnTaggedRestoreTests',
        actions: ['elasticfilesystem:CreateMountTarget', 'elasticfilesystem:DeleteMountTarget'],
        resources: fileSystems,
        conditions: { Null: { [`aws:ResourceTag/${RESTORE_TEST_TAG}`]: 'false' } },
        why: `${why}: tagged ${RESTORE_TEST_TAG}`,
      },
      {
        sid: 'MountTargetOnNamedRestoreTests',
        actions: ['elasticfilesystem:CreateMountTarget', 'elasticfilesystem:DeleteMountTarget'],
        resources: fileSystems,
        conditions: { StringLike: { 'aws:ResourceTag/Name': `${RESTORE_TEST_PREFIX}-*` } },
        why: `${why}: named ${RESTORE_TEST_PREFIX}-<generated id>`,
      },
      {
        sid: 'DescribeHelperAndMountTargetNetwork',
        actions: ['ec2:DescribeInstances', 'ec2:DescribeSubnets', 'ec2:DescribeNetworkInterfaces'],
        resources: ['*'],
        why: "EC2 Describe* actions support no resource-level permissions; the helper's subnet is looked up, and EFS checks the caller may describe subnets and network interfaces for CreateMountTarget",
      },
      {
        sid: 'MountTargetNetworkInterface',
        actions: ['ec2:CreateNetworkInterface', 'ec2:DeleteNetworkInterface'],
        resources: [
          `arn:${p}:ec2:${r}:${a}:network-interface/*`,
          `arn:${p}:ec2:${r}:${a}:subnet/*`,
          `arn:${p}:ec2:${r}:${a}:security-group/*`,
        ],
        why: "EFS creates and deletes the mount target's network interface with the caller's EC2 permissions (CreateMountTarget/DeleteMountTarget API reference); its id is generated and the helper's subnet is only known at run time; this account and region only",
      },
    );
  }
  out.push(
    {
      sid: 'RunPathCheckOnHelper',
      actions: ['ssm:SendCommand'],
      resources: [
        `arn:${p}:ec2:${r}:${a}:instance/${helper.instanceId}`,
        `arn:${p}:ssm:${r}::document/AWS-RunShellScript`,
      ],
      why: 'the helper instance and the AWS-owned shell document only',
    },
    {
      sid: 'ReadPathCheckResult',
      // CancelCommand: a path check still running at the deadline is cancelled, so the helper unmounts.
      actions: ['ssm:GetCommandInvocation', 'ssm:CancelCommand'],
      resources: ['*'],
      why: 'ssm:GetCommandInvocation and ssm:CancelCommand support no resource-level permissions (service authorization reference)',
    },
  );
  return out;
}

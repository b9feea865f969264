import { arn, READ_ONLY_DESCRIBE, type ResourceTypeModule, statement } from '../resource-type';

/** Content checks run on the operator's helper instance (infra/constructs/file-system-helper.ts). */
export const efs: ResourceTypeModule = {
  validator: async () => (await import('./validator')).efsValidator,
  timeoutMinutes: 10,
  database: false,
  statements: ({ aws }) =>
    statement(
      'DescribeRestoredFileSystem',
      [
        'elasticfilesystem:DescribeFileSystems',
        'elasticfilesystem:DescribeMountTargets',
        'elasticfilesystem:ListTagsForResource',
      ],
      [arn(aws, 'elasticfilesystem', 'file-system/*')],
      READ_ONLY_DESCRIBE,
    ),
  usesFileSystemHelper: true,
};

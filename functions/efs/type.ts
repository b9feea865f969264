import { directoryKind, filesKind, freeSpaceKind, pathsKind } from '../../shared/files/kinds';
import { arn, READ_ONLY_DESCRIBE, type ResourceTypeModule, statement } from '../resource-type';

/** Content checks run on the operator's helper instance (infra/constructs/file-system-helper.ts). */
export const efs: ResourceTypeModule = {
  validator: async () => (await import('./validator')).efsValidator,
  checkKinds: [pathsKind, filesKind, directoryKind, freeSpaceKind],
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

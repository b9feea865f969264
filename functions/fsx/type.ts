import { directoryKind, filesKind, freeSpaceKind, pathsKind } from '../../shared/files/kinds';
import { type ResourceTypeModule, statement } from '../resource-type';

/** Content checks run on the operator's helper instance (infra/constructs/file-system-helper.ts). */
export const fsx: ResourceTypeModule = {
  validator: async () => (await import('./validator')).fsxValidator,
  checkKinds: [pathsKind, filesKind, directoryKind, freeSpaceKind],
  timeoutMinutes: 10,
  database: false,
  statements: () =>
    statement(
      'DescribeRestoredFileSystem',
      [
        'fsx:DescribeFileSystems',
        'fsx:DescribeVolumes',
        'fsx:DescribeStorageVirtualMachines',
        'fsx:ListTagsForResource',
      ],
      ['*'],
      'FSx Describe* actions support no resource-level permissions',
    ),
  usesFileSystemHelper: true,
};

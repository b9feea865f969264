import { directoryKind, filesKind, freeSpaceKind, pathsKind, uncheckedKind } from '../../shared/files/kinds';
import { type ResourceTypeModule, statement } from '../resource-type';

/** The long part (helper instance, mount check) runs in the EBS helper flow's Step Functions. */
export const ebs: ResourceTypeModule = {
  validator: async () => (await import('./validator')).ebsValidator,
  checkKinds: [pathsKind, filesKind, directoryKind, freeSpaceKind, uncheckedKind],
  timeoutMinutes: 10,
  database: false,
  statements: () =>
    statement(
      'DescribeRestoredVolume',
      ['ec2:DescribeVolumes', 'ec2:DescribeVolumeStatus'],
      ['*'],
      'EC2 Describe* actions support no resource-level permissions',
    ),
  cli: () => import('./cli'),
};

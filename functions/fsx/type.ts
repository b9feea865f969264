import {
  fileSystemHelperEnvironment,
  fileSystemHelperStatements,
  pathCheckBundleCommand,
} from '../constructs/file-system-helper';
import { statement, type ValidatorTypeSpec } from './spec';

/** Content checks run on the operator's helper instance (infra/constructs/file-system-helper.ts). */
export const fsx: ValidatorTypeSpec = {
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
  extraStatements: ({ fileSystemHelper }) =>
    fileSystemHelper ? fileSystemHelperStatements('fsx', fileSystemHelper) : [],
  environment: ({ fileSystemHelper }) => fileSystemHelperEnvironment(fileSystemHelper),
  afterBundling: (inputDir, outputDir) => [pathCheckBundleCommand(inputDir, outputDir)],
};

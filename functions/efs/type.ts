import {
  fileSystemHelperEnvironment,
  fileSystemHelperStatements,
  pathCheckBundleCommand,
} from '../constructs/file-system-helper';
import { arn, READ_ONLY_DESCRIBE, statement, type ValidatorTypeSpec } from './spec';

/** Content checks run on the operator's helper instance (infra/constructs/file-system-helper.ts). */
export const efs: ValidatorTypeSpec = {
  timeoutMinutes: 10,
  database: false,
  statements: () =>
    statement(
      'DescribeRestoredFileSystem',
      [
        'elasticfilesystem:DescribeFileSystems',
        'elasticfilesystem:DescribeMountTargets',
        'elasticfilesystem:ListTagsForResource',
      ],
      [arn('elasticfilesystem', 'file-system/*')],
      READ_ONLY_DESCRIBE,
    ),
  extraStatements: ({ fileSystemHelper }) =>
    fileSystemHelper ? fileSystemHelperStatements('efs', fileSystemHelper) : [],
  environment: ({ fileSystemHelper }) => fileSystemHelperEnvironment(fileSystemHelper),
  afterBundling: (inputDir, outputDir) => [pathCheckBundleCommand(inputDir, outputDir)],
};

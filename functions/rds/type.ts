import { READ_ONLY_DESCRIBE, rdsArn, statement, type ValidatorTypeSpec } from './spec';

export const rds: ValidatorTypeSpec = {
  timeoutMinutes: 10,
  database: true,
  statements: () =>
    statement(
      'DescribeRestoredDbInstance',
      ['rds:DescribeDBInstances', 'rds:ListTagsForResource'],
      [rdsArn('db', '*')],
      READ_ONLY_DESCRIBE,
    ),
};

import { freshnessKind, rowCountsKind, sqlKind, tablesKind } from '../../shared/sql/kinds';
import { READ_ONLY_DESCRIBE, type ResourceTypeModule, rdsArn, statement } from '../resource-type';

export const rds: ResourceTypeModule = {
  validator: async () => (await import('./validator')).rdsValidator,
  checkKinds: [sqlKind, freshnessKind, tablesKind, rowCountsKind],
  timeoutMinutes: 10,
  database: true,
  statements: ({ aws }) =>
    statement(
      'DescribeRestoredDbInstance',
      ['rds:DescribeDBInstances', 'rds:ListTagsForResource'],
      [rdsArn(aws, 'db', '*')],
      READ_ONLY_DESCRIBE,
    ),
  cli: () => import('./cli'),
};

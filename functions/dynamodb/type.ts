import { compareKind } from '../../shared/config/kinds/compare';
import { RESTORE_TEST_PREFIX, RESTORE_TEST_TAG } from '../../shared/guard';
import { arn, type ResourceTypeModule, statement } from '../resource-type';
import { itemsKind, minItemsKind } from './kinds';

const READ_TABLE = [
  'dynamodb:DescribeTable',
  'dynamodb:Scan',
  'dynamodb:Query',
  'dynamodb:GetItem',
  'dynamodb:BatchGetItem',
];

/** Serves both `DynamoDB` and `DynamoDB.FullyManaged`. */
export const dynamodb: ResourceTypeModule = {
  validator: async () => (await import('./validator')).dynamodbValidator,
  checkKinds: [compareKind, itemsKind, minItemsKind],
  timeoutMinutes: 10,
  database: false,
  compareSource: 'table',
  statements: ({ aws, access }) => [
    ...statement(
      'ReadRestoredAndSourceTables',
      READ_TABLE,
      [
        arn(aws, 'dynamodb', `table/${RESTORE_TEST_PREFIX}-*`),
        ...access.sourceTables.map((t) => (t.startsWith('arn:') ? t : arn(aws, 'dynamodb', `table/${t}`))),
      ],
      `restored tables (named ${RESTORE_TEST_PREFIX}-<generated id>) and the source tables the config's compare checks name`,
    ),
    // The guard's fallback for a table whose name was overridden (targetTableName): its tags. Reading
    // tags is all this grants; the table's data stays limited to the statements above and below.
    ...statement(
      'ReadRestoredTableTags',
      ['dynamodb:ListTagsOfResource'],
      [arn(aws, 'dynamodb', 'table/*')],
      `the guard reads the tags of a restored table whose name was overridden (not ${RESTORE_TEST_PREFIX}-…) to find the ${RESTORE_TEST_TAG} tag; tags only, any table of this account and region`,
    ),
    // A table that passes the guard by its tag: read it by that tag (DynamoDB ABAC, aws:ResourceTag).
    // @see https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/abac-example-use-cases.html
    ...statement(
      'ReadTablesTaggedAsRestoreTests',
      READ_TABLE,
      [arn(aws, 'dynamodb', 'table/*')],
      `only tables tagged ${RESTORE_TEST_TAG} (aws:ResourceTag condition): restored tables whose name was overridden`,
      { Null: { [`aws:ResourceTag/${RESTORE_TEST_TAG}`]: 'false' } },
    ),
  ],
  cli: () => import('./cli'),
};

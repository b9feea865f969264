/**
 * What the cluster types (Aurora, DocumentDB, Neptune) share in their type modules: restored
 * clusters have no instance, so the validator creates a temporary one, tagged as its own, waits for
 * it (5-10 minutes before any check runs: Lambda's maximum timeout) and deletes it. DocumentDB and
 * Neptune management APIs authorize with rds: actions.
 * @see https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/security_iam_id-based-policy-examples-create-and-modify-examples.html
 * @see https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonrds.html
 */
import type { AllowSpec } from '../infra/core';
import { CREATED_BY_TAG, RESTORE_TEST_PREFIX } from '../shared/guard';
import {
  createdByUs,
  ownedByUs,
  READ_ONLY_DESCRIBE,
  rdsArn,
  statement,
  type TypeContext,
} from './resource-type';

export const CLUSTER_TIMEOUT_MINUTES = 15;

export function clusterStatements({ aws }: TypeContext): AllowSpec[] {
  return [
    ...statement(
      'DescribeRestoredCluster',
      ['rds:DescribeDBClusters', 'rds:DescribeDBInstances', 'rds:ListTagsForResource'],
      [rdsArn(aws, 'cluster', '*'), rdsArn(aws, 'db', '*')],
      READ_ONLY_DESCRIBE,
    ),
    // Picks the smallest instance class the engine version offers for the temporary instance
    // (shared/cluster/temporary-instance.ts; without it a fixed default class is used).
    ...statement(
      'ListOrderableInstanceClasses',
      ['rds:DescribeOrderableDBInstanceOptions'],
      ['*'],
      'rds:DescribeOrderableDBInstanceOptions supports no resource-level permissions (service authorization reference); read-only catalogue of instance classes',
    ),
    ...statement(
      'CreateTemporaryInstanceTaggedAsOurs',
      ['rds:CreateDBInstance', 'rds:AddTagsToResource'],
      [rdsArn(aws, 'db', '*')],
      `the temporary instance's identifier is generated at run time; the request must carry the ${CREATED_BY_TAG} tag (aws:RequestTag condition)`,
      createdByUs,
    ),
    // RDS also authorizes CreateDBInstance on the parameter group, option group and subnet group
    // the new instance uses (the cluster's subnet group, default groups): AWS's example policies
    // for CreateDBInstance list og:, pg: and subgrp: resources beside db:. Only in a request that
    // tags the instance as ours.
    ...statement(
      'CreateTemporaryInstanceWithClusterGroups',
      ['rds:CreateDBInstance'],
      [rdsArn(aws, 'pg', '*'), rdsArn(aws, 'og', '*'), rdsArn(aws, 'subgrp', '*')],
      `the temporary instance uses the restored cluster's subnet group and the engine's default parameter and option groups, whose names are known only at run time; only in a request that carries the ${CREATED_BY_TAG} tag (aws:RequestTag condition), and CreateDBInstance only references these groups, never changes them`,
      createdByUs,
    ),
    ...statement(
      'CreateTemporaryInstanceInRestoredCluster',
      ['rds:CreateDBInstance'],
      [rdsArn(aws, 'cluster', `${RESTORE_TEST_PREFIX}-*`)],
      `only restored clusters, which AWS Backup names ${RESTORE_TEST_PREFIX}-<generated id>`,
    ),
    ...statement(
      'DeleteOnlyOurTemporaryInstances',
      ['rds:DeleteDBInstance'],
      [rdsArn(aws, 'db', '*')],
      `deletes only instances tagged ${CREATED_BY_TAG} (aws:ResourceTag condition), i.e. the validator's own temporary instances`,
      ownedByUs,
    ),
  ];
}

/**
 * The sweep of temporary DB instances left behind. Aurora, DocumentDB and Neptune validators add an
 * instance to the restored cluster and delete it when done (shared/cluster/temporary-instance.ts); a Lambda
 * killed at its timeout cannot, and the leftover instance keeps running — and keeps AWS Backup from
 * deleting the restored cluster — until someone notices. Each reconciler pass finds the instances
 * this project created (tag `restore-validation:created-by` = the restore job id, one Resource Groups
 * Tagging API call for all three engines) and deletes those whose validation is over:
 *
 * - the restore job's validation status is final (SUCCESSFUL, FAILED, TIMED_OUT), or
 * - the instance is older than `maxAgeMinutes` (no validator runs longer than its 15-minute Lambda).
 *
 * It deletes nothing that is not tagged as created by us and a member of a restore-test cluster
 * (`awsbackup-restore-test-…`): the same guards the validators use. DocumentDB and Neptune instances
 * are managed through the RDS API they share.
 * @see https://docs.aws.amazon.com/resourcegroupstagging/latest/APIReference/API_GetResources.html
 */
import { type BackupClient, DescribeRestoreJobCommand } from '@aws-sdk/client-backup';
import { DeleteDBInstanceCommand, DescribeDBInstancesCommand, type RDSClient } from '@aws-sdk/client-rds';
import {
  paginateGetResources,
  type ResourceGroupsTaggingAPIClient,
} from '@aws-sdk/client-resource-groups-tagging-api';
import { isNotFoundError, reasonOf } from '../../shared/errors';
import { assertCreatedByUs, assertRestoreTestResource, CREATED_BY_TAG } from '../../shared/guard';
import { withRetry } from '../../shared/retry';
import { isFinalValidationStatus } from '../../shared/verdict/index';

export interface SweepDeps {
  readonly tagging: ResourceGroupsTaggingAPIClient;
  readonly rds: RDSClient;
  readonly backup: BackupClient;
  readonly now: Date;
  /** Older than this, an instance is left behind whatever its job says. @default 60 */
  readonly maxAgeMinutes?: number;
}

export interface SweptInstance {
  readonly instance: string;
  readonly cluster?: string;
  readonly restoreJobId: string;
  readonly action: 'deleted' | 'kept' | 'refused' | 'error';
  readonly reason: string;
}

/** One pass of the sweep. Never throws for one instance: each outcome is in the result. */
export async function sweepTemporaryInstances(deps: SweepDeps): Promise<SweptInstance[]> {
  const maxAgeMs = (deps.maxAgeMinutes ?? 60) * 60_000;
  const out: SweptInstance[] = [];
  for (const { arn, restoreJobId, tags } of await taggedInstances(deps.tagging)) {
    const instance = arn.split(':').pop() ?? arn;
    try {
      const described = (
        await withRetry(() =>
          deps.rds.send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: instance })),
        )
      ).DBInstances?.[0];
      if (!described) {
        out.push({ instance, restoreJobId, action: 'kept', reason: 'already gone' });
        continue;
      }
      const cluster = described.DBClusterIdentifier;
      const status = (described.DBInstanceStatus ?? '').toLowerCase();
      if (status === 'deleting') {
        out.push({ instance, cluster, restoreJobId, action: 'kept', reason: 'already being deleted' });
        continue;
      }
      const ageMs = described.InstanceCreateTime
        ? deps.now.getTime() - new Date(described.InstanceCreateTime).getTime()
        : Number.POSITIVE_INFINITY;
      const job = await validationStatus(deps.backup, restoreJobId);
      let why: string | undefined;
      if (isFinalValidationStatus(job)) why = `the validation of ${restoreJobId} ended ${job}`;
      else if (ageMs > maxAgeMs)
        why = `it is ${Math.round(ageMs / 60_000)} minutes old and no validator runs that long (job ${job ?? 'not found'})`;
      if (!why) {
        out.push({
          instance,
          cluster,
          restoreJobId,
          action: 'kept',
          reason: `in use: job ${restoreJobId} is ${job ?? 'unknown'} and the instance is ${Math.round(ageMs / 60_000)} minutes old`,
        });
        continue;
      }
      try {
        assertCreatedByUs(instance, described.TagList ?? tags, 'delete');
        assertRestoreTestResource(cluster, undefined, `delete an instance of cluster`);
      } catch (err) {
        out.push({ instance, cluster, restoreJobId, action: 'refused', reason: reasonOf(err) });
        continue;
      }
      await withRetry(() =>
        deps.rds.send(
          // A cluster member has no snapshot of its own; SkipFinalSnapshot only keeps the API from asking.
          new DeleteDBInstanceCommand({ DBInstanceIdentifier: instance, SkipFinalSnapshot: true }),
        ),
      );
      out.push({ instance, cluster, restoreJobId, action: 'deleted', reason: why });
    } catch (err) {
      out.push({ instance, restoreJobId, action: 'error', reason: reasonOf(err) });
    }
  }
  return out;
}

interface TaggedInstance {
  readonly arn: string;
  /** The created-by tag's value. */
  readonly restoreJobId: string;
  readonly tags: readonly { Key?: string; Value?: string }[];
}

/** Every DB instance (any engine) tagged as created by restore-validation, with its job id. */
async function taggedInstances(tagging: ResourceGroupsTaggingAPIClient): Promise<TaggedInstance[]> {
  const found: TaggedInstance[] = [];
  for await (const page of paginateGetResources(
    { client: tagging },
    { ResourceTypeFilters: ['rds:db'], TagFilters: [{ Key: CREATED_BY_TAG }] },
  )) {
    for (const r of page.ResourceTagMappingList ?? []) {
      const tag = r.Tags?.find((t) => t.Key === CREATED_BY_TAG);
      if (r.ResourceARN && tag)
        found.push({ arn: r.ResourceARN, restoreJobId: tag.Value ?? '', tags: r.Tags ?? [] });
    }
  }
  return found;
}

async function validationStatus(backup: BackupClient, restoreJobId: string): Promise<string | undefined> {
  if (!restoreJobId) return undefined;
  try {
    const job = await withRetry(() =>
      backup.send(new DescribeRestoreJobCommand({ RestoreJobId: restoreJobId })),
    );
    return job.ValidationStatus;
  } catch (err) {
    if (isNotFoundError(err)) return undefined;
    throw err;
  }
}

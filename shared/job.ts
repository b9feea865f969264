/**
 * The restore job context: `DescribeRestoreJob` + `GetRestoreJobMetadata` folded into one typed object.
 * @see https://docs.aws.amazon.com/aws-backup/latest/devguide/API_DescribeRestoreJob.html
 * @see https://docs.aws.amazon.com/aws-backup/latest/devguide/API_GetRestoreJobMetadata.html
 */
import {
  type BackupClient,
  DescribeRestoreJobCommand,
  GetRestoreJobMetadataCommand,
} from '@aws-sdk/client-backup';
import { type ParsedArn, parseArn } from './arn';
import type { RestoreJobEvent } from './event';
import { RestoreMetadata } from './metadata';
import { isFinalValidationStatus } from './verdict/post';

export interface RestoreJob {
  readonly restoreJobId: string;
  /** As AWS names it: `RDS`, `Aurora`, `EBS`, `DynamoDB.FullyManaged`, … */
  readonly resourceType: string;
  /** Restore job status, upper case: `COMPLETED`, `FAILED`, … */
  readonly status: string;
  readonly statusMessage?: string;
  readonly accountId?: string;
  readonly region?: string;
  readonly createdResourceArn?: string;
  readonly created?: ParsedArn;
  readonly sourceResourceArn?: string;
  readonly source?: ParsedArn;
  readonly recoveryPointArn?: string;
  /** When the recovery point was taken: the reference time for freshness and drift. */
  readonly recoveryPointCreationDate?: Date;
  /** Restore job start and end (RTO evidence). */
  readonly creationDate?: Date;
  readonly completionDate?: Date;
  readonly restoreTestingPlanArn?: string;
  /** The plan's name, parsed from its ARN (`nightly_restore_tests`, without the id AWS appends). */
  readonly restoreTestingPlanName?: string;
  /** The validation status already set on the job, if any (a final one means: never post again). */
  readonly validationStatus?: string;
  readonly backupSizeInBytes?: number;
  readonly iamRoleArn?: string;
  readonly metadata: RestoreMetadata;
  /** True when this context was built by the CLI for a local resource (no AWS Backup job). */
  readonly local: boolean;
}

export const hasFinalVerdict = (job: Pick<RestoreJob, 'validationStatus'>): boolean =>
  isFinalValidationStatus(job.validationStatus);

/**
 * The plan name from a restore testing plan ARN. AWS appends an id to the plan name in the ARN: eight
 * hex digits in some accounts (`nightly_restore_tests-1a2b3c4d`), a full UUID in others
 * (`nightly_restore_tests-867cbaf4-a45d-4ec5-9a1b-0c2d3e4f5a6b`). Plan names allow only letters,
 * digits and `_`, so the name is everything before the first `-`.
 * @see https://docs.aws.amazon.com/aws-backup/latest/devguide/API_RestoreTestingPlanForCreate.html (RestoreTestingPlanName)
 */
export function planNameFromArn(arn: string | undefined): string | undefined {
  if (!arn) return undefined;
  const last = arn.split(':').pop() ?? '';
  return last.split('-')[0] || undefined;
}

const toDate = (v: Date | string | undefined): Date | undefined => {
  if (v === undefined || v === '') return undefined;
  const d = v instanceof Date ? v : new Date(v);
  return Number.isNaN(d.getTime()) ? undefined : d;
};

/**
 * Loads the job from AWS Backup (the client retries transient errors); the event fills in what the
 * API omits. `abortSignal` ends the calls, retries included, at the caller's deadline.
 */
export async function loadRestoreJob(
  backup: BackupClient,
  restoreJobId: string,
  event?: RestoreJobEvent,
  options: { readonly abortSignal?: AbortSignal } = {},
): Promise<RestoreJob> {
  const call = { abortSignal: options.abortSignal };
  const [described, metadata] = await Promise.all([
    backup.send(new DescribeRestoreJobCommand({ RestoreJobId: restoreJobId }), call),
    backup.send(new GetRestoreJobMetadataCommand({ RestoreJobId: restoreJobId }), call),
  ]);
  const d = event?.detail;
  const createdResourceArn = described.CreatedResourceArn || d?.createdResourceArn;
  const planArn = described.CreatedBy?.RestoreTestingPlanArn || d?.restoreTestingPlanArn;
  const sourceResourceArn = described.SourceResourceArn || d?.sourceResourceArn;
  return {
    restoreJobId,
    resourceType: described.ResourceType || d?.resourceType || '',
    status: (described.Status || d?.status || '').toUpperCase(),
    statusMessage: described.StatusMessage || d?.statusMessage,
    accountId: described.AccountId || event?.account,
    region: event?.region ?? parseArn(createdResourceArn ?? '')?.region,
    createdResourceArn,
    created: createdResourceArn ? parseArn(createdResourceArn) : undefined,
    sourceResourceArn,
    source: sourceResourceArn ? parseArn(sourceResourceArn) : undefined,
    recoveryPointArn: described.RecoveryPointArn || d?.recoveryPointArn,
    recoveryPointCreationDate: toDate(described.RecoveryPointCreationDate),
    creationDate: toDate(described.CreationDate) ?? toDate(d?.creationDate),
    completionDate: toDate(described.CompletionDate) ?? toDate(d?.completionDate),
    restoreTestingPlanArn: planArn,
    restoreTestingPlanName: planNameFromArn(planArn),
    validationStatus: described.ValidationStatus,
    backupSizeInBytes: described.BackupSizeInBytes ?? d?.backupSizeInBytes,
    iamRoleArn: described.IamRoleArn || d?.iamRoleArn,
    metadata: new RestoreMetadata(metadata.Metadata ?? {}),
    local: false,
  };
}

/** A job context for the CLI's `check` command: a local resource, no AWS Backup involved. */
export function localRestoreJob(input: {
  resourceType: string;
  createdResourceArn?: string;
  sourceResourceArn?: string;
  recoveryPointCreationDate?: Date;
  metadata?: Record<string, string>;
}): RestoreJob {
  return {
    restoreJobId: `local-${Date.now().toString(36)}`,
    resourceType: input.resourceType,
    status: 'COMPLETED',
    createdResourceArn: input.createdResourceArn,
    created: input.createdResourceArn ? parseArn(input.createdResourceArn) : undefined,
    sourceResourceArn: input.sourceResourceArn,
    source: input.sourceResourceArn ? parseArn(input.sourceResourceArn) : undefined,
    recoveryPointCreationDate: input.recoveryPointCreationDate,
    metadata: new RestoreMetadata(input.metadata ?? {}),
    local: true,
  };
}

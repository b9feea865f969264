/**
 * The restored bucket itself: its name, that it exists, that it can be listed, and the safety guard.
 * @see https://docs.aws.amazon.com/aws-backup/latest/devguide/restoring-s3.html
 */
import {
  GetBucketTaggingCommand,
  HeadBucketCommand,
  ListObjectsV2Command,
  type S3Client,
} from '@aws-sdk/client-s3';
import { ResourceStateError, reasonOf } from '../../shared/errors';
import { assertRestoreTestResource, isRestoreTestResource } from '../../shared/guard';
import type { RestoreJob } from '../../shared/job';
import { type RetryOptions, withRetry } from '../../shared/retry';

/** The restored bucket: metadata `destinationBucketName`, else the created resource ARN's bucket. */
export function restoredBucketName(job: RestoreJob): string | undefined {
  return (
    job.metadata.get('destinationBucketName') ??
    (job.created?.service === 's3' ? job.created.resourceId : undefined)
  );
}

/** The HTTP status or error name of an SDK error, for readable reasons. */
export function errorCode(err: unknown): string {
  const e = err as { name?: string; Code?: string; $metadata?: { httpStatusCode?: number } };
  return e?.Code ?? e?.name ?? String(e?.$metadata?.httpStatusCode ?? 'error');
}

export const isNotFound = (err: unknown): boolean => {
  const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
  return (
    e?.name === 'NotFound' ||
    e?.name === 'NoSuchBucket' ||
    e?.name === 'NoSuchKey' ||
    e?.$metadata?.httpStatusCode === 404
  );
};

export const isAccessDenied = (err: unknown): boolean => {
  const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
  return e?.name === 'AccessDenied' || e?.name === 'Forbidden' || e?.$metadata?.httpStatusCode === 403;
};

/**
 * Throws SafetyGuardError unless the bucket is a restore-test bucket (by name, else by its tags).
 * Validators only read, but they must never read a production bucket believing it restored.
 */
export async function guardRestoredBucket(s3: S3Client, bucket: string, retry: RetryOptions): Promise<void> {
  if (isRestoreTestResource(bucket)) return;
  let tags: { Key?: string; Value?: string }[] = [];
  try {
    tags =
      (await withRetry(() => s3.send(new GetBucketTaggingCommand({ Bucket: bucket })), retry)).TagSet ?? [];
  } catch (err) {
    if (!isNotFound(err) && errorCode(err) !== 'NoSuchTagSet') throw err;
  }
  assertRestoreTestResource(bucket, tags, 'validate');
}

export interface BucketProbe {
  /** Objects on the first listing page (at most 1,000). */
  readonly firstPage: number;
  /** True when the listing has more pages. */
  readonly more: boolean;
}

/**
 * Proves that the bucket exists and can be listed. A missing or unlistable bucket is a
 * ResourceStateError (a failed verdict with the reason), not a crash.
 */
export async function probeBucket(
  s3: S3Client,
  bucket: string,
  retry: RetryOptions,
  what = 'restored bucket',
): Promise<BucketProbe> {
  try {
    await withRetry(() => s3.send(new HeadBucketCommand({ Bucket: bucket })), retry);
  } catch (err) {
    if (isNotFound(err)) throw new ResourceStateError(`${what} ${bucket} does not exist`, { cause: err });
    // HeadBucket gives no error body: a 403 here may still allow listing, which is what matters.
    if (!isAccessDenied(err))
      throw new ResourceStateError(`${what} ${bucket} could not be reached: ${reasonOf(err)}`, {
        cause: err,
      });
  }
  try {
    const page = await withRetry(
      () => s3.send(new ListObjectsV2Command({ Bucket: bucket, MaxKeys: 1000 })),
      retry,
    );
    return { firstPage: page.KeyCount ?? page.Contents?.length ?? 0, more: Boolean(page.IsTruncated) };
  } catch (err) {
    if (isNotFound(err)) throw new ResourceStateError(`${what} ${bucket} does not exist`, { cause: err });
    throw new ResourceStateError(
      `${what} ${bucket} cannot be listed: ${errorCode(err)}${isAccessDenied(err) ? ' (the validator role needs s3:ListBucket on it)' : ''}`,
      {
        cause: err,
      },
    );
  }
}

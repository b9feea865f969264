/**
 * The S3 validator. Built-in: the restored bucket (metadata `destinationBucketName`, else the created
 * resource ARN) is a restore-test bucket, exists, can be listed and is not empty. Profile checks:
 * `compare` (object by object against the source as of the recovery point, or a manifest),
 * `keys` (objects that must exist) and `minObjects`. Read-only: it never writes to either bucket.
 * @see https://docs.aws.amazon.com/aws-backup/latest/devguide/restoring-s3.html
 */
import { HeadObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import pLimit from 'p-limit';
import { type CheckDefinition, defineCheck, fail, pass, runChecks } from '../../shared/checks';
import { type CheckConfig, optionsOf } from '../../shared/config/index';
import { ResourceStateError, reasonOf } from '../../shared/errors';
import type { RetryOptions } from '../../shared/retry';
import { defineValidator, type ValidationContext } from '../../shared/validator';
import {
  type BucketProbe,
  errorCode,
  guardRestoredBucket,
  isNotFound,
  probeBucket,
  restoredBucketName,
} from './bucket';
import { s3ClientFor } from './client';
import { compareCheck, compareOptionsOf } from './compare-check';
import { planCompare } from './distributed';
import { keysKind, minObjectsKind } from './kinds';
import { countObjects } from './listing';
import { type S3Settings, s3Settings } from './settings';

export interface S3Facts {
  readonly s3: S3Client;
  readonly bucket: string;
  readonly probe: BucketProbe;
  /** Source bucket (profile `sourceBucket`, `--source-bucket`, else the source ARN), when there is one. */
  readonly sourceBucket?: string;
  /** The reference time: RecoveryPointCreationDate, or `--recovery-point-time`. */
  readonly recoveryPointTime?: Date;
  /** `--manifest FILE` in local mode. */
  readonly manifestFile?: string;
  readonly retry: RetryOptions;
  readonly ctx: ValidationContext;
}

const str = (v: unknown): string | undefined => (typeof v === 'string' && v.trim() !== '' ? v : undefined);

function recoveryPointTime(ctx: ValidationContext): Date | undefined {
  const flag = str(ctx.target.recoveryPointTime);
  if (flag) {
    const d = new Date(flag);
    if (Number.isNaN(d.getTime()))
      throw new ResourceStateError(`--recovery-point-time ${JSON.stringify(flag)} is not an ISO 8601 time`);
    return d;
  }
  return ctx.job.recoveryPointCreationDate;
}

export const s3Validator = defineValidator<S3Facts, S3Settings>({
  name: 's3',
  resourceTypes: ['S3'],
  settings: s3Settings,
  async gather(ctx) {
    const local = ctx.mode === 'local';
    const bucket = local ? str(ctx.target.bucket) : restoredBucketName(ctx.job);
    if (!bucket) {
      throw new ResourceStateError(
        local
          ? '--bucket is required'
          : 'the restore job names no bucket: neither metadata destinationBucketName nor an S3 created resource ARN',
      );
    }
    const s3 = s3ClientFor(ctx);
    const retry: RetryOptions = { deadline: ctx.deadline, signal: ctx.signal };
    // Local mode is a user pointing the CLI at a bucket on purpose; a restore job must name a restore-test bucket.
    if (!local) await guardRestoredBucket(s3, bucket, retry);
    const probe = await probeBucket(s3, bucket, retry);
    ctx.note('bucket', bucket);
    const sourceBucket = local
      ? str(ctx.target.sourceBucket)
      : ctx.job.source?.service === 's3'
        ? ctx.job.source.resourceId
        : undefined;
    const facts: S3Facts = {
      s3,
      bucket,
      probe,
      sourceBucket,
      recoveryPointTime: recoveryPointTime(ctx),
      manifestFile: local ? str(ctx.target.manifest) : undefined,
      retry,
      ctx,
    };
    // A full comparison that cannot finish in this Lambda is handed to Step Functions here (throws DeferredValidation).
    await planCompare(ctx, facts, (c, f, except) =>
      runChecks(
        buildChecks(c).filter((check) => check.id !== except),
        f,
        {
          concurrency: c.profile?.concurrency ?? c.config.defaults.concurrency,
          checkTimeoutMs: (c.profile?.checkTimeoutSeconds ?? c.config.defaults.checkTimeoutSeconds) * 1000,
          deadline: c.deadline,
          signal: c.signal,
        },
      ),
    );
    return facts;
  },
  checks: (ctx) => buildChecks(ctx),
});

function buildChecks(ctx: ValidationContext): CheckDefinition<S3Facts>[] {
  const allowEmpty = (ctx.profile?.checks ?? []).some(
    (c) => c.kind === 'compare' && compareOptionsOf(c).allowEmpty === true,
  );
  const checks: CheckDefinition<S3Facts>[] = [restoredBucketCheck(allowEmpty)];
  for (const c of ctx.profile?.checks ?? []) {
    if (c.kind === 'compare') checks.push(compareCheck(c, ctx));
    else if (c.kind === 'keys') checks.push(keysCheck(c));
    else if (c.kind === 'minObjects') checks.push(minObjectsCheck(c));
  }
  return checks;
}

/**
 * Built-in: the bucket is listable (proven in gather) and holds at least one object; with
 * `allowEmpty` (a `compare` with `allowEmpty: true`) an empty bucket passes, saying so.
 */
export function restoredBucketCheck(allowEmpty = false): CheckDefinition<S3Facts> {
  return defineCheck<S3Facts>({
    id: 'restored-bucket',
    description: `the restored bucket exists, can be listed${allowEmpty ? '' : ' and is not empty'}`,
    run: (f) => {
      if (f.probe.firstPage === 0)
        return allowEmpty
          ? pass(`restored bucket ${f.bucket} exists and is empty, as compare.allowEmpty allows`, {
              objects: 0,
            })
          : fail(`restored bucket ${f.bucket} is empty`, { objects: 0 });
      return pass(
        `restored bucket ${f.bucket} exists and can be listed (${f.probe.more ? 'more than 1,000' : f.probe.firstPage} objects)`,
        { objectsOnFirstPage: f.probe.firstPage, more: f.probe.more },
      );
    },
  });
}

/** `keys`: each named object exists in the restored bucket (HeadObject). */
export function keysCheck(c: CheckConfig): CheckDefinition<S3Facts> {
  const { keys = [], description } = optionsOf(keysKind, c);
  return defineCheck<S3Facts>({
    id: c.id,
    description: description ?? `objects ${keys.slice(0, 3).join(', ')}${keys.length > 3 ? ', …' : ''} exist`,
    async run(f, { signal }) {
      const limit = pLimit(16);
      const missing: string[] = [];
      await Promise.all(
        keys.map((key) =>
          limit(async () => {
            try {
              await f.s3.send(new HeadObjectCommand({ Bucket: f.bucket, Key: key }), { abortSignal: signal });
            } catch (err) {
              if (isNotFound(err)) missing.push(key);
              else throw new Error(`HeadObject ${key}: ${errorCode(err)}`, { cause: err });
            }
          }),
        ),
      );
      missing.sort();
      return missing.length === 0
        ? pass(`all ${keys.length} keys exist`, { keys: keys.length })
        : fail(
            `${missing.length} of ${keys.length} keys missing: ${missing.slice(0, 5).join(', ')}${missing.length > 5 ? ', …' : ''}`,
            {
              missing: missing.slice(0, 20),
            },
          );
    },
  });
}

/** `minObjects`: the bucket (under the include prefixes, minus excludes) holds at least N objects. */
export function minObjectsCheck(c: CheckConfig): CheckDefinition<S3Facts> {
  const { minObjects: min, include, exclude, description } = optionsOf(minObjectsKind, c);
  const filter = { include, exclude };
  return defineCheck<S3Facts>({
    id: c.id,
    description: description ?? `at least ${min} objects`,
    async run(f, { signal }) {
      // Counting stops at `min`: proving "at least N" never needs the whole listing.
      const n = await countObjects(f.s3, f.bucket, { filter, stopAt: min, signal, retry: f.retry });
      const where = filter.include?.length ? ` under ${filter.include.join(', ')}` : '';
      return n >= min
        ? pass(`at least ${min} objects${where}`, { atLeast: n })
        : fail(`only ${n} objects${where}, expected at least ${min}`, { objects: n });
    },
  });
}

export { reasonOf };

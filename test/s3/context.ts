/**
 * Test helpers for the S3 validator: a runValidator context (job, profile, clients pointed at moto)
 * without the Lambda lifecycle, and bucket fixtures.
 */
import { CreateBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { parseArn } from '../../shared/arn';
import { type Clients, createClients } from '../../shared/clients';
import { type Config, type Profile, parseConfig } from '../../shared/config/index';
import type { RestoreJob } from '../../shared/job';
import { logger } from '../../shared/logger';
import { RestoreMetadata } from '../../shared/metadata';
import type { ContextInput } from '../../shared/validator';

export interface S3TestInput {
  readonly endpoint: string;
  readonly createdResourceArn?: string;
  readonly sourceResourceArn?: string;
  readonly recoveryPointCreationDate?: Date;
  readonly metadata?: Record<string, string>;
  readonly checks?: unknown[];
  readonly mode?: 'lambda' | 'local';
  readonly target?: Record<string, unknown>;
  readonly clients?: Partial<Clients>;
  readonly settings?: Record<string, string | undefined>;
  readonly deadlineMs?: number;
}

export function testJob(input: S3TestInput): RestoreJob {
  return {
    restoreJobId: 'AB12CD34-S3-TEST',
    resourceType: 'S3',
    status: 'COMPLETED',
    accountId: '123456789012',
    region: 'us-east-1',
    createdResourceArn: input.createdResourceArn,
    created: input.createdResourceArn ? parseArn(input.createdResourceArn) : undefined,
    sourceResourceArn: input.sourceResourceArn,
    source: input.sourceResourceArn ? parseArn(input.sourceResourceArn) : undefined,
    recoveryPointCreationDate: input.recoveryPointCreationDate,
    restoreTestingPlanName: 'nightly_restore_tests',
    metadata: new RestoreMetadata(input.metadata ?? {}),
    local: input.mode === 'local',
  };
}

export function testContext(input: S3TestInput): ContextInput {
  const config: Config = parseConfig({
    version: 1,
    profiles: input.checks ? [{ name: 'test', match: { resourceType: 'S3' }, checks: input.checks }] : [],
  });
  const profile: Profile | undefined = config.profiles[0];
  return {
    job: testJob(input),
    profile,
    config,
    logger,
    clients: createClients(
      { endpoint: input.endpoint, region: 'us-east-1', forcePathStyle: true },
      input.clients ?? {},
    ),
    deadline: Date.now() + (input.deadlineMs ?? 50_000),
    mode: input.mode ?? 'lambda',
    target: input.target ?? {},
    settings: input.settings ?? {},
  };
}

/** A plain client for fixtures (the SDK's default checksums on, like most uploaders). */
export function fixtureClient(endpoint: string): S3Client {
  return new S3Client({ endpoint, region: 'us-east-1', forcePathStyle: true });
}

export async function makeBucket(
  s3: S3Client,
  bucket: string,
  objects: Record<string, string | Uint8Array> = {},
): Promise<void> {
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  for (const [key, body] of Object.entries(objects))
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
}

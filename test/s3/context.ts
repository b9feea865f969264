/**
 * Test helpers for the S3 validator: the shared validator context with clients pointed at moto,
 * and bucket fixtures.
 */
import {
  CompleteMultipartUploadCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import type { S3Settings } from '../../functions/s3/settings';
import type { Clients } from '../../shared/clients';
import type { RestoreJob } from '../../shared/job';
import type { ContextInput } from '../../shared/validator';
import {
  testContext as genericContext,
  testJob as genericJob,
  type TestContextInput,
} from '../support/validator-context';

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
  readonly settings?: S3Settings;
  readonly deadlineMs?: number;
}

const generic = (input: S3TestInput): TestContextInput<S3Settings> => ({
  ...input,
  resourceType: 'S3',
  restoreJobId: 'AB12CD34-S3-TEST',
  clientOptions: { endpoint: input.endpoint, region: 'us-east-1' },
});

export const testJob = (input: S3TestInput): RestoreJob => genericJob(generic(input));

export const testContext = (input: S3TestInput): ContextInput<S3Settings> => genericContext(generic(input));

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

/** Uploads `body` in parts of `partSize` bytes (the last one shorter), so its ETag is a multipart one. */
export async function multipart(
  client: S3Client,
  bucket: string,
  key: string,
  body: Buffer,
  partSize: number,
) {
  const { UploadId } = await client.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: key }));
  const parts = [];
  for (let off = 0, n = 1; off < body.length; off += partSize, n++) {
    const p = await client.send(
      new UploadPartCommand({
        Bucket: bucket,
        Key: key,
        UploadId,
        PartNumber: n,
        Body: body.subarray(off, off + partSize),
      }),
    );
    // a client without additional checksums gets none back, and the part lists none
    parts.push({ PartNumber: n, ETag: p.ETag, ChecksumCRC32: p.ChecksumCRC32 });
  }
  await client.send(
    new CompleteMultipartUploadCommand({
      Bucket: bucket,
      Key: key,
      UploadId,
      MultipartUpload: { Parts: parts },
    }),
  );
}

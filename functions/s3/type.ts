import type { AllowSpec } from '../../infra/core';
import { compareKind } from '../../shared/config/kinds/compare';
import { RESTORE_TEST_PREFIX } from '../../shared/guard';
import { type ResourceTypeModule, type StackAws, statement } from '../resource-type';
import { keysKind, minObjectsKind } from './kinds';

/** Restored buckets plus the source buckets the config's compare checks name. */
export const comparedBuckets = (sourceBuckets: readonly string[]): string[] => [
  `${RESTORE_TEST_PREFIX}-*`,
  ...sourceBuckets,
];

/**
 * `kms:Decrypt` for SSE-KMS objects of the compared buckets: `HeadObject` with `ChecksumMode: ENABLED`
 * needs it (the stored checksum is encrypted with the object), as does `GetObject`. Only through S3
 * in this region and only for these buckets' objects (S3 passes the bucket ARN, or the object ARN
 * without an S3 Bucket Key, as encryption context).
 * @see https://docs.aws.amazon.com/AmazonS3/latest/API/API_HeadObject.html (ChecksumMode: "you must have permission to use the kms:Decrypt action")
 * @see https://docs.aws.amazon.com/AmazonS3/latest/userguide/UsingKMSEncryption.html#encryption-context
 */
export function s3KmsDecrypt(
  aws: StackAws,
  buckets: readonly string[],
  keyArns?: readonly string[],
): AllowSpec {
  const p = aws.partition;
  return {
    sid: 'DecryptComparedObjects',
    actions: ['kms:Decrypt'],
    resources: keyArns ? [...keyArns] : [`arn:${p}:kms:${aws.region}:${aws.accountId}:key/*`],
    conditions: {
      StringEquals: { 'kms:ViaService': `s3.${aws.region}.amazonaws.com` },
      StringLike: {
        'kms:EncryptionContext:aws:s3:arn': buckets.flatMap((b) => [
          `arn:${p}:s3:::${b}`,
          `arn:${p}:s3:::${b}/*`,
        ]),
      },
    },
    why: 'SSE-KMS objects of the compared buckets, whose keys the config cannot name (s3KmsKeyArns narrows it): only through S3 in this region (kms:ViaService) and only for the restored and configured source buckets (kms:EncryptionContext:aws:s3:arn)',
  };
}

export const s3: ResourceTypeModule = {
  validator: async () => (await import('./validator')).s3Validator,
  checkKinds: [compareKind, keysKind, minObjectsKind],
  timeoutMinutes: 10,
  database: false,
  compareSource: 'bucket',
  statements: ({ aws, access, s3KmsKeyArns }) => {
    const buckets = comparedBuckets(access.sourceBuckets);
    const why = `restored buckets (named ${RESTORE_TEST_PREFIX}-<generated id>) and the source buckets the config's compare checks name (match.sourceResourceArn)`;
    return [
      ...statement(
        'ReadRestoredAndSourceBuckets',
        [
          's3:ListBucket',
          's3:ListBucketVersions',
          's3:GetBucketLocation',
          's3:GetBucketVersioning',
          's3:GetBucketTagging',
        ],
        buckets.map((b) => `arn:${aws.partition}:s3:::${b}`),
        why,
      ),
      ...statement(
        'ReadRestoredAndSourceObjects',
        [
          's3:GetObject',
          's3:GetObjectVersion',
          's3:GetObjectAttributes',
          's3:GetObjectVersionAttributes',
          's3:GetObjectTagging',
        ],
        buckets.map((b) => `arn:${aws.partition}:s3:::${b}/*`),
        `${why}: every object in them is compared`,
      ),
      s3KmsDecrypt(aws, buckets, s3KmsKeyArns),
    ];
  },
  cli: () => import('./cli'),
};

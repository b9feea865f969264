/**
 * `restore-validation check s3 --bucket B [--source-bucket S | --manifest FILE] [--endpoint-url URL]
 * [--region R] [--recovery-point-time ISO]`: runs an S3 profile against any reachable bucket
 * (AWS, moto, MinIO). Full comparisons show a progress bar on stderr when it is a terminal.
 */
import type { LocalTarget } from '../../shared/local';
import { s3Validator } from './validator';

export const cliTarget: LocalTarget = {
  type: 's3',
  resourceType: 'S3',
  summary: 'check a bucket (restored copy) against its source bucket or a manifest',
  options: [
    { flags: '--bucket <name>', description: 'the restored bucket to check', required: true },
    {
      flags: '--source-bucket <name>',
      description: 'the source bucket to compare with (compare: with source)',
    },
    {
      flags: '--manifest <file>',
      description: 'a local S3 Inventory CSV or JSON list of {key,size,checksum} (compare: with manifest)',
    },
    {
      flags: '--endpoint-url <url>',
      description: 'S3 endpoint (moto, MinIO); implies path-style addressing',
    },
    { flags: '--region <region>', description: 'AWS region of the buckets' },
    {
      flags: '--recovery-point-time <iso>',
      description: 'recovery point time: source objects changed after it are drift, not failures',
    },
  ],
  validator: s3Validator,
  sourceResourceArn(target) {
    const source = typeof target.sourceBucket === 'string' ? target.sourceBucket : undefined;
    return source ? `arn:aws:s3:::${source}` : undefined;
  },
};

import * as z from 'zod';
import { checkBase, defineCheckKind } from './registry';

/** Key prefix filters of the S3 kinds. */
export const prefixes = {
  include: z.array(z.string()).optional().describe('Only keys under these prefixes.'),
  exclude: z.array(z.string()).optional().describe('Skip keys under these prefixes.'),
};

export const compareKind = defineCheckKind({
  key: 'compare',
  resourceTypes: ['S3', 'DynamoDB', 'DynamoDB.FullyManaged'],
  summary: 'compare the restored bucket or table with its source (or a manifest)',
  schema: z.strictObject({
    ...checkBase,
    compare: z.strictObject({
      with: z.enum(['source', 'manifest']).default('source'),
      mode: z.enum(['full', 'sample']).default('sample'),
      sample: z
        .number()
        .int()
        .positive()
        .optional()
        .describe('How many objects/items in sample mode (default 500 / 200).'),
      seed: z.number().int().optional().describe('Random seed for the sample (recorded in the evidence).'),
      manifest: z
        .string()
        .optional()
        .describe('s3://bucket/key of an S3 Inventory CSV or a JSON list of {key,size,checksum}.'),
      sourceBucket: z
        .string()
        .optional()
        .describe('Source bucket name when it is not the one in the source ARN.'),
      sourceTable: z
        .string()
        .optional()
        .describe('Source table name when it is not the one in the source ARN.'),
      changedAtAttribute: z
        .string()
        .optional()
        .describe('DynamoDB: items whose attribute is after the recovery point are skipped.'),
      tolerancePercent: z
        .number()
        .min(0)
        .max(100)
        .optional()
        .describe('DynamoDB: allowed item count difference in percent of the source (default 5).'),
      toleranceItems: z
        .number()
        .int()
        .min(0)
        .optional()
        .describe(
          'DynamoDB: allowed item count difference in items (default 0); the count passes within either tolerance, so small tables can allow a few writes since the recovery point.',
        ),
      allowEmpty: z
        .boolean()
        .optional()
        .describe(
          'An empty source and an empty restore are expected (default false: nothing compared is a failure).',
        ),
      sampleKeys: z
        .array(z.record(z.string(), z.union([z.string(), z.number()])))
        .min(1)
        .optional()
        .describe('DynamoDB: compare these items (by key) instead of a random sample.'),
      countMode: z
        .enum(['auto', 'exact', 'approximate'])
        .optional()
        .describe(
          'DynamoDB: exact (Scan COUNT), approximate (DescribeTable, ~6 h old) or auto (exact up to 100,000 items; default).',
        ),
      concurrency: z
        .number()
        .int()
        .min(1)
        .max(256)
        .optional()
        .describe('S3: objects proven at once (default 32).'),
      streamHash: z
        .enum(['CRC32C', 'SHA256'])
        .optional()
        .describe(
          'S3: hash used when both objects must be downloaded (default CRC32C; SHA256 where tampering is the threat).',
        ),
      trustListingEtags: z
        .boolean()
        .optional()
        .describe(
          'S3: equal ETags in both listings prove equal content without a request (default true); false proves every object from stored checksums or by hashing its bytes, never by ETag.',
        ),
      extra: z
        .enum(['report', 'fail'])
        .optional()
        .describe(
          'Objects (S3) or items (DynamoDB) only in the restore are reported (default) or fail the check.',
        ),
      distributed: z
        .enum(['auto', 'never', 'always'])
        .optional()
        .describe(
          'S3: hand a comparison that will not fit the Lambda to Step Functions (auto, the default), never, or always.',
        ),
      ...prefixes,
    }),
  }),
});

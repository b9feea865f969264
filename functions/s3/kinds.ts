/**
 * The check kinds only the S3 validator implements, beside it (./validator.ts). The config's
 * kind registry (shared/config/kinds/index.ts) lists them, so every function's config validation
 * knows every kind.
 */
import * as z from 'zod';
import { prefixes } from '../../shared/config/kinds/compare';
import { checkBase, defineCheckKind } from '../../shared/config/kinds/registry';

export const keysKind = defineCheckKind({
  key: 'keys',
  resourceTypes: ['S3'],
  summary: 'object keys that must exist',
  schema: z.strictObject({ ...checkBase, keys: z.array(z.string().min(1)).min(1) }),
});

export const minObjectsKind = defineCheckKind({
  key: 'minObjects',
  resourceTypes: ['S3'],
  summary: 'minimum number of objects in the bucket (under include prefixes)',
  schema: z.strictObject({ ...checkBase, minObjects: z.number().int().min(1), ...prefixes }),
});

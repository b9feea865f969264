/**
 * The check kinds only the DocumentDB validator implements, beside it (./validator.ts). The config's
 * kind registry (shared/config/kinds/index.ts) lists them, so every function's config validation
 * knows every kind.
 */
import * as z from 'zod';
import { expectation } from '../../shared/config/kinds/common';
import { checkBase, defineCheckKind } from '../../shared/config/kinds/registry';

export const collectionsKind = defineCheckKind({
  key: 'collections',
  resourceTypes: ['DocumentDB'],
  summary: 'collections that must exist, with at least minDocuments documents (default 1)',
  schema: z.strictObject({
    ...checkBase,
    collections: z.record(
      z.string(),
      z.strictObject({
        minDocuments: z
          .number()
          .int()
          .min(0)
          .optional()
          .describe(
            'Documents the collection must hold (default 1: an empty collection fails; 0 accepts it).',
          ),
      }),
    ),
  }),
});

export const findKind = defineCheckKind({
  key: 'find',
  resourceTypes: ['DocumentDB'],
  summary: 'a find with an expected result count',
  schema: z.strictObject({
    ...checkBase,
    find: z.strictObject({ collection: z.string(), filter: z.record(z.string(), z.unknown()).default({}) }),
    count: expectation,
  }),
});

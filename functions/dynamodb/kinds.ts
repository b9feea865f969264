/**
 * The check kinds only the DynamoDB validator implements, beside it (./validator.ts). The config's
 * kind registry (shared/config/kinds/index.ts) lists them, so every function's config validation
 * knows every kind.
 */
import * as z from 'zod';
import { checkBase, defineCheckKind } from '../../shared/config/kinds/registry';

export const itemsKind = defineCheckKind({
  key: 'items',
  resourceTypes: ['DynamoDB', 'DynamoDB.FullyManaged'],
  summary: 'items (by key) that must exist',
  schema: z.strictObject({
    ...checkBase,
    items: z.array(z.record(z.string(), z.union([z.string(), z.number()]))).min(1),
  }),
});

export const minItemsKind = defineCheckKind({
  key: 'minItems',
  resourceTypes: ['DynamoDB', 'DynamoDB.FullyManaged'],
  summary: 'minimum number of items in the table',
  schema: z.strictObject({ ...checkBase, minItems: z.number().int().min(1) }),
});

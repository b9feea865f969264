/**
 * The check kinds only the Neptune validator implements, beside it (./validator.ts). The config's
 * kind registry (shared/config/kinds/index.ts) lists them, so every function's config validation
 * knows every kind.
 */
import * as z from 'zod';
import { expectation } from '../../shared/config/kinds/common';
import { checkBase, defineCheckKind } from '../../shared/config/kinds/registry';

export const graphQueryKind = defineCheckKind({
  key: 'query',
  resourceTypes: ['Neptune'],
  summary: 'an openCypher or Gremlin query returning a count, with an expectation',
  schema: z.strictObject({
    ...checkBase,
    query: z.strictObject({ language: z.enum(['opencypher', 'gremlin']), text: z.string().min(1) }),
    expect: expectation,
  }),
});

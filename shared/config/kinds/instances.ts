import * as z from 'zod';
import { expectation, re2Pattern } from './common';
import { checkBase, defineCheckKind } from './registry';

export const httpKind = defineCheckKind({
  key: 'http',
  resourceTypes: ['EC2'],
  summary:
    'an HTTP health check: curl on the instance through SSM (PowerShell on Windows), or from the validator to the instance',
  schema: z.strictObject({
    ...checkBase,
    http: z.strictObject({
      url: z.url({ protocol: /^https?$/, error: 'expected an http:// or https:// URL' }),
      from: z
        .enum(['instance', 'validator'])
        .default('instance')
        .describe(
          "instance: run on the instance through SSM (needs an instance profile); validator: the validator connects to the instance's private IP (the URL's host is replaced), from its own network, as a client would",
        ),
      status: z.number().int().default(200),
      bodyMatches: re2Pattern.optional().describe('Regular expression the response body must match.'),
    }),
  }),
});

export const consoleOutputKind = defineCheckKind({
  key: 'consoleOutput',
  resourceTypes: ['EC2'],
  summary: 'console output free of kernel panic markers (and optionally matching a pattern)',
  schema: z.strictObject({
    ...checkBase,
    consoleOutput: z.strictObject({
      forbid: z
        .array(re2Pattern)
        .optional()
        .describe(
          'Extra patterns (regular expressions) that must not appear; kernel panic markers always fail.',
        ),
      require: z.array(re2Pattern).optional().describe('Patterns (regular expressions) that must appear.'),
    }),
  }),
});

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

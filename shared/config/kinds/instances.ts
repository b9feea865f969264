import * as z from 'zod';
import { regexProblem } from '../../regex';
import { expectation } from './common';
import { checkBase, registerCheckKind } from './registry';

/** A regular expression, compiled for RE2 at config load so a typo fails at synth, not mid-validation. */
const regex = z.string().superRefine((v, ctx) => {
  const problem = regexProblem(v);
  if (problem)
    ctx.addIssue({
      code: 'custom',
      message: `not a valid regular expression: ${problem} (patterns run on RE2: no backreferences or lookaround)`,
    });
});

export const ssmCommandCheck = registerCheckKind({
  key: 'command',
  resourceTypes: ['EC2'],
  summary: 'a shell command run on the instance through SSM Run Command; exit code and output must match',
  schema: z.strictObject({
    ...checkBase,
    command: z.string().min(1),
    exitCode: z.number().int().default(0),
    outputMatches: regex.optional().describe('Regular expression the command output (stdout) must match.'),
  }),
});

export const httpCheck = registerCheckKind({
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
      bodyMatches: regex.optional().describe('Regular expression the response body must match.'),
    }),
  }),
});

export const consoleOutputCheck = registerCheckKind({
  key: 'consoleOutput',
  resourceTypes: ['EC2'],
  summary: 'console output free of kernel panic markers (and optionally matching a pattern)',
  schema: z.strictObject({
    ...checkBase,
    consoleOutput: z.strictObject({
      forbid: z
        .array(regex)
        .optional()
        .describe(
          'Extra patterns (regular expressions) that must not appear; kernel panic markers always fail.',
        ),
      require: z.array(regex).optional().describe('Patterns (regular expressions) that must appear.'),
    }),
  }),
});

export const collectionsCheck = registerCheckKind({
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

export const findCheck = registerCheckKind({
  key: 'find',
  resourceTypes: ['DocumentDB'],
  summary: 'a find with an expected result count',
  schema: z.strictObject({
    ...checkBase,
    find: z.strictObject({ collection: z.string(), filter: z.record(z.string(), z.unknown()).default({}) }),
    count: expectation,
  }),
});

export const graphQueryCheck = registerCheckKind({
  key: 'query',
  resourceTypes: ['Neptune'],
  summary: 'an openCypher or Gremlin query returning a count, with an expectation',
  schema: z.strictObject({
    ...checkBase,
    query: z.strictObject({ language: z.enum(['opencypher', 'gremlin']), text: z.string().min(1) }),
    expect: expectation,
  }),
});

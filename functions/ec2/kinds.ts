/**
 * The check kinds only the EC2 validator implements, beside it (./validator.ts). The config's
 * kind registry (shared/config/kinds/index.ts) lists them, so every function's config validation
 * knows every kind.
 */
import * as z from 'zod';
import { re2Pattern } from '../../shared/config/kinds/common';
import { checkBase, defineCheckKind } from '../../shared/config/kinds/registry';

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

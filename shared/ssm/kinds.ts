/** The check kind run through SSM Run Command (run-command.ts), implemented by the EC2 validator. */
import * as z from 'zod';
import { re2Pattern } from '../config/kinds/common';
import { checkBase, defineCheckKind } from '../config/kinds/registry';

export const ssmCommandKind = defineCheckKind({
  key: 'command',
  resourceTypes: ['EC2'],
  summary: 'a shell command run on the instance through SSM Run Command; exit code and output must match',
  schema: z.strictObject({
    ...checkBase,
    command: z.string().min(1),
    exitCode: z.number().int().default(0),
    outputMatches: re2Pattern
      .optional()
      .describe('Regular expression the command output (stdout) must match.'),
  }),
});

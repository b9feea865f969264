import * as z from 'zod';
import { checkBase, defineCheckKind } from './config/kinds/registry';

/** Any language: invokes the user's Lambda with the documented payload (docs/extending.md). */
export const lambdaKind = defineCheckKind({
  key: 'lambda',
  summary: "invoke a user's Lambda function with the restore context and read its {status, detail} answer",
  schema: z.strictObject({
    ...checkBase,
    lambda: z.strictObject({
      functionArn: z
        .string()
        .regex(
          /^arn:aws[a-z-]*:lambda:[a-z0-9-]+:\d{12}:function:[A-Za-z0-9_-]+(:[A-Za-z0-9_$-]+)?$/,
          'expected a Lambda function ARN',
        ),
      timeoutSeconds: z.number().int().positive().max(900).default(60),
      options: z
        .record(z.string(), z.unknown())
        .optional()
        .describe('Passed to the function as payload.options.'),
    }),
  }),
});

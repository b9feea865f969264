import * as z from 'zod';
import { regexProblem } from '../../regex';

/**
 * A number from the config that is exact: YAML and JSON numbers are doubles, so an integer beyond
 * 2^53 − 1 has already lost digits when it is read (9007199254740993 becomes …992).
 */
const exactNumber = z.number().refine((n) => !Number.isInteger(n) || Number.isSafeInteger(n), {
  message:
    'this integer is larger than 2^53 − 1 and loses digits as a YAML/JSON number: quote it ("9007199254740993")',
});

/** Per-column expectation for query results (DESIGN.md: equals | min | max | matches | notNull). */
export const expectation = z
  .strictObject({
    equals: z.union([z.string(), exactNumber, z.boolean(), z.null()]).optional(),
    min: z.union([exactNumber, z.string().regex(/^-?\d+(\.\d+)?$/)]).optional(),
    max: z.union([exactNumber, z.string().regex(/^-?\d+(\.\d+)?$/)]).optional(),
    matches: z
      .string()
      .optional()
      .describe(
        'A regular expression (RE2: no backreferences or lookaround) the value (as text) must match.',
      ),
    notNull: z.boolean().optional(),
  })
  .refine((e) => Object.values(e).some((v) => v !== undefined), {
    message: 'give at least one of equals, min, max, matches, notNull',
  })
  .refine((e) => e.min === undefined || e.max === undefined || Number(e.min) <= Number(e.max), {
    message: 'min is greater than max: no value can pass; swap them',
    path: ['min'],
  })
  .superRefine((e, ctx) => {
    const problem = e.matches === undefined ? undefined : regexProblem(e.matches);
    if (problem)
      ctx.addIssue({
        code: 'custom',
        path: ['matches'],
        message: `not a valid regular expression: ${problem} (patterns run on RE2: no backreferences or lookaround)`,
      });
  });
export type Expectation = z.infer<typeof expectation>;

/** A regular expression, compiled for RE2 at config load so a typo fails at synth, not mid-validation. */
export const re2Pattern = z.string().superRefine((v, ctx) => {
  const problem = regexProblem(v);
  if (problem)
    ctx.addIssue({
      code: 'custom',
      message: `not a valid regular expression: ${problem} (patterns run on RE2: no backreferences or lookaround)`,
    });
});

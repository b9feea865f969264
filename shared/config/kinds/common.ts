import * as z from 'zod';
import { regexProblem } from '../../regex';

/** Per-column expectation for query results (DESIGN.md: equals | min | max | matches | notNull). */
export const expectation = z
  .strictObject({
    equals: z.union([z.string(), z.number(), z.boolean(), z.null()]).optional(),
    min: z.union([z.number(), z.string().regex(/^-?\d+(\.\d+)?$/)]).optional(),
    max: z.union([z.number(), z.string().regex(/^-?\d+(\.\d+)?$/)]).optional(),
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

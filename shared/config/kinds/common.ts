import * as z from 'zod';

/** Per-column expectation for query results (DESIGN.md: equals | min | max | matches | notNull). */
export const expectation = z
  .strictObject({
    equals: z.union([z.string(), z.number(), z.boolean(), z.null()]).optional(),
    min: z.union([z.number(), z.string().regex(/^-?\d+(\.\d+)?$/)]).optional(),
    max: z.union([z.number(), z.string().regex(/^-?\d+(\.\d+)?$/)]).optional(),
    matches: z.string().optional().describe('A regular expression the value (as text) must match.'),
    notNull: z.boolean().optional(),
  })
  .refine((e) => Object.values(e).some((v) => v !== undefined), {
    message: 'give at least one of equals, min, max, matches, notNull',
  });
export type Expectation = z.infer<typeof expectation>;

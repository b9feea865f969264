import * as z from 'zod';
import { expectation } from './common';
import { checkBase, registerCheckKind } from './registry';

const SQL_TYPES = ['RDS', 'Aurora'] as const;

export const sqlCheck = registerCheckKind({
  key: 'sql',
  resourceTypes: SQL_TYPES,
  summary: 'run a read-only query and compare columns of its first row (and the row count) with expectations',
  schema: z.strictObject({
    ...checkBase,
    sql: z.string().min(1),
    expect: z
      .record(z.string(), expectation)
      .optional()
      .describe('Expectations per column of the first row.'),
    rows: expectation.optional().describe('Expectation on the number of rows returned.'),
  }),
});

export const freshnessCheck = registerCheckKind({
  key: 'freshness',
  resourceTypes: SQL_TYPES,
  summary: 'newest timestamp (first column of the first row) within maxAgeMinutes before the recovery point',
  schema: z.strictObject({
    ...checkBase,
    freshness: z.strictObject({
      sql: z.string().min(1),
      maxAgeMinutes: z.number().positive(),
      timeZone: z
        .string()
        .min(1)
        .refine((tz) => {
          try {
            new Intl.DateTimeFormat('en-US', { timeZone: tz });
            return true;
          } catch {
            return false;
          }
        }, 'unknown time zone: use an IANA name such as UTC or Europe/Berlin')
        .optional()
        .describe(
          'Zone of timestamps without an offset (timestamp without time zone, DATETIME). Default UTC.',
        ),
    }),
  }),
});

export const tablesCheck = registerCheckKind({
  key: 'tables',
  resourceTypes: SQL_TYPES,
  summary: 'tables (optionally schema-qualified) that must exist',
  schema: z.strictObject({ ...checkBase, tables: z.array(z.string().min(1)).min(1) }),
});

export const rowCountsCheck = registerCheckKind({
  key: 'rowCounts',
  resourceTypes: SQL_TYPES,
  summary: 'row counts of tables compared with the source database within a tolerance',
  schema: z.strictObject({
    ...checkBase,
    rowCounts: z.strictObject({
      tables: z.array(z.string().min(1)).min(1),
      tolerancePercent: z.number().min(0).max(100).default(0),
    }),
  }),
});

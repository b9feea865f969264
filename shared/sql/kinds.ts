import * as z from 'zod';
import { expectation } from '../config/kinds/common';
import { checkBase, defineCheckKind } from '../config/kinds/registry';
import { parseTableName } from './identifiers';

const SQL_TYPES = ['RDS', 'Aurora'] as const;

export const sqlKind = defineCheckKind({
  key: 'sql',
  resourceTypes: SQL_TYPES,
  summary: 'run a read-only query and compare columns of its first row (and the row count) with expectations',
  schema: z
    .strictObject({
      ...checkBase,
      sql: z.string().min(1),
      expect: z
        .record(z.string(), expectation)
        .optional()
        .describe('Expectations per column of the first row.'),
      rows: expectation
        .optional()
        .describe(
          'Expectation on the number of rows returned (rows: { min: 0 } only proves the query runs).',
        ),
    })
    // A query with nothing to compare passes on any result, also an empty one: never a check.
    .refine((c) => c.rows !== undefined || Object.keys(c.expect ?? {}).length > 0, {
      message:
        'a sql check needs something to compare: add expect (per column of the first row) or rows (e.g. rows: { min: 1 }; rows: { min: 0 } only proves that the query runs)',
      path: ['expect'],
    }),
});

export const freshnessKind = defineCheckKind({
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

/** A table name as written in SQL: `orders`, `public.orders`, `"MixedCase"`, `` `Orders` `` (MySQL). */
const tableName = z
  .string()
  .min(1)
  .refine((n) => {
    try {
      parseTableName(n);
      return true;
    } catch {
      return false;
    }
  }, 'not a table name: write it as in SQL, e.g. orders, public.orders or "MixedCase" (quote names with capitals or dots)');

export const tablesKind = defineCheckKind({
  key: 'tables',
  resourceTypes: SQL_TYPES,
  summary: 'tables (optionally schema-qualified) that must exist and hold at least minRows rows (default 1)',
  schema: z.strictObject({
    ...checkBase,
    tables: z.array(tableName).min(1),
    minRows: z
      .number()
      .int()
      .min(0)
      .default(1)
      .describe('Rows each table must hold (default 1: an empty table fails; 0 accepts empty tables).'),
  }),
});

export const rowCountsKind = defineCheckKind({
  key: 'rowCounts',
  resourceTypes: SQL_TYPES,
  summary: 'row counts of tables compared with the source database within a tolerance',
  schema: z.strictObject({
    ...checkBase,
    rowCounts: z.strictObject({
      tables: z.array(tableName).min(1),
      tolerancePercent: z.number().min(0).max(100).default(0),
    }),
  }),
});

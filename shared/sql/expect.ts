/**
 * Evaluates the per-column expectations of a `sql` check (`equals`, `min`, `max`, `matches`,
 * `notNull`) and the row-count expectation. Numbers compare exactly (see decimal.ts). A failure
 * reason shows a measured value only when it is numeric: text values may hold personal data and
 * are never copied into verdicts or evidence.
 */
import type { Expectation } from '../config/kinds/common';
import { compileRegex, type LinearRegex } from '../regex';
import { compareNumeric, isNumeric } from './decimal';
import type { ColumnKind } from './types';

const TRUE_TEXT = new Set(['t', 'true', '1', 'y', 'yes', 'on']);
const FALSE_TEXT = new Set(['f', 'false', '0', 'n', 'no', 'off']);

function asText(value: unknown): string {
  if (typeof value === 'string') return value;
  if (Buffer.isBuffer(value)) return value.toString('utf8');
  if (value instanceof Date) return value.toISOString();
  if (typeof value === 'object' && value !== null) return JSON.stringify(value);
  return String(value);
}

/**
 * The value as shown in a reason: numbers only, other values by their kind. Text that reads as a
 * number (an account or phone number in a text column) is still text, and is described by length.
 */
export function describeValue(value: unknown, kind?: ColumnKind): string {
  if (value === null || value === undefined) return 'NULL';
  if (typeof value === 'boolean') return String(value);
  if (kind !== 'text' && isNumeric(value)) return String(value);
  return `a ${typeof value === 'string' ? `text value (${value.length} characters)` : typeof value}`;
}

function equalsValue(
  value: unknown,
  expected: string | number | boolean | null,
  kind: ColumnKind | undefined,
): boolean {
  if (expected === null) return value === null || value === undefined;
  if (value === null || value === undefined) return false;
  if (typeof expected === 'boolean') {
    // MySQL has no boolean type: BOOLEAN is TINYINT(1) and comes back as 0/1.
    if (typeof value === 'boolean') return value === expected;
    const t = asText(value).trim().toLowerCase();
    return expected ? TRUE_TEXT.has(t) : FALSE_TEXT.has(t);
  }
  // A text column compares as text, exactly: '00123' is not 123, nor "123".
  if (kind === 'text') return asText(value) === String(expected);
  if (typeof expected === 'number') return compareNumeric(value, expected) === 0;
  // bigint/numeric columns arrive as strings: "1000.00" equals "1000"; other text compares exactly.
  if (asText(value) === expected) return true;
  // Strings of unknown or non-numeric types (uuid, date, …) compare as text only.
  return typeof value !== 'string' || kind === 'number' || kind === undefined
    ? compareNumeric(value, expected) === 0
    : false;
}

/**
 * Checks one value against one expectation. Returns undefined when it holds, else the reason.
 * @param what how to name the value in the reason, e.g. `column n` or `row count`
 */
export function evaluateExpectation(
  what: string,
  value: unknown,
  e: Expectation,
  kind?: ColumnKind,
): string | undefined {
  const isNull = value === null || value === undefined;
  if (e.notNull === true && isNull) return `${what} is NULL`;
  const shown = describeValue(value, kind);
  if (e.notNull === false && !isNull) return `${what} is not NULL (${shown})`;
  if (e.equals !== undefined && !equalsValue(value, e.equals, kind)) {
    return `${what} is ${shown}, expected ${e.equals === null ? 'NULL' : JSON.stringify(e.equals)}`;
  }
  for (const [bound, limit] of [
    ['min', e.min],
    ['max', e.max],
  ] as const) {
    if (limit === undefined) continue;
    if (isNull) return `${what} is NULL, expected ${bound} ${limit}`;
    const c = compareNumeric(value, limit);
    if (c === undefined) return `${what} is ${shown}, not a number to compare with ${bound} ${limit}`;
    if (bound === 'min' && c < 0) return `${what} is ${shown}, below min ${limit}`;
    if (bound === 'max' && c > 0) return `${what} is ${shown}, above max ${limit}`;
  }
  if (e.matches !== undefined) {
    if (isNull) return `${what} is NULL, expected to match /${e.matches}/`;
    let re: LinearRegex;
    try {
      re = compileRegex(e.matches);
    } catch (err) {
      return `invalid regular expression /${e.matches}/: ${(err as Error).message}`;
    }
    if (!re.test(asText(value))) return `${what} (${shown}) does not match /${e.matches}/`;
  }
  return undefined;
}

/**
 * Config errors as sentences a user can act on: zod's "Invalid input: expected number, received
 * string" becomes "must be a number, got the text "four": write it without quotes, e.g. 4".
 * Messages written in the schema itself (`'expected a Secrets Manager secret ARN'`) are kept.
 */
import type { z } from 'zod';
import { suggest } from './suggest';

const A: Record<string, string> = {
  number: 'a number',
  int: 'a whole number',
  string: 'text',
  boolean: 'true or false',
  object: 'a mapping (key: value)',
  array: 'a list',
};

const EXAMPLE: Record<string, string> = {
  number: 'e.g. 30',
  int: 'e.g. 4',
  string: 'e.g. "orders"',
  boolean: 'write true or false without quotes',
  object: 'indent the keys under it',
  array: 'e.g. [a, b] or one "- item" per line',
};

/** Describes a value as the user wrote it. */
function shown(v: unknown): string {
  if (v === null) return 'nothing (null)';
  if (typeof v === 'string') return `the text ${JSON.stringify(v.length > 40 ? `${v.slice(0, 39)}…` : v)}`;
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  return `${typeof v === 'number' ? 'the number' : ''} ${String(v)}`.trim();
}

const isZodDefault = (m: string) => /^(Invalid|Too (small|big)|Expected)/.test(m);

/** The sentence for one issue; `input` is the offending value (parse with `reportInput: true`). */
export function humanMessage(issue: z.core.$ZodIssue): string {
  const input = (issue as { input?: unknown }).input;
  // A message the schema itself gives (`.max(65535, 'a port is 1-65535')`) already says what to do.
  if (issue.code !== 'invalid_union' && !isZodDefault(issue.message)) return issue.message;
  switch (issue.code) {
    case 'invalid_type': {
      const expected = String(issue.expected);
      if (input === undefined) return `is missing: add it (${A[expected] ?? expected})`;
      const fix =
        expected === 'number' && typeof input === 'string' && /^-?\d+(\.\d+)?$/.test(input)
          ? `write it without quotes: ${input}`
          : (EXAMPLE[expected] ?? '');
      return `must be ${A[expected] ?? expected}, got ${shown(input)}${fix ? `: ${fix}` : ''}`;
    }
    case 'too_small':
    case 'too_big': {
      const small = issue.code === 'too_small';
      const bound = small
        ? (issue as z.core.$ZodIssueTooSmall).minimum
        : (issue as z.core.$ZodIssueTooBig).maximum;
      const inclusive = issue.inclusive !== false;
      if (issue.origin === 'string')
        return small && Number(bound) <= 1
          ? 'must not be empty'
          : `must have ${small ? 'at least' : 'at most'} ${bound} characters`;
      if (issue.origin === 'array')
        return small
          ? `needs at least ${bound} entr${Number(bound) === 1 ? 'y' : 'ies'}`
          : `takes at most ${bound} entries`;
      const word = small ? (inclusive ? 'at least' : 'more than') : inclusive ? 'at most' : 'less than';
      const fix = small
        ? inclusive
          ? `${bound} or more`
          : `a value above ${bound}`
        : inclusive
          ? `${bound} or less`
          : `a value below ${bound}`;
      return `must be ${word} ${bound}, got ${shown(input)}: change it to ${fix}`;
    }
    case 'invalid_value': {
      const values = issue.values.map((v) => JSON.stringify(v));
      const hint = typeof input === 'string' ? suggest(input, issue.values.map(String)) : '';
      return values.length === 1
        ? `must be ${values[0]}, got ${shown(input)}`
        : `must be one of ${values.join(', ')}; got ${shown(input)}${hint}`;
    }
    case 'invalid_union': {
      // oneOrMany(x): the first alternative says what one value must be.
      const first = issue.errors[0]?.[0];
      if (first && first.path.length === 0)
        return `${humanMessage({ ...first, input } as z.core.$ZodIssue)} (or a list of such values)`;
      return `has the wrong shape (got ${shown(input)}): see "restore-validation schema" for what it takes`;
    }
    case 'invalid_format':
      return isZodDefault(issue.message)
        ? `is not in the expected format, got ${shown(input)}`
        : issue.message;
    default:
      return issue.message;
  }
}

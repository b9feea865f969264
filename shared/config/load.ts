import { readFileSync } from 'node:fs';
import type { z } from 'zod';
import { ConfigError, type FilePosition } from '../errors';
import { humanMessage } from './messages';
import { type Config, configSchema } from './schema';
import { suggest } from './suggest';

/** Formats a zod issue path as `profiles[0].checks[1].expect.n.min`. */
export function formatPath(path: readonly PropertyKey[]): string {
  return path.reduce<string>(
    (acc, p) => (typeof p === 'number' ? `${acc}[${p}]` : acc ? `${acc}.${String(p)}` : String(p)),
    '',
  );
}

const TOP_KEYS = ['version', 'defaults', 'profiles', 'restoreTesting', '$schema'];
const PROFILE_KEYS = [
  'name',
  'description',
  'match',
  'connection',
  'reportValidating',
  'failWhenNothingChecked',
  'concurrency',
  'checkTimeoutSeconds',
  'objectives',
  'options',
  'checks',
];

function messageFor(issue: z.core.$ZodIssue): string {
  if (issue.code === 'unrecognized_keys') {
    const where =
      issue.path.length === 0
        ? TOP_KEYS
        : issue.path.length === 2 && issue.path[0] === 'profiles'
          ? PROFILE_KEYS
          : [];
    return `unknown key${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `"${k}"${suggest(k, where)}`).join(', ')}`;
  }
  return humanMessage(issue);
}

/** Finds where a config path is in the source text (YAML parsing gives this; parsed JSON does not). */
export type Locate = (path: readonly PropertyKey[]) => FilePosition | undefined;

/**
 * Validates an already-parsed config object; every problem is reported, each with its path (and its
 * line and column when `locate` can tell).
 */
export function parseConfig(raw: unknown, file = 'config', locate?: Locate): Config {
  const result = configSchema.safeParse(raw, { reportInput: true });
  if (result.success) return result.data;
  const issues = result.error.issues;
  // An unknown key is located at the key itself, not at the mapping that holds it.
  const where = (i: z.core.$ZodIssue) =>
    i.code === 'unrecognized_keys' && i.keys[0] !== undefined ? [...i.path, i.keys[0]] : i.path;
  const at = (i: z.core.$ZodIssue) => {
    const p = locate?.(where(i));
    return p ? `line ${p.line}, column ${p.column}, ` : '';
  };
  const problems = issues.map((i) => `${at(i)}${formatPath(i.path) || '(top level)'}: ${messageFor(i)}`);
  const first = issues[0];
  throw new ConfigError(
    file,
    first ? formatPath(first.path) : '',
    problems.length === 1
      ? first
        ? messageFor(first)
        : 'invalid'
      : `${problems.length} problems:\n  - ${problems.join('\n  - ')}`,
    { position: first ? locate?.(where(first)) : undefined },
  );
}

/** Reads a JSON config file (what the stack bundles into each function) without the YAML parser. */
export function loadJsonConfigFile(file: string): Config {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new ConfigError(
      file,
      '',
      code ? `cannot read the config file (${code})` : `not valid JSON: ${(err as Error).message}`,
      {
        cause: err,
      },
    );
  }
  return parseConfig(raw, file);
}

/** A config with no profiles: every validator still runs its built-in state checks. */
export function emptyConfig(): Config {
  return parseConfig({ version: 1 });
}

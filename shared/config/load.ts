import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import YAML from 'yaml';
import type { z } from 'zod';
import { ConfigError } from '../errors';
import { type Config, configSchema, suggest } from './schema';

/** Formats a zod issue path as `profiles[0].checks[1].expect.n.min`. */
export function formatPath(path: readonly PropertyKey[]): string {
  return path.reduce<string>(
    (acc, p) => (typeof p === 'number' ? `${acc}[${p}]` : acc ? `${acc}.${String(p)}` : String(p)),
    '',
  );
}

const TOP_KEYS = ['version', 'defaults', 'profiles', '$schema'];
const PROFILE_KEYS = [
  'name',
  'description',
  'match',
  'connection',
  'reportValidating',
  'failWhenNothingChecked',
  'concurrency',
  'checkTimeoutSeconds',
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
  return issue.message;
}

/** Validates an already-parsed config object; every problem is reported, each with its path. */
export function parseConfig(raw: unknown, file = 'config'): Config {
  const result = configSchema.safeParse(raw);
  if (result.success) return result.data;
  const problems = result.error.issues.map((i) => `${formatPath(i.path) || '(top level)'}: ${messageFor(i)}`);
  const first = result.error.issues[0];
  throw new ConfigError(
    file,
    first ? formatPath(first.path) : '',
    problems.length === 1
      ? first
        ? messageFor(first)
        : 'invalid'
      : `${problems.length} problems:\n  - ${problems.join('\n  - ')}`,
  );
}

/** Parses YAML or JSON text (JSON is YAML) and validates it. */
export function parseConfigText(text: string, file = 'config'): Config {
  let raw: unknown;
  try {
    const doc = YAML.parseDocument(text, { prettyErrors: true, uniqueKeys: true });
    if (doc.errors.length > 0) throw doc.errors[0];
    raw = doc.toJS();
  } catch (err) {
    throw new ConfigError(
      basename(file) === file ? file : file,
      '',
      `not valid YAML/JSON: ${(err as Error).message}`,
      { cause: err },
    );
  }
  if (raw === null || raw === undefined)
    throw new ConfigError(file, '', 'the file is empty: start with "version: 1"');
  return parseConfig(raw, file);
}

/** Reads and validates a config file. Errors name the file, the path inside it and the problem. */
export function loadConfigFile(file: string): Config {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(
      file,
      '',
      `cannot read the config file (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`,
      {
        cause: err,
      },
    );
  }
  return parseConfigText(text, file);
}

/** A config with no profiles: every validator still runs its built-in state checks. */
export function emptyConfig(): Config {
  return parseConfig({ version: 1 });
}

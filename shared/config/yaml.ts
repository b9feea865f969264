/**
 * Config files in YAML (or JSON, which is YAML). Kept apart from load.ts so that Lambda bundles, which
 * read the JSON the stack converted at synth, do not carry the YAML parser.
 */
import { readFileSync } from 'node:fs';
import YAML from 'yaml';
import { ConfigError } from '../errors';
import { parseConfig } from './load';
import type { Config } from './schema';

/** Parses YAML or JSON text (JSON is YAML) and validates it. */
export function parseConfigText(text: string, file = 'config'): Config {
  let raw: unknown;
  try {
    const doc = YAML.parseDocument(text, { prettyErrors: true, uniqueKeys: true });
    if (doc.errors.length > 0) throw doc.errors[0];
    raw = doc.toJS();
  } catch (err) {
    throw new ConfigError(file, '', `not valid YAML/JSON: ${(err as Error).message}`, { cause: err });
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

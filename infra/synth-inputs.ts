/**
 * What `RestoreValidation` reads from disk at synth: the config (validated, then written as the JSON
 * each bundle carries), the handlers, the package version, and whether esbuild is there to bundle.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import YAML from 'yaml';
import { type Config, loadConfigFile } from '../shared/config';
import { PROJECT_ROOT } from './bundling';
import { RestoreValidationPropsError } from './restore-validation-props';

/** Loads and validates the config; a ConfigError (file, path, reason) fails synth as is. */
export function loadAndSerializeConfig(configPath: string): { config: Config; file: string } {
  const config = loadConfigFile(configPath);
  // Bundle the user's input (validated above), not the parsed output: the runtime re-validates at
  // cold start and the parsed form carries derived fields (`kind`) the strict schema rejects.
  const raw: unknown = YAML.parse(readFileSync(configPath, 'utf8'));
  const json = `${JSON.stringify(raw, null, 2)}\n`;
  const dir = join(tmpdir(), 'restore-validation-config');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${createHash('sha256').update(json).digest('hex').slice(0, 16)}.json`);
  writeFileSync(file, json);
  return { config, file };
}

/** The handlers folder, checked: inside the project root, with `<type>/handler.ts` for every type and the DLQ consumer. */
export function handlersDir(functionsDir: string | undefined, types: readonly string[]): string {
  const dir = resolve(functionsDir ?? join(PROJECT_ROOT, 'functions'));
  if (relative(PROJECT_ROOT, dir).startsWith('..')) {
    throw new RestoreValidationPropsError(
      `functionsDir "${dir}" is outside the project root ${PROJECT_ROOT}: esbuild bundles from the project root, move the handlers inside it.`,
    );
  }
  for (const type of [...types, 'dlq']) {
    const entry = join(dir, type, 'handler.ts');
    if (!existsSync(entry)) {
      throw new RestoreValidationPropsError(
        `${relative(process.cwd(), entry)} does not exist: add the handler, or remove "${type}" from resourceTypes.`,
      );
    }
  }
  return dir;
}

/**
 * NodejsFunction silently falls back to Docker bundling when it cannot find esbuild, which fails
 * offline with an unrelated Docker error; say what is missing instead.
 */
export function assertLocalEsbuild(): void {
  try {
    createRequire(join(PROJECT_ROOT, 'package.json')).resolve('esbuild');
  } catch {
    throw new RestoreValidationPropsError(
      `esbuild is not installed in ${PROJECT_ROOT}/node_modules: run "npm ci" (bundling is local; Docker is not used).`,
    );
  }
}

export function readPackageVersion(): string {
  try {
    return (
      (JSON.parse(readFileSync(join(PROJECT_ROOT, 'package.json'), 'utf8')) as { version?: string })
        .version ?? '0.0.0'
    );
  } catch {
    return '0.0.0';
  }
}

/**
 * Standalone path-check program for the helper instance:
 *
 *     node path-check.cjs --root /mnt/restore-validation --checks-base64 <base64 JSON array>
 *
 * Prints exactly one JSON object (PathCheckResult). Exit code 0 when `ok`, 1 when a check failed,
 * 2 for usage errors.
 */
import { parseArgs } from 'node:util';
import type { FsCheckSpec } from '../mount-check/types';
import { runPathCheck } from './index';

function usage(message: string): never {
  process.stderr.write(`path-check: ${message}\nusage: path-check --root DIR --checks-base64 B64\n`);
  process.exit(2);
}

async function main(): Promise<void> {
  let values: Record<string, string | boolean | undefined> = {};
  try {
    ({ values } = parseArgs({
      options: { root: { type: 'string' }, 'checks-base64': { type: 'string' } },
      strict: true,
    }));
  } catch (err) {
    usage(err instanceof Error ? err.message : String(err));
  }
  const root = values.root;
  if (typeof root !== 'string' || !root) usage('--root is required');
  let checks: FsCheckSpec[] = [];
  try {
    const parsed: unknown = JSON.parse(
      Buffer.from(String(values['checks-base64'] ?? 'W10='), 'base64').toString('utf8'),
    );
    if (!Array.isArray(parsed)) usage('checks must be a JSON array');
    checks = parsed as FsCheckSpec[];
  } catch (err) {
    usage(`checks are not valid JSON: ${err instanceof Error ? err.message : String(err)}`);
  }
  const result = await runPathCheck({ root, checks });
  process.stdout.write(`${JSON.stringify(result)}\n`);
  process.exitCode = result.ok ? 0 : 1;
}

void main();

/**
 * How a validator plugs into `restore-validation check <type>`: the CLI parses the target flags
 * declared here and runs the same ValidatorDefinition in `local` mode, with the flags in `ctx.target`
 * (camel-cased: `--password-env` → `passwordEnv`). Each type's `functions/<type>/cli.ts` exports one.
 */
import { UsageError } from './errors';
import type { ResourceType } from './resource-types';
import type { ValidatorDefinition } from './validator';

export interface TargetOption {
  /** commander flags, e.g. `--host <host>`, `--tls`. */
  readonly flags: string;
  readonly description: string;
  readonly required?: boolean;
  readonly defaultValue?: string | boolean;
  /** Allowed values (validated by the CLI). */
  readonly choices?: readonly string[];
}

export interface LocalTarget {
  /** The `check <type>` word: `rds`, `aurora`, `ebs`, `s3`, `dynamodb`, … */
  readonly type: string;
  /** The resource type profiles are matched against. */
  readonly resourceType: ResourceType;
  readonly summary: string;
  readonly options: readonly TargetOption[];
  // biome-ignore lint/suspicious/noExplicitAny: each target has its own facts type
  readonly validator: ValidatorDefinition<any>;
  /** Optional: a source ARN to match profiles with, from the target flags. */
  sourceResourceArn?(target: Readonly<Record<string, unknown>>): string | undefined;
  /** Optional: release what the CLI set up for the target (e.g. loop devices); always called. */
  release?(target: Readonly<Record<string, unknown>>): Promise<void>;
}

const WITH_OFFSET = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$/i;

/**
 * Reads a time flag such as `--recovery-point-time`: ISO 8601 with an offset (`Z` or `+01:00`).
 * A time without one would be read in the process's time zone (every freshness age off by hours on
 * another machine), so it is refused rather than guessed.
 * @throws UsageError naming the flag and the fix
 */
export function parseInstantFlag(value: unknown, flag: string): Date | undefined {
  if (value === undefined) return undefined;
  const text = String(value).trim();
  const d = new Date(text);
  if (Number.isNaN(d.getTime()))
    throw new UsageError(
      `${flag} ${JSON.stringify(value)} is not an ISO 8601 time (e.g. 2026-11-24T22:00:00Z)`,
    );
  if (!WITH_OFFSET.test(text))
    throw new UsageError(
      `${flag} ${JSON.stringify(value)} has no time zone offset: add Z for UTC or an offset such as +01:00 (e.g. 2026-11-24T22:00:00Z)`,
    );
  return d;
}

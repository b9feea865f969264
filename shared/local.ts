/**
 * How a validator plugs into `restore-validation check <type>`: the CLI parses the target flags
 * declared here and runs the same ValidatorDefinition in `local` mode, with the flags in `ctx.target`
 * (camel-cased: `--password-env` → `passwordEnv`). Each type's `functions/<type>/cli.ts` exports one.
 */
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

/**
 * The registry of check kinds a profile may use. A check in the config is `{ id, <kind>: ..., ...options }`:
 * exactly one kind key says what to check. Built-in kinds register here on import; users add their own
 * with `registerCheckKind` (see shared/extend.ts), so their configs are validated the same way.
 */
import * as z from 'zod';
import type { ResourceType } from '../../resource-types';

export interface CheckKind<S extends z.ZodType = z.ZodType> {
  /** The key that names this kind in a check object, e.g. `sql`, `paths`, `compare`. */
  readonly key: string;
  /** Schema of the whole check object (including `id`); should be strict so typos fail. */
  readonly schema: S;
  /** Resource types whose validators implement this kind; omitted = every type. */
  readonly resourceTypes?: readonly ResourceType[];
  /** One line for docs and error messages. */
  readonly summary: string;
}

const kinds = new Map<string, CheckKind>();

/** Fields every check has. */
export const checkBase = {
  id: z
    .string()
    .regex(
      /^[A-Za-z0-9][A-Za-z0-9._:/-]{0,127}$/,
      'use 1-128 letters, digits and . _ : / - (start with a letter or digit)',
    )
    .describe('Unique id of the check; appears in the verdict message and the evidence.'),
  description: z.string().optional().describe('What the check proves, for people reading the evidence.'),
  timeoutSeconds: z
    .number()
    .positive()
    .max(900)
    .optional()
    .describe('Per-check timeout (default from defaults.checkTimeoutSeconds).'),
};

/**
 * A built-in kind, declared beside the code that implements it; shared/config/kinds/index.ts registers
 * them all in one fixed order (the order of the generated JSON Schema and of error messages).
 */
export const defineCheckKind = <S extends z.ZodType>(kind: CheckKind<S>): CheckKind<S> => kind;

export function registerCheckKind<S extends z.ZodType>(kind: CheckKind<S>): CheckKind<S> {
  const existing = kinds.get(kind.key);
  if (existing && existing !== kind) {
    throw new TypeError(`check kind "${kind.key}" is already registered`);
  }
  kinds.set(kind.key, kind);
  return kind;
}

export function checkKinds(): readonly CheckKind[] {
  return [...kinds.values()];
}

export function checkKind(key: string): CheckKind | undefined {
  return kinds.get(key);
}

/** A parsed check: its options plus `kind`, the key that named it. */
export type CheckConfig = { readonly kind: string; readonly id: string; readonly [key: string]: unknown };

/** The options of a check of this kind after parsing (the output of its schema). */
export type CheckOptions<K extends CheckKind> = z.output<K['schema']> & { readonly kind: string };

/**
 * A parsed check's options, typed by its kind's schema: config validation parsed the check with the
 * schema of the kind that names it (shared/config/schema.ts), so implementations need no casts.
 */
export function optionsOf<S extends z.ZodType>(
  kind: CheckKind<S>,
  check: CheckConfig,
): CheckOptions<CheckKind<S>> {
  if (check.kind !== kind.key)
    throw new TypeError(`check "${check.id}" is a "${check.kind}" check, not a "${kind.key}" check`);
  return check as unknown as CheckOptions<CheckKind<S>>;
}

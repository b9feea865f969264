/**
 * Extension points that are not a single check: loading a user's validator module (CLI `--validator
 * FILE`, the construct's `addValidator`) and deciding which validator owns a restore job when a user's
 * validator claims some jobs of a resource type that a built-in validator also serves.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Config, Match, Profile } from './config/index';
import type { MatchSubject } from './config/match';
import { matchProfile } from './config/match';
import { matchSchema } from './config/schema';
import { type RuntimeSettings, VALIDATOR_CLAIMS_ENV } from './env';
import { reasonOf, UsageError } from './errors';
import { extensionHostApi } from './extension-host';
import { planNameFromArn } from './job';
import type { LocalTarget } from './local';
import { isResourceType } from './resource-types';
import type { SqlSession } from './sql/session';
import type { SqlEngine } from './sql/types';
import type { ValidatorDefinition } from './validator';

/** What a validator module provides. */
export interface ValidatorModule {
  // biome-ignore lint/suspicious/noExplicitAny: each validator has its own facts type
  readonly validator: ValidatorDefinition<any>;
  /** How `restore-validation check <type>` drives it locally; absent when the module exports none. */
  readonly cliTarget?: LocalTarget;
}

function isValidator(v: unknown): v is ValidatorDefinition<unknown> {
  if (!v || typeof v !== 'object') return false;
  const o = v as Record<string, unknown>;
  return (
    typeof o.name === 'string' &&
    Array.isArray(o.resourceTypes) &&
    typeof o.gather === 'function' &&
    typeof o.checks === 'function'
  );
}

function isLocalTarget(v: unknown): v is LocalTarget {
  if (!v || typeof v !== 'object') return false;
  const o = v as Record<string, unknown>;
  return (
    typeof o.type === 'string' &&
    typeof o.resourceType === 'string' &&
    Array.isArray(o.options) &&
    isValidator(o.validator)
  );
}

/**
 * Loads a user's validator module: a file exporting `validator` (a `defineValidator()` value; a default
 * export works too) and optionally `cliTarget` (a LocalTarget for `restore-validation check`). A module
 * that exports only `cliTarget` uses its validator. TypeScript files load when the process runs under
 * tsx (the CLI does); compiled `.js`/`.mjs` files load anywhere.
 *
 * Errors are UsageErrors naming the file and what is missing, never a stack trace.
 */
export async function loadValidatorModule(file: string): Promise<ValidatorModule> {
  const path = resolve(file);
  if (!existsSync(path)) throw new UsageError(`validator module ${file} does not exist`);
  let mod: Record<string, unknown>;
  try {
    mod = (await import(pathToFileURL(path).href)) as Record<string, unknown>;
  } catch (err) {
    throw new UsageError(`validator module ${file} could not be loaded: ${reasonOf(err)}`, { cause: err });
  }
  const cliTarget = mod.cliTarget;
  if (cliTarget !== undefined && !isLocalTarget(cliTarget)) {
    throw new UsageError(
      `validator module ${file}: "cliTarget" must be a LocalTarget ({ type, resourceType, summary, options, validator })`,
    );
  }
  const canonical = [
    mod.validator,
    mod.default,
    (mod.default as Record<string, unknown> | undefined)?.validator,
    cliTarget?.validator,
  ].find(isValidator);
  // Any other single exported validator (`export const rdsValidator = defineValidator(...)`) works too.
  const others = Object.entries(mod).filter(([, v]) => isValidator(v));
  if (!canonical && others.length > 1) {
    throw new UsageError(
      `validator module ${file} exports several validators (${others.map(([k]) => k).join(', ')}): export the one to run as \`validator\``,
    );
  }
  const validator = canonical ?? (others[0]?.[1] as ValidatorDefinition<unknown> | undefined);
  if (!validator) {
    const exported = Object.keys(mod).join(', ') || 'nothing';
    throw new UsageError(
      `validator module ${file} exports no validator: export \`const validator = defineValidator({...})\` (it exports ${exported})`,
    );
  }
  for (const t of validator.resourceTypes) {
    if (!isResourceType(t))
      throw new UsageError(
        `validator module ${file}: validator ${validator.name} names unknown resource type ${JSON.stringify(t)}`,
      );
  }
  return cliTarget ? { validator, cliTarget } : { validator };
}

/**
 * Env var through which the construct tells every validator function which jobs user validators
 * claim (JSON list of {@link ValidatorClaim}), so exactly one function posts each verdict. Env var
 * listing check extension modules (`:`-separated absolute paths) a validator imports at cold start,
 * before it reads the config: how `addCheck({ entry })` reaches the Lambdas (as a layer). Both are
 * read as the lifecycle's settings (shared/env.ts).
 */
export { EXTENSIONS_ENV, VALIDATOR_CLAIMS_ENV } from './env';

/** A user validator's claim: jobs matching `match` (same keys and globs as a profile's match) are its. */
export interface ValidatorClaim {
  readonly validator: string;
  readonly match: Match;
}

/** Parses {@link VALIDATOR_CLAIMS_ENV}; a malformed value is an error (set by the construct, never by hand). */
export function parseValidatorClaims(raw: string | undefined): ValidatorClaim[] {
  if (raw === undefined || raw.trim() === '') return [];
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch (err) {
    throw new TypeError(`${VALIDATOR_CLAIMS_ENV} is not JSON: ${reasonOf(err)}`);
  }
  if (!Array.isArray(value))
    throw new TypeError(`${VALIDATOR_CLAIMS_ENV} must be a JSON list of {validator, match}`);
  return value.map((c, i) => {
    const o = c as { validator?: unknown; match?: unknown };
    if (typeof o?.validator !== 'string')
      throw new TypeError(`${VALIDATOR_CLAIMS_ENV}[${i}].validator must be a string`);
    const match = matchSchema.safeParse(o.match ?? {});
    if (!match.success)
      throw new TypeError(
        `${VALIDATOR_CLAIMS_ENV}[${i}].match: ${match.error.issues[0]?.message ?? 'invalid'}`,
      );
    return { validator: o.validator, match: match.data };
  });
}

/** Whether a claim's match selects the job (the profile matcher's rules: every given key must match). */
export function claimMatches(match: Match, subject: MatchSubject): boolean {
  const probe = { profiles: [{ name: 'claim', match } as unknown as Profile] } as unknown as Config;
  return matchProfile(probe, subject) !== undefined;
}

/**
 * The validator that owns a job: the first user validator whose claim matches it, else undefined
 * (the built-in validator of the resource type).
 */
export function claimingValidator(
  claims: readonly ValidatorClaim[],
  subject: MatchSubject,
): string | undefined {
  return claims.find((c) => claimMatches(c.match, subject))?.validator;
}

/**
 * Whether `validatorName` should validate the job: a claimed job belongs only to its claimant; an
 * unclaimed job belongs to every validator that is not a claimant (i.e. the built-in one).
 * The lifecycle answers `ignored` when this is false.
 */
export function ownsJob(
  validatorName: string,
  claims: readonly ValidatorClaim[],
  subject: MatchSubject,
): boolean {
  const owner = claimingValidator(claims, subject);
  if (owner !== undefined) return owner === validatorName;
  return !claims.some((c) => c.validator === validatorName);
}

/**
 * The extension options of `restore-validation check`, taken out of argv before the target's own
 * flags are parsed (which flags exist depends on them): `--validator FILE` (once) and
 * `--extension FILE` (repeatable); both also as `--opt=FILE`.
 */
export function splitExtensionOptions(argv: readonly string[]): {
  file?: string;
  extensions: string[];
  rest: string[];
} {
  const rest: string[] = [];
  const extensions: string[] = [];
  let file: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] ?? '';
    const name = a === '--validator' || a === '--extension' ? a : undefined;
    let value: string | undefined;
    if (name) {
      value = argv[i + 1];
      if (value === undefined || value.startsWith('--'))
        throw new UsageError(`${name} needs a file: ${name} ./my-module.ts`);
      i++;
    } else if (a.startsWith('--validator=') || a.startsWith('--extension=')) {
      value = a.slice(a.indexOf('=') + 1);
    } else {
      rest.push(a);
      continue;
    }
    if ((name ?? a).startsWith('--validator')) {
      if (file !== undefined) throw new UsageError('--validator is given twice: run one validator per check');
      file = value;
    } else {
      extensions.push(value);
    }
  }
  return file === undefined ? { extensions, rest } : { file, extensions, rest };
}

/**
 * Resolves the target of `restore-validation check <type> [--validator FILE] ...` (the CLI wires this):
 *
 * - without `--validator`: the built-in target of `<type>`;
 * - with a module that exports `cliTarget`: that target (its flags, its validator); `<type>` must be
 *   its `type`, so a command line always says what it checks;
 * - with a module that exports only `validator`: the built-in target of `<type>` (its flags and
 *   local set-up) running the user's validator instead, e.g. an RDS validator of your own driven by
 *   `check rds --host ...`.
 *
 * `--extension FILE` modules (check kinds) are imported first, so the config read afterwards knows
 * their kinds. Returns the argv without these options, for the target's own flag parser.
 */
export async function resolveCheckTarget(
  type: string,
  argv: readonly string[],
  builtIn: (type: string) => Promise<LocalTarget | undefined>,
): Promise<{
  target: LocalTarget | undefined;
  argv: string[];
  validatorFile?: string;
  extensions: string[];
}> {
  const { file, extensions: extensionArgs, rest } = splitExtensionOptions(argv);
  const extensions = await loadCheckExtensions(extensionArgs);
  if (file === undefined) return { target: await builtIn(type), argv: rest, extensions };
  const mod = await loadValidatorModule(file);
  if (mod.cliTarget) {
    if (mod.cliTarget.type.toLowerCase() !== type.toLowerCase()) {
      throw new UsageError(
        `validator module ${file} provides \`check ${mod.cliTarget.type}\`, not \`check ${type}\`: run check ${mod.cliTarget.type} --validator ${file}`,
      );
    }
    return { target: mod.cliTarget, argv: rest, validatorFile: file, extensions };
  }
  const base = await builtIn(type);
  if (!base) {
    throw new UsageError(
      `validator module ${file} exports no cliTarget and \`${type}\` has no built-in target: export \`cliTarget: LocalTarget\` from the module (docs/extending.md)`,
    );
  }
  if (!mod.validator.resourceTypes.includes(base.resourceType)) {
    throw new UsageError(
      `validator ${mod.validator.name} serves ${mod.validator.resourceTypes.join(', ')}, not ${base.resourceType} (check ${type})`,
    );
  }
  return { target: { ...base, validator: mod.validator }, argv: rest, validatorFile: file, extensions };
}

/**
 * The facts the built-in RDS and Aurora validators gather that a custom SQL check may use: the
 * validation's shared read-only database session (opened once, with the profile's `connection`, or
 * the CLI's `--host/--port/...` flags locally). Present when the profile has SQL checks or a
 * `connection`; absent for engines without a SQL driver.
 */
export interface SqlFacts {
  readonly session?: SqlSession;
  readonly sqlEngine?: SqlEngine;
}

/** `Symbol.for` key under which the running validator publishes the package API to extension layers. */
export const EXTENSION_API_GLOBAL = 'restore-validation.api';

/**
 * Imports check extension modules: files that call `registerCheckKind` / `registerCheckImplementation`.
 * Layer bundles bind their `restore-validation` imports to the API published here, so they register
 * into this process's registries. Locally (CLI `--extension FILE`) a `.ts` file imports the package
 * as usual. Returns the files loaded; an unloadable file is an error naming it (a config that uses its
 * kinds could not be validated without it).
 */
export async function loadCheckExtensions(files: readonly string[]): Promise<string[]> {
  if (files.length === 0) return [];
  const g = globalThis as Record<symbol, unknown>;
  // A static import: in a single-file Lambda bundle a dynamic import() saves no bytes, and the module
  // it reaches is wrapped for lazy start-up, which keeps whole SDK client indexes (every command of
  // client-backup, through job.ts) that tree-shaking would otherwise drop.
  g[Symbol.for(EXTENSION_API_GLOBAL)] ??= extensionHostApi();
  const loaded: string[] = [];
  for (const file of files) {
    const path = resolve(file);
    if (!existsSync(path)) throw new UsageError(`check extension ${file} does not exist`);
    try {
      await import(pathToFileURL(path).href);
    } catch (err) {
      throw new UsageError(`check extension ${file} could not be loaded: ${reasonOf(err)}`, { cause: err });
    }
    loaded.push(path);
  }
  return loaded;
}

let extensionsLoading: Promise<string[]> | undefined;

/**
 * For the lifecycle, once per process before the config is read: imports the check extensions the
 * construct's `addCheck` shipped (RESTORE_VALIDATION_EXTENSIONS). A failure is remembered and
 * rethrown to every caller, so each job gets the same configuration-error verdict.
 */
export function prepareExtensions(files: readonly string[]): Promise<string[]> {
  extensionsLoading ??= loadCheckExtensions(files);
  return extensionsLoading;
}

/** The event fields a claim is matched against (a `Restore Job State Change` detail). */
export interface ClaimSubjectDetail {
  readonly resourceType: string;
  readonly sourceResourceArn?: string;
  readonly createdResourceArn?: string;
  readonly restoreTestingPlanArn?: string;
}

/**
 * For the lifecycle, right after parsing the event and before anything is posted: undefined when
 * `validatorName` owns the job, else the reason to answer `ignored` (another validator claimed it,
 * or this custom validator's claim does not match it). Claims come from RESTORE_VALIDATION_VALIDATORS.
 */
export function claimedElsewhere(
  validatorName: string,
  settings: Pick<RuntimeSettings, 'validatorClaims'>,
  detail: ClaimSubjectDetail,
): string | undefined {
  const claims = parseValidatorClaims(settings.validatorClaims);
  if (claims.length === 0) return undefined;
  const planArn = detail.restoreTestingPlanArn;
  const subject: MatchSubject = {
    resourceType: detail.resourceType,
    sourceResourceArn: detail.sourceResourceArn,
    createdResourceArn: detail.createdResourceArn,
    restoreTestingPlanName: planNameFromArn(planArn),
  };
  if (ownsJob(validatorName, claims, subject)) return undefined;
  const owner = claimingValidator(claims, subject);
  return owner
    ? `restore job claimed by the ${owner} validator`
    : `restore job not matched by the ${validatorName} validator's claim`;
}

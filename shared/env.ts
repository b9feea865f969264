/**
 * Settings: the one place that reads process.env. Each Lambda declares the variables it reads once,
 * typed, with `defineSettings` (the lifecycle's own below, a validator's beside it in
 * functions/<type>/settings.ts); everything else receives the typed object, never the environment.
 *
 *   export const ebsSettings = defineSettings({
 *     stateMachineArn: setting.text(['EBS_STATE_MACHINE_ARN', 'STATE_MACHINE_ARN']),
 *     helper: ebsHelperSettings,                       // another definition, nested
 *   });
 *   ebsSettings()            // read from process.env
 *   ebsSettings({ … })       // read from the given variables (tests, the CLI's local runs)
 */

/** Environment variables by name. */
export type Env = Readonly<Record<string, string | undefined>>;

/** One setting: the variables it is read from, in order, and how its text becomes a value. */
export interface Setting<T> {
  /** Tried in order: the first that is set and not empty is read. */
  readonly env: readonly string[];
  /** `value` is undefined when none is set; `name` is the variable read (or the first), for errors. */
  parse(value: string | undefined, name: string): T;
}

/** A declared set of settings: call it to read them. */
export interface Settings<T> {
  /** Reads every setting from `env` (default: process.env). A malformed value throws, naming its variable. */
  (env?: Env): T;
  /** Every variable it reads, in declaration order. */
  readonly variables: readonly string[];
}

/** A field of a definition: a variable name (text, undefined when unset), a `setting.*`, or a nested definition. */
export type SettingSpec = string | Setting<unknown> | Settings<unknown>;

/** The typed object a spec reads into. */
export type SettingsOf<S extends Record<string, SettingSpec>> = {
  readonly [K in keyof S]: S[K] extends string
    ? string | undefined
    : S[K] extends Setting<infer T>
      ? T
      : S[K] extends Settings<infer T>
        ? T
        : never;
};

const names = (env: string | readonly string[]): readonly string[] => (typeof env === 'string' ? [env] : env);

function read(env: Env, spec: SettingSpec): unknown {
  if (typeof spec === 'function') return spec(env);
  const s = typeof spec === 'string' ? setting.text(spec) : spec;
  const name = s.env.find((n) => env[n] !== undefined && env[n] !== '');
  return s.parse(name === undefined ? undefined : env[name], name ?? s.env[0] ?? '');
}

/**
 * Declares settings once, typed. `derive` turns what was read into the final object, for a default
 * that depends on other settings.
 */
export function defineSettings<const S extends Record<string, SettingSpec>>(spec: S): Settings<SettingsOf<S>>;
export function defineSettings<const S extends Record<string, SettingSpec>, T>(
  spec: S,
  derive: (read: SettingsOf<S>) => T,
): Settings<T>;
export function defineSettings<const S extends Record<string, SettingSpec>, T>(
  spec: S,
  derive?: (read: SettingsOf<S>) => T,
): Settings<T | SettingsOf<S>> {
  const readAll = (env: Env = process.env) => {
    const out = Object.fromEntries(Object.entries(spec).map(([k, s]) => [k, read(env, s)])) as SettingsOf<S>;
    return derive ? derive(out) : out;
  };
  const variables = Object.values(spec).flatMap((s) =>
    typeof s === 'string' ? [s] : typeof s === 'function' ? s.variables : s.env,
  );
  return Object.assign(readAll, { variables: [...new Set(variables)] });
}

const finite = (value: string | undefined): number | undefined => {
  if (value === undefined) return undefined;
  const n = Number(value);
  return Number.isFinite(n) ? n : undefined;
};

/** The kinds of setting. */
export const setting = {
  /** Text; undefined (or `fallback`) when unset or empty. */
  text: ((env: string | readonly string[], fallback?: string): Setting<string | undefined> => ({
    env: names(env),
    parse: (value) => value ?? fallback,
  })) as {
    (env: string | readonly string[]): Setting<string | undefined>;
    (env: string | readonly string[], fallback: string): Setting<string>;
  },
  /** `true` only for the text `true`. */
  flag: (env: string | readonly string[]): Setting<boolean> => ({
    env: names(env),
    parse: (value) => value === 'true',
  }),
  /** A list in one variable: the items between separators, trimmed, empty ones dropped. */
  list: (env: string | readonly string[], separator = ','): Setting<string[]> => ({
    env: names(env),
    parse: (value) =>
      (value ?? '')
        .split(separator)
        .map((s) => s.trim())
        .filter(Boolean),
  }),
  /** A number of at least `min` (default 0, or above it with `exclusive`); anything else is the fallback. */
  number: (
    env: string | readonly string[],
    fallback: number,
    options: { readonly min?: number; readonly exclusive?: boolean } = {},
  ): Setting<number> => ({
    env: names(env),
    parse: (value) => {
      const n = finite(value);
      const min = options.min ?? 0;
      return n !== undefined && (options.exclusive ? n > min : n >= min) ? n : fallback;
    },
  }),
  /** A positive number; a value that is not one throws at cold start, naming the variable. */
  positive: (env: string | readonly string[], fallback: number): Setting<number> => ({
    env: names(env),
    parse: (value, name) => {
      if (value === undefined) return fallback;
      const n = finite(value);
      if (n === undefined || n <= 0)
        throw new TypeError(`${name}=${JSON.stringify(value)} is not a positive number`);
      return n;
    },
  }),
  /** Anything else: `parse` gets the text (undefined when unset) and the variable's name. */
  custom: <T>(
    env: string | readonly string[],
    parse: (value: string | undefined, name: string) => T,
  ): Setting<T> => ({
    env: names(env),
    parse,
  }),
};

/** Variable naming the check extension files the construct's `addCheck` ships (`:`-separated paths). */
export const EXTENSIONS_ENV = 'RESTORE_VALIDATION_EXTENSIONS';
/** Variable holding the custom validators' claims (JSON), set by the construct's `addValidator`. */
export const VALIDATOR_CLAIMS_ENV = 'RESTORE_VALIDATION_VALIDATORS';

const RUNTIME = {
  /** Path of the bundled, validated config. */
  configPath: 'RESTORE_VALIDATION_CONFIG',
  /** DynamoDB table for Powertools idempotency. */
  idempotencyTable: 'IDEMPOTENCY_TABLE_NAME',
  /** Evidence bucket, index table and key prefix (the construct grants writes under the prefix only). */
  evidenceBucket: 'EVIDENCE_BUCKET',
  evidenceTable: 'EVIDENCE_TABLE',
  evidencePrefix: 'EVIDENCE_PREFIX',
  /** SNS topic for FAILED/TIMED_OUT notifications. */
  alarmTopicArn: 'ALARM_TOPIC_ARN',
  /** Code version recorded in evidence. */
  codeVersion: setting.text('RESTORE_VALIDATION_VERSION', '0.1.0'),
  region: setting.text(['AWS_REGION', 'AWS_DEFAULT_REGION']),
  /** Post nothing to AWS Backup (`RESTORE_VALIDATION_DRY_RUN=true`). */
  dryRun: setting.flag('RESTORE_VALIDATION_DRY_RUN'),
  /** Check extension files to import before the config is read (the construct's `addCheck`). */
  extensionFiles: setting.list(EXTENSIONS_ENV, ':'),
  /** Custom validators' claims, JSON (the construct's `addValidator`); parsed by shared/extend.ts. */
  validatorClaims: VALIDATOR_CLAIMS_ENV,
} as const;

/** The settings every restore-validation Lambda shares: the lifecycle's, the evidence sinks'. */
export interface RuntimeSettings extends SettingsOf<typeof RUNTIME> {}
export const runtimeSettings: Settings<RuntimeSettings> = defineSettings(RUNTIME);

/** The environment a child process inherits (PATH, …), with `extra` set over it. */
export function childProcessEnv(extra: Env = {}): NodeJS.ProcessEnv {
  return { ...process.env, ...extra };
}

/** Reads a secret the user named with `--password-env VAR` (CLI only). */
export function readEnvVar(name: string): string | undefined {
  return process.env[name];
}

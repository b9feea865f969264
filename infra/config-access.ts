/**
 * What the validated config says each validator must be allowed to reach: the secrets it names,
 * the Lambda functions of `lambda` checks, the source buckets/tables of `compare` checks, manifest
 * objects and IAM database users. Which types compare with source buckets or tables is their
 * module's `compareSource` (functions/<type>/type.ts). Synthesizes nothing, so it is unit-testable;
 * the construct turns it into IAM statements scoped to exactly these resources.
 */
import type { CompareSource } from '../functions/resource-type';
import { RESOURCE_TYPE_MODULES } from '../functions/types';
import type { Config, Profile } from '../shared/config';
import { VALIDATOR_TYPES, type ValidatorType, validatorTypeFor } from '../shared/resource-types';

/** Resources one validator type needs, from the config. ARN patterns use IAM wildcards only. */
export interface ConfigAccess {
  /** Secrets Manager secret ARNs (`-??????` suffix added to partial ARNs). */
  readonly secretArns: string[];
  /** Lambda function ARNs of `lambda` checks. */
  readonly functionArns: string[];
  /** IAM database users (`rds-db:connect`). */
  readonly dbUsers: string[];
  /** Source S3 bucket names or IAM patterns read by `compare` checks. */
  readonly sourceBuckets: string[];
  /** Source DynamoDB table ARN patterns (or plain names) read by `compare` checks. */
  readonly sourceTables: string[];
  /** `s3://bucket/key` manifests: bucket → keys. */
  readonly manifests: Array<{ bucket: string; key: string }>;
  /** Why a pattern could not be scoped (a glob IAM cannot express); the construct warns. */
  readonly broadened: string[];
}

function emptyAccess(): ConfigAccess {
  return {
    secretArns: [],
    functionArns: [],
    dbUsers: [],
    sourceBuckets: [],
    sourceTables: [],
    manifests: [],
    broadened: [],
  };
}

const list = <T>(v: T | readonly T[] | undefined): T[] =>
  v === undefined ? [] : Array.isArray(v) ? [...v] : [v as T];

/** The validator types a profile can apply to (all, when it does not name a resource type). */
export function profileValidatorTypes(profile: Profile): ValidatorType[] {
  const types = list(profile.match.resourceType);
  if (types.length === 0) return [...VALIDATOR_TYPES];
  return [
    ...new Set(types.map((t) => validatorTypeFor(t)).filter((t): t is ValidatorType => t !== undefined)),
  ];
}

/**
 * Converts a picomatch glob to an IAM ARN pattern, or undefined when IAM cannot express it
 * (braces, classes, extglobs). IAM `*` also crosses `/`, so `**` and `*` both become `*`: the IAM
 * pattern is never narrower than the glob.
 */
export function globToIamPattern(glob: string): string | undefined {
  if (/[{}[\]()!+@]/.test(glob)) return undefined;
  return glob.replace(/\*+/g, '*');
}

/**
 * IAM patterns for a secret ARN as users write it. Secrets Manager appends `-XXXXXX` to every
 * secret's ARN, and a name may itself end in `-abcdef`, so a given ARN cannot be told apart from a
 * partial one: both the ARN and `<arn>-??????` are allowed (exactly six characters, never more).
 * @see https://docs.aws.amazon.com/secretsmanager/latest/userguide/auth-and-access_examples.html
 */
export function secretResourcePatterns(arn: string): string[] {
  return /[*?]$/.test(arn) ? [arn] : [arn, `${arn}-??????`];
}

function sourceNames(
  profile: Profile,
  kind: CompareSource,
  access: ConfigAccess,
  explicit: string | undefined,
): void {
  const target = kind === 'bucket' ? access.sourceBuckets : access.sourceTables;
  if (explicit) {
    target.push(explicit);
    return;
  }
  const globs = list(profile.match.sourceResourceArn);
  if (globs.length === 0) {
    access.broadened.push(
      `profile "${profile.name}": a compare check without match.sourceResourceArn can read any ${kind}`,
    );
    target.push('*');
    return;
  }
  for (const glob of globs) {
    const pattern = globToIamPattern(glob);
    if (!pattern) {
      access.broadened.push(`profile "${profile.name}": source glob "${glob}" cannot be expressed in IAM`);
      target.push('*');
      continue;
    }
    target.push(kind === 'bucket' ? pattern.replace(/^arn:[^:]*:s3:::/, '') : pattern);
  }
}

/** Derives the per-validator-type access from a validated config. */
export function configAccess(config: Config): Record<ValidatorType, ConfigAccess> {
  const out = Object.fromEntries(VALIDATOR_TYPES.map((t) => [t, emptyAccess()])) as Record<
    ValidatorType,
    ConfigAccess
  >;
  for (const profile of config.profiles) {
    for (const type of profileValidatorTypes(profile)) {
      const access = out[type];
      const conn = profile.connection;
      if (conn?.secretArn) access.secretArns.push(...secretResourcePatterns(conn.secretArn));
      if (conn?.source?.secretArn) access.secretArns.push(...secretResourcePatterns(conn.source.secretArn));
      if (conn?.iamAuth && conn.user) access.dbUsers.push(conn.user);
      for (const check of profile.checks) {
        const c = check as { kind: string; [k: string]: unknown };
        if (c.kind === 'lambda') {
          const fn = (c.lambda as { functionArn?: string } | undefined)?.functionArn;
          if (fn) access.functionArns.push(fn);
        }
        if (c.kind === 'compare') {
          const cmp = (c.compare ?? {}) as {
            with?: string;
            manifest?: string;
            sourceBucket?: string;
            sourceTable?: string;
          };
          if (cmp.with === 'manifest' && cmp.manifest) {
            const m = /^s3:\/\/([^/]+)\/(.+)$/.exec(cmp.manifest);
            if (m?.[1] && m[2]) access.manifests.push({ bucket: m[1], key: m[2] });
          } else {
            const kind = RESOURCE_TYPE_MODULES[type].compareSource;
            if (kind)
              sourceNames(profile, kind, access, kind === 'bucket' ? cmp.sourceBucket : cmp.sourceTable);
          }
        }
      }
    }
  }
  for (const access of Object.values(out)) {
    for (const key of ['secretArns', 'functionArns', 'dbUsers', 'sourceBuckets', 'sourceTables'] as const) {
      const unique = [...new Set(access[key])].sort();
      access[key].splice(0, access[key].length, ...unique);
    }
  }
  return out;
}

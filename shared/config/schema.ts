/**
 * The `validation.config.yaml` schema (DESIGN.md, contract 2). Validated at synth time and again at
 * cold start. `version: 1` is the only version; unknown keys are errors so typos never pass silently.
 */
import * as z from 'zod';
import { compileGlob } from '../regex';
import { RESOURCE_TYPES, type ResourceType } from '../resource-types';
import { type CheckConfig, checkKind, checkKinds } from './kinds/index';
import { humanMessage } from './messages';
import { flagDuplicateNames, restoreTestingSchema } from './restore-testing';
import { suggest } from './suggest';

const oneOrMany = <T extends z.ZodType>(s: T) => z.union([s, z.array(s).min(1)]);

/** A glob, compiled at load so a broken one fails at synth rather than matching nothing. */
const globSchema = z
  .string()
  .min(1)
  .superRefine((v, ctx) => {
    try {
      compileGlob(v);
    } catch (err) {
      ctx.addIssue({ code: 'custom', message: (err as Error).message });
    }
  });

/** A TCP port: 1-65535 (a larger number would be taken modulo 65536 by some drivers). */
export const portSchema = z
  .number()
  .int()
  .min(1, 'a port is 1-65535')
  .max(65535, 'a port is 1-65535, got a larger number');

/**
 * A Secrets Manager secret ARN, in full: partition, region, 12-digit account, `secret:` and the name
 * (with the 6-character suffix AWS adds, or without it). `!` appears in RDS-managed secret names.
 * @see https://docs.aws.amazon.com/secretsmanager/latest/userguide/reference_iam-permissions.html#iam-resources
 */
export const secretArnSchema = z
  .string()
  .regex(
    /^arn:aws(-[a-z]+)*:secretsmanager:[a-z]{2}(-[a-z]+)+-\d+:\d{12}:secret:[A-Za-z0-9/_+=.@!-]+$/,
    'expected a Secrets Manager secret ARN: arn:aws:secretsmanager:<region>:<12-digit account>:secret:<name>',
  );

export const matchSchema = z
  .strictObject({
    resourceType: oneOrMany(z.enum(RESOURCE_TYPES)).optional().describe('Restore job resource type(s).'),
    sourceResourceArn: oneOrMany(globSchema).optional().describe('Glob(s) on the source resource ARN.'),
    restoreTestingPlan: oneOrMany(globSchema)
      .optional()
      .describe('Glob(s) on the restore testing plan name.'),
    createdResourceArn: oneOrMany(globSchema).optional().describe('Glob(s) on the restored resource ARN.'),
  })
  .describe('All given keys must match; the first matching profile wins.');

export const connectionSchema = z
  .strictObject({
    database: z.string().min(1).optional(),
    secretArn: secretArnSchema
      .optional()
      .describe('Secret with username/password of a stable read-only validation user.'),
    iamAuth: z
      .boolean()
      .optional()
      .describe('Use IAM database authentication (needs the enableIamDatabaseAuthentication override).'),
    user: z.string().optional().describe('Database user for IAM authentication.'),
    tls: z.boolean().default(true).describe('Verify TLS against the RDS CA bundle (default true).'),
    port: portSchema.optional(),
    statementTimeoutSeconds: z.number().positive().max(900).default(30),
    source: z
      .strictObject({
        host: z.string().min(1),
        port: portSchema.optional(),
        database: z.string().optional(),
        secretArn: secretArnSchema.optional(),
      })
      .optional()
      .describe('Source database reachable for rowCounts comparisons.'),
  })
  .refine((c) => !c.iamAuth || (c.user !== undefined && c.user !== ''), {
    message: 'iamAuth: true needs user: the database user the IAM token is for',
    path: ['user'],
  })
  .describe('How validators connect to the restored resource.');

export const objectivesSchema = z
  .strictObject({
    rtoMinutes: z
      .number()
      .positive()
      .optional()
      .describe('Recovery time objective: a restore job that took longer misses it.'),
    rpoMinutes: z
      .number()
      .positive()
      .optional()
      .describe(
        'Recovery point objective: data older than this at the recovery point misses it (measured by a freshness check).',
      ),
    onMiss: z
      .enum(['report', 'fail'])
      .optional()
      .describe(
        'report (default): a miss is recorded and shown, the verdict stands; fail: a miss fails the verdict.',
      ),
  })
  .describe('Recovery objectives the restore is judged against; a profile overrides defaults key by key.');

export const defaultsSchema = z.strictObject({
  objectives: objectivesSchema.optional(),
  reportValidating: z.boolean().default(true).describe('Post VALIDATING before checks start.'),
  failWhenNothingChecked: z.boolean().default(true).describe('A validation that ran no check is FAILED.'),
  validateManualRestores: z
    .boolean()
    .default(false)
    .describe('Also validate restore jobs that are not restore tests.'),
  concurrency: z.number().int().min(1).max(32).default(4).describe('Checks run at once.'),
  checkTimeoutSeconds: z.number().positive().max(900).default(120),
  reserveSeconds: z
    .number()
    .min(1)
    .max(120)
    .default(15)
    .describe('Lambda time kept back for reporting the verdict.'),
});

export { suggest } from './suggest';

const NON_KIND_KEYS = new Set(['id', 'description', 'timeoutSeconds']);

/**
 * A check: exactly one registered kind key, validated with that kind's schema. Output carries `kind`.
 * Done by hand rather than as a zod union so an error names the one kind meant, not every alternative.
 */
export const checkSchema = z.unknown().transform((value, ctx): CheckConfig => {
  if (!value || typeof value !== 'object' || Array.isArray(value)) {
    ctx.addIssue({ code: 'custom', message: 'a check must be an object like { id: ..., <kind>: ... }' });
    return z.NEVER;
  }
  const keys = Object.keys(value);
  const kindKeys = keys.filter((k) => checkKind(k));
  const allKinds = checkKinds().map((k) => k.key);
  if (kindKeys.length === 0) {
    const unknown = keys.filter((k) => !NON_KIND_KEYS.has(k));
    const hint = unknown.length
      ? `; found ${unknown.map((k) => `"${k}"${suggest(k, allKinds)}`).join(', ')}`
      : '';
    ctx.addIssue({
      code: 'custom',
      message: `no check kind given: add one of ${allKinds.join(', ')}${hint}`,
    });
    return z.NEVER;
  }
  // `count`/`expect`/`rows` are options of some kinds; a second *kind* key is ambiguous.
  const primary = kindKeys.filter(
    (k) => !['expect', 'rows', 'count', 'exitCode', 'outputMatches'].includes(k),
  );
  if (primary.length > 1) {
    ctx.addIssue({
      code: 'custom',
      message: `a check has exactly one kind, found ${primary.join(' and ')}: split it into two checks`,
    });
    return z.NEVER;
  }
  const key = primary[0] ?? kindKeys[0] ?? '';
  const kind = checkKind(key);
  if (!kind) return z.NEVER;
  const parsed = kind.schema.safeParse(value, { reportInput: true });
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const message =
        issue.code === 'unrecognized_keys'
          ? `unknown key${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `"${k}"${suggest(k, allKinds)}`).join(', ')} in a "${key}" check`
          : humanMessage(issue);
      ctx.addIssue({ code: 'custom', message, path: issue.path as PropertyKey[] });
    }
    return z.NEVER;
  }
  return { ...(parsed.data as Record<string, unknown>), kind: key } as CheckConfig;
});

function profileSchemaWith<C extends z.ZodType>(check: C) {
  return z
    .strictObject({
      name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, 'use 1-64 letters, digits, . _ -'),
      description: z.string().optional(),
      match: matchSchema.default({}),
      connection: connectionSchema.optional(),
      reportValidating: z.boolean().optional(),
      failWhenNothingChecked: z.boolean().optional(),
      concurrency: z.number().int().min(1).max(32).optional(),
      checkTimeoutSeconds: z.number().positive().max(900).optional(),
      objectives: objectivesSchema.optional(),
      options: z.record(z.string(), z.unknown()).optional().describe('Validator-specific options.'),
      checks: z.array(check).default([]),
    })
    .superRefine((profile, ctx) => {
      const seen = new Set<string>();
      profile.checks.forEach((c, i) => {
        const id = (c as { id?: string }).id ?? '';
        if (seen.has(id))
          ctx.addIssue({ code: 'custom', path: ['checks', i, 'id'], message: `duplicate check id "${id}"` });
        seen.add(id);
        const kindKey = (c as { kind?: string }).kind;
        const kind = kindKey ? checkKind(kindKey) : undefined;
        const types =
          profile.match.resourceType === undefined
            ? undefined
            : ([] as string[]).concat(profile.match.resourceType);
        if (
          kind?.resourceTypes &&
          types &&
          !types.some((t) => kind.resourceTypes?.includes(t as ResourceType))
        ) {
          ctx.addIssue({
            code: 'custom',
            path: ['checks', i, kindKey ?? ''],
            message: `check kind "${kindKey}" is not available for resource type ${types.join(', ')}; it serves ${kind.resourceTypes.join(', ')}`,
          });
        }
      });
    });
}

function configSchemaWith<C extends z.ZodType>(check: C) {
  return z
    .strictObject({
      $schema: z.string().optional(),
      version: z.literal(1).describe('Config format version; 1 is the only one.'),
      defaults: defaultsSchema.default(defaultsSchema.parse({})),
      profiles: z.array(profileSchemaWith(check)).default([]),
      restoreTesting: restoreTestingSchema.optional(),
    })
    .superRefine((config, ctx) =>
      flagDuplicateNames(ctx, config.profiles, 'profiles', (name) => `duplicate profile name "${name}"`),
    );
}

export const configSchema = configSchemaWith(checkSchema);
export type Config = z.output<typeof configSchema>;
export type Profile = Config['profiles'][number];
export type Defaults = Config['defaults'];
export type Connection = z.output<typeof connectionSchema>;
export type Match = z.output<typeof matchSchema>;

/** The JSON Schema for editors: checks as a union of every registered kind's schema. */
export function configJsonSchema(): Record<string, unknown> {
  const union = z.union(
    checkKinds().map((k) => k.schema) as unknown as [z.ZodType, z.ZodType, ...z.ZodType[]],
  );
  return z.toJSONSchema(configSchemaWith(union), { io: 'input', unrepresentable: 'any' }) as Record<
    string,
    unknown
  >;
}

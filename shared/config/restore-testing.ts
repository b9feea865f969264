/**
 * The optional `restoreTesting` section of validation.config.yaml: restore testing plans and their
 * selections, synthesized by infra/constructs/restore-testing.ts and previewed by `doctor`.
 * The rules AWS Backup states for CreateRestoreTestingPlan / CreateRestoreTestingSelection are
 * checked here, so a bad value fails `cdk synth` (with file, path and fix), not the deployment.
 * @see https://docs.aws.amazon.com/aws-backup/latest/devguide/API_CreateRestoreTestingPlan.html
 * @see https://docs.aws.amazon.com/aws-backup/latest/devguide/API_CreateRestoreTestingSelection.html
 */
import * as z from 'zod';
import { matchProfile } from './match';
import type { Config } from './schema';

/** `ProtectedResourceType` values restore testing accepts (DynamoDB.FullyManaged restores as DynamoDB). */
export const PROTECTED_RESOURCE_TYPES = [
  'Aurora',
  'DocumentDB',
  'DynamoDB',
  'EBS',
  'EC2',
  'EFS',
  'FSx',
  'Neptune',
  'RDS',
  'S3',
] as const;
export type ProtectedResourceType = (typeof PROTECTED_RESOURCE_TYPES)[number];

/** Types restored into a DB subnet group with security groups (the validators must reach them). */
export const DATABASE_RESOURCE_TYPES: readonly ProtectedResourceType[] = [
  'RDS',
  'Aurora',
  'DocumentDB',
  'Neptune',
];

/** AWS limits stated in the API reference. */
export const RESTORE_TESTING_LIMITS = {
  nameMaxLength: 50,
  maxResourceArns: 30,
  windowHours: { min: 1, max: 168 },
  startWindowHours: { min: 1, max: 168 },
  selectionWindowDays: { min: 1, max: 365 },
} as const;

const NAME = /^[A-Za-z0-9_]{1,50}$/;
const nameSchema = (what: string) =>
  z
    .string()
    .regex(
      NAME,
      `${what} names use only letters, digits and underscores, 1 to ${RESTORE_TESTING_LIMITS.nameMaxLength} characters (AWS Backup's rule): replace "-", "." and spaces with "_"`,
    );

const intIn = (min: number, max: number, what: string) =>
  z
    .number()
    .int(`${what} must be a whole number of ${what.includes('Days') ? 'days' : 'hours'}`)
    .min(min, `${what} must be ${min} to ${max} (AWS Backup's limit)`)
    .max(max, `${what} must be ${min} to ${max} (AWS Backup's limit)`);

/** Tag conditions: `{ key: value }`; a bare key means the resource tag `aws:ResourceTag/<key>`. */
const tagMap = z.record(z.string().min(1), z.string());

/** Flags every item of `items` (at `key`) whose name an earlier one already has. */
export function flagDuplicateNames(
  ctx: z.RefinementCtx,
  items: readonly { readonly name: string }[],
  key: string,
  message: (name: string) => string,
): void {
  const seen = new Set<string>();
  items.forEach((item, i) => {
    if (seen.has(item.name))
      ctx.addIssue({ code: 'custom', path: [key, i, 'name'], message: message(item.name) });
    seen.add(item.name);
  });
}

export const restoreTestingSelectionSchema = z
  .strictObject({
    name: nameSchema('selection'),
    resourceType: z
      .enum(PROTECTED_RESOURCE_TYPES, {
        error: `resourceType must be one of ${PROTECTED_RESOURCE_TYPES.join(', ')} (restore testing's ProtectedResourceType)`,
      })
      .describe('ProtectedResourceType of the selection.'),
    resourceArns: z
      .array(
        z
          .string()
          // arn:<partition>:<service>:<region>:<account>:<resource>; S3 leaves region and account empty.
          .regex(
            /^(\*|arn:aws[a-z-]*:[a-z0-9-]+:([a-z]{2}(-[a-z]+)+-\d+)?:(\d{12})?:\S+)$/,
            'expected a resource ARN (arn:aws:<service>:<region>:<account>:<resource>) or "*" (every resource)',
          ),
      )
      .min(1)
      .max(
        RESTORE_TESTING_LIMITS.maxResourceArns,
        `at most ${RESTORE_TESTING_LIMITS.maxResourceArns} resourceArns per selection (AWS Backup's limit): split it into several selections, or select by tags with conditions`,
      )
      .optional()
      .describe('ProtectedResourceArns: up to 30 ARNs, or ["*"] for every resource of the type.'),
    conditions: z
      .strictObject({
        stringEquals: tagMap.optional(),
        stringNotEquals: tagMap.optional(),
      })
      .optional()
      .describe('ProtectedResourceConditions on tags: { stringEquals: { backup: nightly } }.'),
    validationWindowHours: intIn(
      RESTORE_TESTING_LIMITS.windowHours.min,
      RESTORE_TESTING_LIMITS.windowHours.max,
      'validationWindowHours',
    )
      .default(4)
      .describe('Hours the restored resource is kept for validation (1-168).'),
    overrides: z
      .record(z.string().min(1), z.string())
      .optional()
      .describe('RestoreMetadataOverrides of your own; they win over the ones the stack fills in.'),
  })
  .superRefine((s, ctx) => {
    if (s.resourceArns && s.conditions)
      ctx.addIssue({
        code: 'custom',
        path: ['conditions'],
        message:
          'a selection takes resourceArns or conditions, not both (AWS Backup refuses both): keep one, or make two selections',
      });
    if (!s.resourceArns && !s.conditions)
      ctx.addIssue({
        code: 'custom',
        path: ['resourceArns'],
        message: 'a selection needs resourceArns (e.g. ["*"]) or conditions (tags): add one of them',
      });
    if (s.resourceArns && s.resourceArns.length > 1 && s.resourceArns.includes('*'))
      ctx.addIssue({
        code: 'custom',
        path: ['resourceArns'],
        message: '"*" already selects every resource of the type: use ["*"] alone or list ARNs',
      });
  });

export const restoreTestingPlanSchema = z
  .strictObject({
    name: nameSchema('plan'),
    schedule: z
      .string()
      .regex(
        /^cron\(.+\)$/,
        'schedule must be a cron expression like "cron(0 1 ? * * *)" (daily at 01:00 in the timezone)',
      )
      .default('cron(0 1 ? * * *)')
      .describe('ScheduleExpression (cron).'),
    timezone: z.string().min(1).default('Etc/UTC').describe('ScheduleExpressionTimezone (IANA name).'),
    startWindowHours: intIn(
      RESTORE_TESTING_LIMITS.startWindowHours.min,
      RESTORE_TESTING_LIMITS.startWindowHours.max,
      'startWindowHours',
    )
      .default(24)
      .describe('Hours after the scheduled time within which the test must start (1-168).'),
    recoveryPoints: z
      .strictObject({
        algorithm: z.enum(['LATEST_WITHIN_WINDOW', 'RANDOM_WITHIN_WINDOW']).default('LATEST_WITHIN_WINDOW'),
        includeVaults: z.array(z.string().min(1)).min(1).default(['*']),
        excludeVaults: z.array(z.string().min(1)).optional(),
        types: z
          .array(z.enum(['CONTINUOUS', 'SNAPSHOT']))
          .min(1)
          .default(['CONTINUOUS', 'SNAPSHOT']),
        selectionWindowDays: intIn(
          RESTORE_TESTING_LIMITS.selectionWindowDays.min,
          RESTORE_TESTING_LIMITS.selectionWindowDays.max,
          'selectionWindowDays',
        ).default(30),
      })
      .default({
        algorithm: 'LATEST_WITHIN_WINDOW',
        includeVaults: ['*'],
        types: ['CONTINUOUS', 'SNAPSHOT'],
        selectionWindowDays: 30,
      })
      .describe('Which recovery point each test restores.'),
    selections: z.array(restoreTestingSelectionSchema).min(1, 'a plan needs at least one selection'),
  })
  .superRefine((plan, ctx) =>
    flagDuplicateNames(
      ctx,
      plan.selections,
      'selections',
      (name) => `duplicate selection name "${name}" in plan ${plan.name}: rename one`,
    ),
  );

export const restoreTestingSchema = z
  .strictObject({
    iamRoleArn: z
      .string()
      .regex(/^arn:aws[a-z-]*:iam::\d{12}:role\/.+$/, 'expected an IAM role ARN')
      .optional()
      .describe('Role AWS Backup restores with. Default: the stack creates one.'),
    plans: z.array(restoreTestingPlanSchema).default([]),
  })
  .superRefine((rt, ctx) =>
    flagDuplicateNames(
      ctx,
      rt.plans,
      'plans',
      (name) => `duplicate plan name "${name}": plan names are unique per account and region`,
    ),
  )
  .describe('Restore testing plans and selections the stack creates (optional).');

export type RestoreTestingConfig = z.output<typeof restoreTestingSchema>;
export type RestoreTestingPlanConfig = z.output<typeof restoreTestingPlanSchema>;
export type RestoreTestingSelectionConfig = z.output<typeof restoreTestingSelectionSchema>;

/** `ProtectedResourceConditions` wire shape of a selection's tag conditions. */
export function protectedResourceConditions(
  conditions: RestoreTestingSelectionConfig['conditions'],
): { StringEquals?: KeyValue[]; StringNotEquals?: KeyValue[] } | undefined {
  if (!conditions) return undefined;
  const list = (m: Record<string, string> | undefined) =>
    m
      ? Object.entries(m).map(([Key, Value]) => ({
          Key: Key.startsWith('aws:ResourceTag/') ? Key : `aws:ResourceTag/${Key}`,
          Value,
        }))
      : undefined;
  return { StringEquals: list(conditions.stringEquals), StringNotEquals: list(conditions.stringNotEquals) };
}

export interface KeyValue {
  readonly Key: string;
  readonly Value: string;
}

/** Metadata override keys, as restore testing spells them. */
export const OVERRIDE_KEYS = {
  securityGroups: 'vpcSecurityGroupIds',
  subnetGroup: 'dbSubnetGroupName',
  iamAuth: 'enableIamDatabaseAuthentication',
  instanceProfile: 'iamInstanceProfileName',
  availabilityZone: 'availabilityZone',
} as const;

/** The value that keeps the backed-up instance profile on a restored EC2 instance. */
export const USE_BACKED_UP_VALUE = 'UseBackedUpValue';

/** What the deployed stack knows that restores need (CDK tokens at synth, real ids in `doctor`). */
export interface StackFacts {
  /** The database validators' security group. */
  readonly securityGroupId?: string;
  /** The DB subnet group restores should land in. */
  readonly dbSubnetGroupName?: string;
  /** An AZ where the EBS helper has a subnet. */
  readonly ebsAvailabilityZone?: string;
}

/**
 * The overrides a selection gets: what the validators need first, the user's own on top (they win).
 * Without them a database lands in the default VPC where no validator reaches it, an EC2 instance
 * has no instance profile (so no SSM: neither the built-in ping nor command/http checks), and an EBS
 * volume lands in a random AZ, maybe one without a helper subnet.
 * @see https://docs.aws.amazon.com/aws-backup/latest/devguide/restore-testing-inferred-metadata.html
 */
export function validatorOverrides(
  config: Config,
  planName: string,
  sel: RestoreTestingSelectionConfig,
  facts: StackFacts,
): Record<string, string> {
  const out: Record<string, string> = {};
  const type = sel.resourceType;
  if (DATABASE_RESOURCE_TYPES.includes(type)) {
    if (facts.securityGroupId && facts.dbSubnetGroupName) {
      out[OVERRIDE_KEYS.securityGroups] = JSON.stringify([facts.securityGroupId]);
      out[OVERRIDE_KEYS.subnetGroup] = facts.dbSubnetGroupName;
    }
    if ((type === 'RDS' || type === 'Aurora') && usesIamAuth(config, planName, sel))
      out[OVERRIDE_KEYS.iamAuth] = 'true';
  }
  if (type === 'EC2') out[OVERRIDE_KEYS.instanceProfile] = USE_BACKED_UP_VALUE;
  if (type === 'EBS' && facts.ebsAvailabilityZone)
    out[OVERRIDE_KEYS.availabilityZone] = facts.ebsAvailabilityZone;
  return { ...out, ...sel.overrides };
}

/** Whether a profile the selection's restores match uses IAM database authentication. */
function usesIamAuth(config: Config, planName: string, sel: RestoreTestingSelectionConfig): boolean {
  const arns = sel.resourceArns?.filter((a) => a !== '*') ?? [];
  const candidates = arns.length
    ? arns.map((arn) =>
        matchProfile(config, {
          resourceType: sel.resourceType,
          sourceResourceArn: arn,
          restoreTestingPlanName: planName,
        }),
      )
    : config.profiles.filter((p) => {
        const t = p.match.resourceType;
        return t === undefined || [t].flat().includes(sel.resourceType);
      });
  return candidates.some((p) => p?.connection?.iamAuth === true);
}

/**
 * How long a validator may take in the worst case, in minutes: its Lambda timeout times the three
 * attempts Lambda's async retries allow; EBS adds the helper flow (60 min helper + 20 min margin, the
 * state machine's timeout). A validation window shorter than this can close before the verdict.
 */
export const VALIDATOR_WORST_CASE_MINUTES: Readonly<Record<ProtectedResourceType, number>> = {
  RDS: 30,
  Aurora: 45,
  DocumentDB: 45,
  Neptune: 45,
  EC2: 30,
  DynamoDB: 30,
  EFS: 30,
  FSx: 30,
  S3: 30,
  EBS: 90,
};

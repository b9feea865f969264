/**
 * The runtime table of resource types, light enough for every Lambda: which resource types each
 * validator serves, the one place that says so. Everything else (the types a config may name, the
 * validator folders, infra's rules) derives from it; a new validator type starts here, and
 * functions/types.ts then fails to compile until the type has its module.
 * @see https://docs.aws.amazon.com/aws-backup/latest/devguide/restore-testing.html
 */

/**
 * Validator folder under `functions/` (the lower-cased resource type) → the resource types it serves,
 * as they appear in `Restore Job State Change` events (`detail.resourceType`) and `DescribeRestoreJob`.
 */
export const RESOURCE_TYPES_BY_VALIDATOR = {
  rds: ['RDS'],
  aurora: ['Aurora'],
  ebs: ['EBS'],
  ec2: ['EC2'],
  s3: ['S3'],
  dynamodb: ['DynamoDB', 'DynamoDB.FullyManaged'],
  efs: ['EFS'],
  fsx: ['FSx'],
  documentdb: ['DocumentDB'],
  neptune: ['Neptune'],
} as const;

export type ValidatorType = keyof typeof RESOURCE_TYPES_BY_VALIDATOR;
export type ResourceType = (typeof RESOURCE_TYPES_BY_VALIDATOR)[ValidatorType][number];

/** Handler folder names under `functions/`. */
export const VALIDATOR_TYPES = Object.keys(RESOURCE_TYPES_BY_VALIDATOR) as readonly ValidatorType[];

/** The resource types AWS Backup restore testing can restore. */
export const RESOURCE_TYPES: readonly ResourceType[] = VALIDATOR_TYPES.flatMap(
  (t) => RESOURCE_TYPES_BY_VALIDATOR[t],
);

export function isResourceType(value: string): value is ResourceType {
  return (RESOURCE_TYPES as readonly string[]).includes(value);
}

/** The validator folder that serves a resource type (case-insensitive), or undefined. */
export function validatorTypeFor(resourceType: string): ValidatorType | undefined {
  const lower = resourceType.toLowerCase();
  return VALIDATOR_TYPES.find((t) =>
    RESOURCE_TYPES_BY_VALIDATOR[t].some((served) => served.toLowerCase() === lower),
  );
}

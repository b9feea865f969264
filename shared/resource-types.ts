/**
 * The resource types AWS Backup restore testing can restore, as they appear in
 * `Restore Job State Change` events (`detail.resourceType`) and `DescribeRestoreJob`.
 * @see https://docs.aws.amazon.com/aws-backup/latest/devguide/restore-testing.html
 */
export const RESOURCE_TYPES = [
  'RDS',
  'Aurora',
  'EBS',
  'EC2',
  'S3',
  'DynamoDB',
  'DynamoDB.FullyManaged',
  'EFS',
  'FSx',
  'DocumentDB',
  'Neptune',
] as const;
export type ResourceType = (typeof RESOURCE_TYPES)[number];

/** Handler folder names under `functions/` (the lower-cased resource type; DynamoDB serves both). */
export const VALIDATOR_TYPES = [
  'rds',
  'aurora',
  'ebs',
  'ec2',
  's3',
  'dynamodb',
  'efs',
  'fsx',
  'documentdb',
  'neptune',
] as const;
export type ValidatorType = (typeof VALIDATOR_TYPES)[number];

/** Which resource types each validator function serves. */
export const RESOURCE_TYPES_BY_VALIDATOR: Readonly<Record<ValidatorType, readonly ResourceType[]>> = {
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
};

export function isResourceType(value: string): value is ResourceType {
  return (RESOURCE_TYPES as readonly string[]).includes(value);
}

/** The validator folder that serves a resource type (case-insensitive), or undefined. */
export function validatorTypeFor(resourceType: string): ValidatorType | undefined {
  const lower = resourceType.toLowerCase();
  for (const [type, served] of Object.entries(RESOURCE_TYPES_BY_VALIDATOR)) {
    if (served.some((t) => t.toLowerCase() === lower)) return type as ValidatorType;
  }
  return undefined;
}
